"""Msvm_ComputerSystem.RequestStateChange: starting, turning off, saving and pausing a VM (methods.py keys it).

Sources: MicrosoftDocs/win32 `desktop-src/HyperV_v2/requeststatechange-msvm-computersystem.md` (RequestedState 2
Enabled, 3 Disabled = turn off, 6 Offline = save, 9 Quiesce = pause, 10 Reboot, 11 Reset; 4 Shut Down is valid in V1
only; 32775 "Invalid state for this operation"), and the transitions the Hyper-V PowerShell client allows (decompiled
`VirtualMachine.gm_StateTransitionMap`: start from Off, Saved or Paused; turn off from Running, Paused or Saved; save
from Running or Paused; pause, reset and reboot from Running). [infer] A Replica VM that has not failed over cannot be
started: Windows keeps it an offline copy of the primary (hyperv guest-power notes 1); how WMI refuses it is
UNCERTAIN, so it follows the fleet's invalid_state choice like the replication methods. [infer] The power state
changes when the job ends; asking for the state the VM is already in is refused with 32775.
"""

from .hyperv import VirtualMachine
from .invocation import INVALID_PARAMETER, SYSTEM_IN_USE, Invocation, MethodResult

RUNNING, OFF, SAVED, PAUSED, REBOOT, RESET = 2, 3, 6, 9, 10, 11
# RequestedState -> the power states it may be requested from.
TRANSITIONS = {
    RUNNING: (OFF, SAVED, PAUSED),
    OFF: (RUNNING, PAUSED, SAVED),
    SAVED: (RUNNING, PAUSED),
    PAUSED: (RUNNING,),
    REBOOT: (RUNNING,),
    RESET: (RUNNING,),
}
REPLICA_MODES = (2, 4)
STARTS_WHEN_FAILED_OVER = (5, 6, 12)   # Recovered, Committed, failover in progress [infer]


def _cannot_start(vm: VirtualMachine) -> bool:
    """A Replica or Extended Replica VM starts only once it has failed over."""
    return vm.mode in REPLICA_MODES and vm.state not in STARTS_WHEN_FAILED_OVER


def request_state_change(inv: Invocation) -> MethodResult:
    vm = inv.host.vm_by_id(str(inv.target.get("Name")))
    requested = inv.params.get("RequestedState")
    if vm is None or requested not in TRANSITIONS:
        return MethodResult(INVALID_PARAMETER)   # the host object, or a state that is not one to request
    if vm.pending_jobs:
        return MethodResult(SYSTEM_IN_USE)
    if vm.power not in TRANSITIONS[requested] or (requested == RUNNING and _cannot_start(vm)):
        return inv.invalid_state(vm)
    settled = RUNNING if requested in (REBOOT, RESET) else requested

    def success() -> None:
        inv.host.set_power(vm, settled)

    return inv.start_job(vm, on_success=success)
