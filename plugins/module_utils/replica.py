# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failing over and reverting Replica VMs: what each VM needs, doing it, and what happened.

Idempotency comes from the VM's replication state (hyperv-replica-wmi notes 2.3, 3.1-3.4): a VM already
where it should be is left alone; a VM where the operation is impossible gets a message naming it, its
state and the way out, and the other VMs of the call go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils import jobs, operations, recovery_points, wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim import CimClient, Reference
from ansible_collections.hyperv.replica.plugins.module_utils.vm import (
    COMMITTED, MODE_EXTENDED_REPLICA, MODE_NONE, MODE_PRIMARY, MODE_REPLICA, MODE_TEST_REPLICA, POWER_OFF,
    RECOVERED, REPLICATING, REPLICATION_STATES, SYNCED_COMPLETE, VM, find_vms, read_vms)
from ansible_collections.hyperv.replica.plugins.module_utils.waiter import Waiter
from ansible_collections.hyperv.replica.plugins.module_utils.wsman import WSManError

FAILED_OVER = "failed_over"
REVERTED = "reverted"

_REPLICA_MODES = (MODE_REPLICA, MODE_EXTENDED_REPLICA)
_RESUME_FIRST = (7, 9, 10, 11, 15)
FAILOVER_IN_PROGRESS = 12
# What a failover to the latest point in time (SnapshotSettingData NULL) reports as its recovery point.
LATEST_POINT = {"id": None, "name": "latest", "type": "latest", "created": None}


@dataclass
class Plan:
    """What one VM needs: ``method`` to call, nothing (both empty), or an ``error`` explaining why not."""

    method: str = ""
    expected_state: Optional[int] = None
    error: str = ""


def _mode_error(vm: VM) -> str:
    if vm.mode == MODE_PRIMARY:
        return ("VM %s is the Primary (replication state %s): failover runs on its Replica VM; target the replica "
                "server instead" % (vm.label, vm.state_name))
    if vm.mode == MODE_TEST_REPLICA:
        return ("VM %s is a Test Replica (made by a test failover): fail over or revert the Replica VM it was "
                "created from, and remove the test VM with Stop-VMFailover" % vm.label)
    if vm.mode == MODE_NONE:
        return ("VM %s is not replicated (replication mode None): enable replication (Enable-VMReplication) or "
                "remove it from vms" % vm.label)
    return "VM %s has replication mode %s, which this module does not fail over" % (vm.label, vm.mode_name)


def _committed_error(vm: VM) -> str:
    return ("VM %s is Committed: its failover was committed (Complete-VMFailover) and cannot be repeated or "
            "reverted; reverse replication (Set-VMReplication -Reverse) to protect it again" % vm.label)


def _must_be_off(vm: VM, operation: str) -> str:
    return ("VM %s is %s (%s); %s needs it off: shut it down or turn it off (Stop-VM) and run again"
            % (vm.label, vm.power_name, vm.state_name, operation))


def plan_failover(vm: VM) -> Plan:
    if vm.mode not in _REPLICA_MODES:
        return Plan(error=_mode_error(vm))
    if vm.state == RECOVERED:
        return Plan()
    if vm.state == COMMITTED:
        return Plan(error=_committed_error(vm))
    if vm.state == FAILOVER_IN_PROGRESS:
        return Plan(error="VM %s is %s: a failover job is still running on it; wait until Get-VMReplication shows "
                          "Recovered (or Replicating if it failed), then run again" % (vm.label, vm.state_name))
    if vm.state in _RESUME_FIRST:
        return Plan(error="VM %s is %s: resume replication (Resume-VMReplication) and wait until it is Replicating, "
                          "then run again" % (vm.label, vm.state_name))
    if vm.state != REPLICATING:
        return Plan(error="VM %s is %s: failover needs Replicating; check it with Get-VMReplication, bring replication "
                          "back to Replicating and run again" % (vm.label, vm.state_name))
    if vm.power != POWER_OFF:
        return Plan(error=_must_be_off(vm, "failover"))
    return Plan(method="InitiateFailover", expected_state=RECOVERED)


def plan_revert(vm: VM) -> Plan:
    if vm.mode == MODE_PRIMARY and vm.state == SYNCED_COMPLETE:
        # A primary prepared for planned failover: Stop-VMFailover cancels it with RevertFailover.
        return Plan(method="RevertFailover", expected_state=REPLICATING)
    if vm.mode not in _REPLICA_MODES:
        return Plan(error=_mode_error(vm))
    if vm.state == REPLICATING:
        return Plan()
    if vm.state == COMMITTED:
        return Plan(error=_committed_error(vm))
    if vm.state != RECOVERED:
        return Plan(error="VM %s is %s: there is no failover to revert (revert needs Recovered); check it with "
                          "Get-VMReplication" % (vm.label, vm.state_name))
    if vm.power != POWER_OFF:
        return Plan(error=_must_be_off(vm, "revert"))
    return Plan(method="RevertFailover", expected_state=REPLICATING)


def plan(vm: VM, desired: str) -> Plan:
    return plan_failover(vm) if desired == FAILED_OVER else plan_revert(vm)


@dataclass
class VmResult:
    """What the module reports for one VM."""

    vm: VM
    plan: Plan
    changed: bool = False
    state_after: str = ""
    recovery_point: Optional[Dict[str, Any]] = None
    point: Optional[recovery_points.RecoveryPoint] = None
    job: Optional[jobs.Job] = None
    # Seconds on the run's waiter: ready to start, request sent, host answered (a job started, or the work was
    # done at once), job seen finished.
    queued_at: Optional[float] = None
    invoked_at: Optional[float] = None
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    error: str = ""
    # Something the operator should know that is not an error (shown as a warning), e.g. a lost answer resolved.
    note: str = ""

    def timings(self, timestamp: Optional[Callable[[Optional[float]], Optional[str]]]) -> Dict[str, Optional[str]]:
        moments = (("queued", self.queued_at), ("invoked", self.invoked_at), ("job_started", self.started_at),
                   ("job_finished", self.finished_at))
        return {key: timestamp(value) if timestamp else None for key, value in moments}

    def as_dict(self, timestamp: Optional[Callable[[Optional[float]], Optional[str]]] = None) -> Dict[str, Any]:
        """The module's entry for this VM; ``timestamp`` turns the run's seconds into times of day."""
        waited = None
        if self.invoked_at is not None and self.finished_at is not None:
            waited = round(self.finished_at - self.invoked_at, 3)
        return {
            "name": self.vm.name, "id": self.vm.id, "changed": self.changed, "operation": self.plan.method or None,
            "state_before": self.vm.state_name, "state_after": self.state_after or self.vm.state_name,
            "mode": self.vm.mode_name, "power_state": self.vm.power_name, "recovery_point": self.recovery_point,
            "job_id": self.job.id if self.job else None, "job_state": self.job.state_name if self.job else None,
            "percent_complete": self.job.percent if self.job else None, "seconds_waited": waited,
            "timings": self.timings(timestamp),
            "error": self.error or None,
        }


@dataclass
class Request:
    """The module's parameters, as the domain needs them."""

    vms: List[str]
    desired: str
    recovery_point: str = recovery_points.LATEST
    wait: bool = True
    check_mode: bool = False
    # The newest point taken at or before this time (aware); excludes a recovery_point other than latest.
    recovery_point_before: Optional[datetime] = None
    # Method calls in flight at once (operations.start_all), each on its own WinRM session.
    max_concurrent: int = 1

    @property
    def picks_a_point(self) -> bool:
        """Whether failovers need a recovery point read from the host (anything but the latest point in time)."""
        return self.recovery_point_before is not None or self.recovery_point != recovery_points.LATEST

    @property
    def names_a_point(self) -> bool:
        """Whether recovery_point is a point's InstanceID or name (not latest / latest_application_consistent)."""
        return self.recovery_point_before is None and self.recovery_point not in (
            recovery_points.LATEST, recovery_points.LATEST_APPLICATION_CONSISTENT)


def replication_service(cim: CimClient) -> Reference:
    """The host's single Msvm_ReplicationService (Microsoft's samples take the first result too)."""
    services = cim.query(wql.select("Msvm_ReplicationService"))
    if not services:
        raise WSManError("the host has no Msvm_ReplicationService: is the Hyper-V role installed?")
    return services[0].reference()


class ReplicaRun:
    """One module run: plan every VM, start what needs starting, wait, and read back the truth."""

    def __init__(self, cim: CimClient, waiter: Waiter) -> None:
        self.cim = cim
        self.waiter = waiter
        # Poll ticks spent waiting for jobs (each reads every pending job with one query per jobs.POLL_CHUNK).
        self.polls = 0
        # Recovery point id or name -> label of the VM that has it ("" for none), looked up once per run.
        self._owners: Dict[str, str] = {}

    def converge(self, request: Request) -> List[VmResult]:
        vms = find_vms(self.cim, request.vms)
        results = [VmResult(vm=vm, plan=plan(vm, request.desired)) for vm in vms]
        for result in results:
            result.error = result.plan.error
        acting = [r for r in results if r.plan.method and not r.error]
        self._choose_points([r for r in acting if r.plan.method == "InitiateFailover"], request)
        acting = [r for r in acting if not r.error]
        if request.check_mode:
            for result in acting:
                result.changed = True
                result.state_after = REPLICATION_STATES[result.plan.expected_state or 0]
            return results
        if acting:
            self._start(replication_service(self.cim), acting, request.max_concurrent)
            started = [r for r in acting if r.job and not r.error]
            try:
                if request.wait and started:
                    self._wait(started)
                self._read_back(results)
            except WSManError as exc:
                # Operations already started must still be reported: say what is unknown instead of failing blind.
                for result in acting:
                    if result.changed and not result.error:
                        result.error = ("%s on VM %s was started (job %s) but its outcome could not be read: %s; "
                                        "check the VM with Get-VMReplication" % (
                                            result.plan.method, result.vm.label,
                                            result.job.id if result.job else "none", exc))
        return results

    def _choose_points(self, failing_over: List[VmResult], request: Request) -> None:
        """Pick each VM's recovery point before anything starts (in check mode too: a wrong point is the same
        mistake there). The points of all these VMs come in one query, not one per VM."""
        if not failing_over:
            return
        if not request.picks_a_point:
            for result in failing_over:
                result.recovery_point = dict(LATEST_POINT)
            return
        by_vm = recovery_points.points_by_vm(self.cim, [r.vm.id for r in failing_over])
        for result in failing_over:
            try:
                point = self._choose(by_vm.get(result.vm.id, []), result.vm, request, [r.vm for r in failing_over])
            except recovery_points.RecoveryPointError as exc:
                result.error = str(exc)
                continue
            result.point = point
            result.recovery_point = point.as_dict()

    def _choose(self, points: List[recovery_points.RecoveryPoint], vm: VM, request: Request,
                known: List[VM]) -> recovery_points.RecoveryPoint:
        try:
            return recovery_points.choose(points, vm, request.recovery_point, request.recovery_point_before)
        except recovery_points.RecoveryPointError:
            if not request.names_a_point:
                raise
            # An id or name that is another VM's point is the usual slip when copying ids around: say whose it is.
            owner = self._owner_of(request.recovery_point, vm, known)
            return recovery_points.choose(points, vm, request.recovery_point, owner=owner)  # raises, with the owner

    def _owner_of(self, choice: str, vm: VM, known: List[VM]) -> str:
        """The label of the VM that has a point with this id or name, "" if none: looked up once per run, on the
        error path only (two queries at most)."""
        if choice not in self._owners:
            self._owners[choice] = self._find_owner(choice, known)
        owner = self._owners[choice]
        return "" if owner in ("", vm.label, vm.id) else owner

    def _find_owner(self, choice: str, known: List[VM]) -> str:
        try:
            found = recovery_points.find_point(self.cim, choice)
        except ValueError:  # a value no WQL literal can carry: it cannot be anyone's point either
            return ""
        if found is None or not found.vm_id:
            return ""
        owner = next((other for other in known if other.id == found.vm_id), None)
        if owner is None:
            owner = read_vms(self.cim, [found.vm_id]).get(found.vm_id)
        return owner.label if owner else found.vm_id

    def _start(self, service: Reference, acting: List[VmResult], max_concurrent: int) -> None:
        calls = []
        for result in acting:
            params: Dict[str, Any] = {"ComputerSystem": result.vm.reference()}
            if result.point is not None:
                params["SnapshotSettingData"] = result.point.reference()
            calls.append(operations.Start(label=result.vm.label, method=result.plan.method, params=params,
                                          state=result.vm.state_name, done_state=result.plan.expected_state,
                                          job_type=jobs.JOB_TYPES.get(result.plan.method)))
        known = jobs.existing_ids(self.cim, [c.job_type for c in calls if c.job_type is not None])
        operations.start_all(self.cim, service, calls, max_concurrent, self.waiter.elapsed, known)
        for result, call in zip(acting, calls):
            result.queued_at, result.invoked_at = call.queued_at, call.invoked_at
            result.error, result.note = call.error, call.note
            result.changed = call.accepted
            if call.accepted:
                result.started_at = call.answered_at
            if call.done:
                result.finished_at = call.answered_at
            if call.job_id:
                result.job = jobs.Job(id=call.job_id, state=2)

    def _wait(self, started: List[VmResult]) -> None:
        by_id = {r.job.id: r for r in started if r.job}
        seen = jobs.wait_for_jobs(self.cim, list(by_id), self.waiter)
        self.polls += seen.polls
        for job_id, job in seen.jobs.items():
            result = by_id[job_id]
            result.job = job
            if job.finished:
                result.finished_at = job.seen_at
            if job.finished and not job.succeeded and not job.vanished:
                result.error = "%s on VM %s failed: %s" % (result.plan.method, result.vm.label, job.error())
            elif not job.finished:
                result.error = ("%s on VM %s is still in progress after %ds (job %s %s, %s%% complete); the job was "
                                "left running: run the task again once it has finished, or give it a longer wait_timeout" % (
                                    result.plan.method, result.vm.label, int(self.waiter.elapsed()), job.id,
                                    job.state_name, job.percent if job.percent is not None else "?"))

    def _read_back(self, results: List[VmResult]) -> None:
        now = read_vms(self.cim, [r.vm.id for r in results])
        for result in results:
            current = now.get(result.vm.id)
            if current is None:
                continue
            result.state_after = current.state_name
            job = result.job
            if job and job.vanished and result.plan.expected_state != current.state:
                # The job was removed before we saw it end; the VM state says it did not do its work.
                result.error = "%s on VM %s: its job %s is gone and the VM is %s, not %s" % (
                    result.plan.method, result.vm.label, job.id, current.state_name,
                    REPLICATION_STATES.get(result.plan.expected_state or 0))
