"""Msvm_VirtualSystemManagementService.DestroySystem: removing a VM (methods.py keys it).

Source: MicrosoftDocs/win32 `desktop-src/HyperV_v2/destroysystem-msvm-virtualsystemmanagementservice.md` (AffectedSystem
REF in, Job out; "the virtual machine must be in the powered off or saved state"). The page lists the DMTF return codes
(5 Invalid State), but Microsoft's own Go client (microsoft/wmi, DeleteVirtualMachine) meets 32775 from real hosts and
retries on it, so a running or paused VM gets 32775 here. Windows destroys any VM it is asked to, test VM or not: the
simulator does too, and records each one (GET /_sim/destroyed), so that the tests can prove the collection never asks
for the wrong one. The VM disappears when the job ends [infer]; JobType 3 "Destroy Virtual Machine" (msvm-concretejob;
whether a test VM's removal reports 103 "Remove Test Replica" instead is not documented).
"""

from .invocation import SYSTEM_IN_USE, Invocation, MethodResult
from .replica import vm_from_ref

OFF, SAVED = 3, 6


def destroy_system(inv: Invocation) -> MethodResult:
    host = inv.host
    vm = vm_from_ref(host, inv.params.get("AffectedSystem"))
    if vm.pending_jobs:
        return MethodResult(SYSTEM_IN_USE)
    if vm.power not in (OFF, SAVED):
        return inv.invalid_state(vm)

    def success() -> None:
        if host.vm_by_id(vm.id) is vm:
            host.destroy(vm)

    return inv.start_job(vm, on_success=success)
