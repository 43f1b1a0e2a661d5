"""Hyper-V Replica method handlers and their state machine (hyperv notes 2.6, 3.2, 3.3); methods.py keys them.

Msvm_ReplicationService.InitiateFailover / RevertFailover / CommitFailover / TestReplicaSystem and
Msvm_ComputerSystem.RequestReplicationStateChange.  Method-level failures are return codes (HTTP 200), never faults;
faults only come from references that do not resolve (raised by the caller's helpers).
"""

from . import faults
from .cim import CimRef
from .hyperv import REPLICATION_TYPES, HyperVHost, VirtualMachine
from .invocation import INVALID_PARAMETER, SYSTEM_IN_USE, Invocation, MethodResult, Rejected

REPLICA_MODES = (2, 4)        # Replica, Extended Replica
PRIMARY = 1
REPLICATING, SYNCED, RECOVERED, COMMITTED, SUSPENDED, CRITICAL, FAILOVER_IN_PROGRESS = 3, 4, 5, 6, 7, 8, 12
RESYNCHRONIZING, DISK_UPDATE = 10, 15
RUNNING_STATES = (2, 9)       # running, paused: the VM is not off


def vm_from_ref(host: HyperVHost, ref: CimRef | None) -> VirtualMachine:
    """The VM a ComputerSystem REF parameter names.

    NULL, the host itself or another class -> 32773.  A well-formed reference to a VM that does not exist -> the
    not-found fault (a:DestinationUnreachable 2150858752) [infer: wire notes 8.3 leaves fault vs 32773 open].
    """
    if ref is None or ref.class_name.lower() != "msvm_computersystem":
        raise Rejected(INVALID_PARAMETER)
    name = ref.key("Name")
    if str(ref.key("CreationClassName")).lower() == "msvm_computersystem" and name is not None:
        if str(name).lower() == host.name.lower():
            raise Rejected(INVALID_PARAMETER)
        vm = host.vm_by_id(str(name))
        if vm is not None:
            return vm
    raise faults.not_found(ref.path(), "ExecMethod", faults.HYPERV_PROVIDER)


def _running_blocked(host: HyperVHost, vm: VirtualMachine) -> bool:
    return vm.power in RUNNING_STATES and host.config.running_vm_failover == "reject"


def _snapshot(vm: VirtualMachine, ref: CimRef | None) -> str | None:
    """The kind of recovery point a SnapshotSettingData REF names (None = latest); 32773 if not one of vm's."""
    if ref is None:
        return None
    if ref.class_name.lower() in ("msvm_virtualsystemsettingdata", "cim_virtualsystemsettingdata"):
        wanted = str(ref.key("InstanceID") or "").lower()
        for point in vm.recovery_points:
            if point.instance_id.lower() == wanted:
                return point.kind
    raise Rejected(INVALID_PARAMETER)


def initiate_failover(inv: Invocation) -> MethodResult:
    """Replica 3 -> 12 (during the job, [infer]) -> 5; FailedOverReplicationType 1/2/3 by point kind."""
    host = inv.host
    vm = vm_from_ref(host, inv.params.get("ComputerSystem"))
    kind = _snapshot(vm, inv.params.get("SnapshotSettingData"))
    if vm.pending_jobs:
        return MethodResult(SYSTEM_IN_USE)
    # Start-VMFailover calls InitiateFailover from 3 and 15 (Disk update in progress) and resumes 7 and 10 to 3 first
    # (decompiled StartVMFailover), so those two are [infer] refused by WMI itself.
    if vm.mode not in REPLICA_MODES or vm.state not in (REPLICATING, DISK_UPDATE) or _running_blocked(host, vm):
        return inv.invalid_state(vm)

    def success() -> None:
        vm.state = RECOVERED
        vm.failed_over_type = REPLICATION_TYPES[kind] if kind else 1

    def failure() -> None:
        vm.state = REPLICATING

    vm.state = FAILOVER_IN_PROGRESS
    return inv.start_job(vm, on_success=success, on_failure=failure)


def vm_ref(vm: VirtualMachine) -> CimRef:
    return CimRef.make("Msvm_ComputerSystem", {"CreationClassName": "Msvm_ComputerSystem", "Name": vm.id})


def test_replica_system(inv: Invocation) -> MethodResult:
    """A test VM "<replica> - Test" from the latest point or the one given; the replica's own state is unchanged
    (testreplicasystem-msvm-replicationservice; hyperv notes 3.1, 3.2). From Replicating or Suspended only, as
    Start-VMFailover -AsTest allows (decompiled ValidateReplicationForFailover), and one test VM per replica at a
    time (Microsoft's 2012 team blog: "the system allows only one TFO operation at a time"); how Windows refuses
    either is not documented: [infer] 32775 (or the failing job of invalid_state: job). The test VM exists from the
    call (ResultingSystem names it) and is affected by the job with the replica; a failed job removes it [infer]."""
    host = inv.host
    vm = vm_from_ref(host, inv.params.get("ComputerSystem"))
    _snapshot(vm, inv.params.get("SnapshotSettingData"))
    if vm.pending_jobs:
        return MethodResult(SYSTEM_IN_USE)
    if vm.mode not in REPLICA_MODES or vm.state not in (REPLICATING, SUSPENDED) or host.test_vm_of(vm) is not None:
        return inv.invalid_state(vm)
    test = host.add_test_vm(vm)

    def failure() -> None:
        if host.vm_by_id(test.id) is test:
            host.remove_vm(test)

    result = inv.start_job(vm, on_failure=failure, affects=(test.id,))
    result.outputs["ResultingSystem"] = vm_ref(test)
    return result


def revert_failover(inv: Invocation) -> MethodResult:
    """Replica 5 -> 3 (failover disk discarded) or primary 4 -> 3 (cancelled planned failover), both [infer]; from 12
    too, with no job left on the VM, as Stop-VMFailover accepts RecoveryInProgress (decompiled StopVMFailover)."""
    vm = vm_from_ref(inv.host, inv.params.get("ComputerSystem"))
    if vm.pending_jobs:
        return MethodResult(SYSTEM_IN_USE)
    replica_ok = (vm.mode in REPLICA_MODES and vm.state in (RECOVERED, FAILOVER_IN_PROGRESS)
                  and not _running_blocked(inv.host, vm))
    primary_ok = vm.mode == PRIMARY and vm.state in (SYNCED, FAILOVER_IN_PROGRESS)
    if not (replica_ok or primary_ok):
        return inv.invalid_state(vm)

    def success() -> None:
        vm.state = REPLICATING
        if vm.mode in REPLICA_MODES:
            vm.failed_over_type = 0

    return inv.start_job(vm, on_success=success)


def commit_failover(inv: Invocation) -> MethodResult:
    """Replica 5 -> 6; the recovery points are merged away.  A running VM is fine (commit follows a test boot)."""
    vm = vm_from_ref(inv.host, inv.params.get("ComputerSystem"))
    if vm.pending_jobs:
        return MethodResult(SYSTEM_IN_USE)
    if vm.mode not in REPLICA_MODES or vm.state != RECOVERED:
        return inv.invalid_state(vm)

    def success() -> None:
        vm.state = COMMITTED
        vm.recovery_points.clear()

    return inv.start_job(vm, on_success=success)


# RequestedState -> states it may be requested from; the mode check is separate.
# Resume (3) is requested by the Hyper-V PowerShell client from 7, 8, 9 and 11 (Resume-VMReplication) and from 7 and
# 10 (Start-VMFailover resumes a Suspended or Resynchronizing replica before InitiateFailover); decompiled
# ResumeVMReplication / StartVMFailover. Whether Windows accepts 3 from 9 and 11 rather than resynchronizing: [infer].
_STATE_CHANGES = {
    SUSPENDED: (REPLICATING,),                            # suspend
    REPLICATING: (SUSPENDED, CRITICAL, 9, RESYNCHRONIZING, 11),   # resume
    SYNCED: (REPLICATING,),                               # planned failover "prepare", primary only, VM off
}
_ALLOWED_REQUESTS = (1, 2, 3, 4, 7, 9)


def request_state_change(inv: Invocation) -> MethodResult:
    """Msvm_ComputerSystem.RequestReplicationStateChange: 3 -> 7 suspend, 7 -> 3 resume, primary 3 -> 4 prepare.

    The doc says the state takes the requested value while the change is in progress, so it is set at once and
    the job (type 96) only reports completion.
    """
    vm = inv.host.vm_by_id(str(inv.target.get("Name")))
    if vm is None:
        return MethodResult(INVALID_PARAMETER)   # the host object has no replication state to change
    requested = inv.params.get("RequestedState")
    if requested not in _ALLOWED_REQUESTS:
        return MethodResult(INVALID_PARAMETER)
    if vm.pending_jobs:
        return MethodResult(SYSTEM_IN_USE)
    sources = _STATE_CHANGES.get(requested, ())
    valid = vm.mode != 0 and vm.state in sources
    if requested == SYNCED:
        valid = valid and vm.mode == PRIMARY and vm.power == 3
    if not valid:
        return inv.invalid_state(vm)
    previous, vm.state = vm.state, requested

    def failure() -> None:
        vm.state = previous      # [infer] a failed change (only by fault injection) leaves the state as it was

    return inv.start_job(vm, on_failure=failure)
