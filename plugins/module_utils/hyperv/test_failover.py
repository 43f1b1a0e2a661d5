# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test failover: a test VM for each replica (TestReplicaSystem), and removing it (DestroySystem), never another VM.

Decided as ``Start-VMFailover -AsTest`` and ``Stop-VMFailover`` decide (decompiled StartVMFailover, StopVMFailover):
a test failover needs a Replica VM that is off, Replicating or Suspended and replicated at least once; the test VM
is found through Msvm_ReplicaSystemDependency from its replica (never by name: "<replica> - Test" is only what
Windows calls it, and any VM may carry that name); removing it turns a running or paused one off first, then
destroys it. DestroySystem destroys whatever VM it is given, so the destroy step has a guard: just before it is
sent, the target must still be a Test Replica (mode 3) linked to that very replica, read again in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import operations, recovery_points
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.converge import Converge, Plan, VmResult
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import (
    DESTROY_SYSTEM, TEST_REPLICA_SYSTEM, TURN_OFF)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.point_choice import PointChooser, PointOptions
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import (
    MODE_EXTENDED_REPLICA, MODE_NONE, MODE_PRIMARY, MODE_REPLICA, MODE_TEST_REPLICA, POWER_OFF, RECOVERED,
    REPLICATING, VM, find_vms, read_vms, test_vms_of)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter

PRESENT = "present"
ABSENT = "absent"

_REPLICA_MODES = (MODE_REPLICA, MODE_EXTENDED_REPLICA)
SUSPENDED = 7
# Start-VMFailover -AsTest accepts these states only (not Resynchronizing nor Disk update in progress).
_TESTS_FROM = (REPLICATING, SUSPENDED)
POWER_RUNNING, POWER_PAUSED = 2, 9
INVALID_STATE = 32775


def _mode_error(vm: VM) -> str:
    if vm.mode == MODE_TEST_REPLICA:
        return ("VM %s is a Test Replica itself: name the Replica VM it was made from (its test VM is found from it, "
                "never by name)" % vm.label)
    if vm.mode == MODE_PRIMARY:
        return ("VM %s is the Primary (replication state %s): a test failover runs on its Replica VM; target the "
                "replica server instead" % (vm.label, vm.state_name))
    if vm.mode == MODE_NONE:
        return "VM %s is not replicated (replication mode None): there is no replica to test" % vm.label
    return "VM %s has replication mode %s, which has no test failover" % (vm.label, vm.mode_name)


def _cannot_test(vm: VM) -> str:
    if vm.state == RECOVERED:
        return ("VM %s is Recovered (failed over): a test failover needs Replicating or Suspended; revert the failover "
                "(hyperv.replica.failover state=reverted) first, or test with the failed-over VM itself" % vm.label)
    return ("VM %s is %s: a test failover needs Replicating or Suspended (Start-VMFailover -AsTest); wait until "
            "Get-VMReplication shows Replicating and run again" % (vm.label, vm.state_name))


def plan_present(vm: VM, test_vm: Optional[VM]) -> Plan:
    """Start-VMFailover -AsTest's rules: nothing when the replica has a test VM already."""
    if vm.mode not in _REPLICA_MODES:
        return Plan(error=_mode_error(vm))
    if test_vm is not None:
        return Plan()
    if vm.state not in _TESTS_FROM:
        return Plan(error=_cannot_test(vm))
    if vm.power != POWER_OFF:
        return Plan(error="VM %s is %s (%s); a test failover needs the replica off, as Start-VMFailover -AsTest does"
                          % (vm.label, vm.power_name, vm.state_name))
    if vm.last_replication is None:
        return Plan(error="VM %s has never received a replication (no LastReplicationTime): there is nothing to test; "
                          "wait for initial replication to complete (Get-VMReplication)" % vm.label)
    return Plan.calling(TEST_REPLICA_SYSTEM.step())


def plan_absent(vm: VM, test_vm: Optional[VM], guard: Callable[[Any, List[Any]], None]) -> Plan:
    """Stop-VMFailover's test VM branch: a running or paused test VM is turned off, then destroyed (a saved one as it
    is); the destroy goes through ``guard`` first."""
    if vm.mode not in _REPLICA_MODES:
        return Plan(error=_mode_error(vm))
    if test_vm is None:
        return Plan()
    destroy = DESTROY_SYSTEM.step().on(test_vm, guard)
    if test_vm.power in (POWER_RUNNING, POWER_PAUSED):
        return Plan.calling(TURN_OFF.on(test_vm), destroy)
    return Plan.calling(destroy)


@dataclass
class TestFailoverResult(VmResult):
    """One replica of the task: its test VM before and after, the recovery point of a test failover."""

    __test__ = False  # not a pytest test class, whatever its name

    test_vm: Optional[VM] = None
    test_after: Optional[VM] = None
    recovery_point: Optional[Dict[str, Any]] = None
    point: Optional[recovery_points.RecoveryPoint] = None

    @property
    def turned_off(self) -> bool:
        call = self.made(TURN_OFF.method)
        return call is not None and ((call.accepted and not call.error) or (call.dry_run and not self.error))

    def test_vm_now(self) -> Optional[VM]:
        """The test VM as the task leaves it (as found, in check mode or when nothing was done)."""
        if self.after is not None or (self.call is not None and not self.call.dry_run):
            return self.test_after
        return self.test_vm

    def as_dict(self, timestamp: Optional[Callable[[Optional[float]], Optional[str]]] = None) -> Dict[str, Any]:
        call = self.call
        job = call.job if call else None
        test = self.test_vm_now()
        moments = {"queued": call.queued_at, "invoked": call.invoked_at, "job_started": call.started_at,
                   "job_finished": call.finished_at} if call else {}
        return {
            "name": self.vm.name, "id": self.vm.id, "changed": self.changed,
            "operation": self.plan.method.name if self.plan.method else None,
            "state": (self.after or self.vm).state_name, "mode": self.vm.mode_name,
            "test_vm": {"name": test.name, "id": test.id, "power_state": test.power_name} if test else None,
            "recovery_point": self.recovery_point,
            "job_id": job.id if job else None, "job_state": job.state_name if job else None,
            "timings": {key: timestamp(moments.get(key)) if timestamp else None
                        for key in ("queued", "invoked", "job_started", "job_finished")},
            "turned_off": self.turned_off, "error": self.error or None,
        }


@dataclass
class Request(PointOptions):
    """The module's parameters, as the domain needs them (the recovery point options as in failover.Request)."""

    vms: List[str]
    desired: str
    recovery_point: str = recovery_points.LATEST
    recovery_point_before: Optional[datetime] = None
    wait: bool = True
    check_mode: bool = False
    max_concurrent: int = 1


class TestFailoverRun:
    """One test_failover module run: find each replica's test VM, plan, converge, find the test VMs again."""

    __test__ = False

    def __init__(self, cim: CimClient, waiter: Waiter) -> None:
        self.cim = cim
        self.converge = Converge(cim, waiter)
        self.points = PointChooser(cim)
        # Test VM GUID -> the replica it was found for: what the destroy guard checks the link against.
        self._replica_of: Dict[str, VM] = {}

    @property
    def polls(self) -> int:
        return self.converge.polls

    def run(self, request: Request) -> List[TestFailoverResult]:
        vms = find_vms(self.cim, request.vms)
        replicas = [vm for vm in vms if vm.mode in _REPLICA_MODES]
        tests = test_vms_of(self.cim, replicas)
        results = [TestFailoverResult(vm=vm, plan=Plan(), test_vm=tests.get(vm.id)) for vm in vms]
        for result in results:
            if result.test_vm is not None:
                self._replica_of[result.test_vm.id] = result.vm
            result.plan = (plan_present(result.vm, result.test_vm) if request.desired == PRESENT
                           else plan_absent(result.vm, result.test_vm, self.still_its_test_vm))
        if request.desired == PRESENT:
            self.points.choose([r for r in results if r.acting], request)
        self.converge.apply(results, request.max_concurrent, request.wait, request.check_mode)
        if not request.check_mode and any(r.calls for r in results):
            self._read_test_vms(results, request)
        return results

    def still_its_test_vm(self, cim: CimClient, calls: List[operations.Call]) -> None:
        """The destroy guard: each target must still be a Test Replica linked to the replica it was found for, read
        now (the VMs, then their links: three queries for all the calls). Anything else, a VM replaced or relinked
        since the lookup included, is refused here and never sent. A target that no longer exists at all is what
        the task wants (another run or an operator removed it): nothing is sent and the VM does not fail."""
        now = read_vms(cim, [call.vm.id for call in calls])
        replicas = [self._replica_of[call.vm.id] for call in calls if call.vm.id in self._replica_of]
        linked = test_vms_of(cim, replicas, known=now)
        for call in calls:
            replica = self._replica_of.get(call.vm.id)
            if call.vm.id not in now:
                call.followed = True  # nothing to send, nothing to wait for
                call.note = "the test VM was gone before the destroy was sent (another run or an operator removed it)"
                continue
            test = linked.get(replica.id) if replica is not None else None
            if replica is None or test is None or test.id != call.vm.id or test.mode != MODE_TEST_REPLICA:
                what = ("is no longer linked to it" if test is None or test.id != call.vm.id
                        else "is no longer a Test Replica (mode %s)" % test.mode_name)
                call.error = ("%s was not sent: VM %s was found as the test VM of %s but %s now; nothing was destroyed, "
                              "check the VMs with Get-VM and Get-VMReplication" % (
                                  call.method.name, call.vm.label, replica.label if replica else "its replica", what))

    def _read_test_vms(self, results: List[TestFailoverResult], request: Request) -> None:
        """Each replica's test VM after the calls, and what it says of them: a test failover whose job ended with no
        test VM linked is a failure; one refused because another run had made it meanwhile is not."""
        after = test_vms_of(self.cim, [r.vm for r in results if r.vm.mode in _REPLICA_MODES])
        for result in results:
            result.test_after = after.get(result.vm.id)
            call = result.call
            if call is None or not request.wait:
                continue
            if request.desired == PRESENT:
                if call.code == INVALID_STATE and result.test_after is not None and result.test_vm is None:
                    call.error = ""
                    call.note = "the host refused it because the replica has a test VM already (another run made it)"
                elif not call.error and result.test_after is None and not result.error:
                    result.problem = ("%s ended but VM %s has no test VM linked to it: check it with Get-VM and "
                                      "Get-VMReplication" % (call.what(), result.vm.label))
            elif not result.error and result.test_after is not None and result.test_after.id == call.vm.id:
                result.problem = "%s ended but test VM %s is still there: check it with Get-VM" % (
                    call.what(), call.vm.label)
