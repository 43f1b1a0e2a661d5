# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failing over and reverting Replica VMs: which method each VM needs, with which recovery point, and what happened.

Idempotency comes from the VM's replication state (hyperv-replica-wmi notes 2.3, 3.1-3.4): a VM already
where it should be is left alone; a VM where the operation is impossible gets a message naming it, its
state and the way out, and the other VMs of the call go on. Calling, waiting and reading back are converge.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import probe, recovery_points
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.converge import Converge, Plan, VmResult
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import (
    INITIATE_FAILOVER, RESUME_REPLICATION, REVERT_FAILOVER, TURN_OFF, Step)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.point_choice import PointChooser, PointOptions
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import (
    COMMITTED, MODE_EXTENDED_REPLICA, MODE_NONE, MODE_PRIMARY, MODE_REPLICA, MODE_TEST_REPLICA, POWER_OFF,
    RECOVERED, REPLICATING, SYNCED_COMPLETE, VM, find_vms)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter

FAILED_OVER = "failed_over"
REVERTED = "reverted"

_REPLICA_MODES = (MODE_REPLICA, MODE_EXTENDED_REPLICA)
# Start-VMFailover fails over from these states, after resuming replication from SUSPENDED and RESYNCHRONIZING
# (StartVMFailover.ValidateReplicationForFailover and ProcessOneOperand; docs/failover-decisions.md).
SUSPENDED, RESYNCHRONIZING, FAILOVER_IN_PROGRESS, DISK_UPDATE_IN_PROGRESS = 7, 10, 12, 15
_FAILS_OVER = (REPLICATING, DISK_UPDATE_IN_PROGRESS)
_RESUMES = (SUSPENDED, RESYNCHRONIZING)
# Stop-VMFailover reverts from these states (RecoveryInProgress and FailedOverWaitingCompletion on a replica,
# PreparedForFailover and RecoveryInProgress on a primary), turning a Running or Paused VM off first.
_REVERTS = {MODE_PRIMARY: (SYNCED_COMPLETE, FAILOVER_IN_PROGRESS), MODE_REPLICA: (RECOVERED, FAILOVER_IN_PROGRESS),
            MODE_EXTENDED_REPLICA: (RECOVERED, FAILOVER_IN_PROGRESS)}
POWER_RUNNING, POWER_PAUSED = 2, 9


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


def _cannot_fail_over(vm: VM) -> str:
    if vm.state in _RESUMES:
        return ("VM %s is %s: resume replication (Resume-VMReplication) and wait until it is Replicating, or set "
                "resume_replication=true to resume it first as Start-VMFailover does" % (vm.label, vm.state_name))
    if vm.state == FAILOVER_IN_PROGRESS:
        return ("VM %s is %s: a failover is under way or stopped half way; wait until Get-VMReplication shows "
                "Recovered (or Replicating if it failed) and run again, or revert it (state=reverted) if no job is "
                "running on it" % (vm.label, vm.state_name))
    return ("VM %s is %s: failover needs Replicating (or Suspended, Resynchronizing, Disk update in progress); check it "
            "with Get-VMReplication, bring replication back to Replicating and run again" % (vm.label, vm.state_name))


def plan_failover(vm: VM, resume: bool = False) -> Plan:
    """Start-VMFailover's rules (replica side): the VM off, a state it fails over from, replicated at least once."""
    if vm.mode not in _REPLICA_MODES:
        return Plan(error=_mode_error(vm))
    if vm.state == RECOVERED:
        return Plan()
    if vm.state == COMMITTED:
        return Plan(error=_committed_error(vm))
    if vm.state not in _FAILS_OVER + _RESUMES or (vm.state in _RESUMES and not resume):
        return Plan(error=_cannot_fail_over(vm))
    if vm.power != POWER_OFF:
        return Plan(error=_must_be_off(vm, "failover"))
    if vm.last_replication is None:
        return Plan(error="VM %s has never received a replication (no LastReplicationTime): there is nothing to fail "
                          "over to; wait for initial replication to complete (Get-VMReplication)" % vm.label)
    if vm.state in _RESUMES:
        return Plan.calling(RESUME_REPLICATION, INITIATE_FAILOVER.step())
    return Plan.calling(INITIATE_FAILOVER.step())


def plan_revert(vm: VM) -> Plan:
    """Stop-VMFailover's rules (no test VM): a state it reverts from; a Running or Paused VM is turned off first (its
    data is discarded by the revert anyway), any other power state is reverted as it is."""
    if vm.mode not in _REVERTS or (vm.mode == MODE_PRIMARY and vm.state not in _REVERTS[MODE_PRIMARY]):
        return Plan(error=_mode_error(vm))
    if vm.state == REPLICATING:
        return Plan()
    if vm.state == COMMITTED:
        return Plan(error=_committed_error(vm))
    if vm.state not in _REVERTS[vm.mode]:
        return Plan(error="VM %s is %s: there is no failover to revert (revert needs Recovered); check it with "
                          "Get-VMReplication" % (vm.label, vm.state_name))
    if vm.power in (POWER_RUNNING, POWER_PAUSED):
        return Plan.calling(TURN_OFF, REVERT_FAILOVER.step())
    return Plan.calling(REVERT_FAILOVER.step())


def plan(vm: VM, desired: str, resume: bool = False) -> Plan:
    return plan_failover(vm, resume) if desired == FAILED_OVER else plan_revert(vm)


@dataclass
class FailoverResult(VmResult):
    """What the failover module reports for one VM: a VmResult, the recovery point it failed over to, and whether it
    was turned off or had its replication resumed first."""

    recovery_point: Optional[Dict[str, Any]] = None
    point: Optional[recovery_points.RecoveryPoint] = None

    def state_after(self) -> str:
        if self.after is not None:
            return self.after.state_name
        call = self.call
        if self.changed and call is not None and call.dry_run and call.method.leads_to:
            return call.method.leads_to.name(call.inputs)  # check mode: where the call would lead
        return self.vm.state_name

    def prepared_by(self, step: Step) -> bool:
        """Whether a preparing step (TURN_OFF, RESUME_REPLICATION) did its work, or would in check mode."""
        call = self.made(step.method)
        if call is None:
            return False
        return (call.accepted and not call.error) or (call.dry_run and not self.error)

    def timings(self, timestamp: Optional[Callable[[Optional[float]], Optional[str]]]) -> Dict[str, Optional[str]]:
        call = self.call
        moments = {"queued": call.queued_at, "invoked": call.invoked_at, "job_started": call.started_at,
                   "job_finished": call.finished_at} if call else {}
        return {key: timestamp(moments.get(key)) if timestamp else None
                for key in ("queued", "invoked", "job_started", "job_finished")}

    def as_dict(self, timestamp: Optional[Callable[[Optional[float]], Optional[str]]] = None) -> Dict[str, Any]:
        """The module's entry for this VM; ``timestamp`` turns the run's seconds into times of day."""
        call = self.call
        job = call.job if call else None
        waited = None
        if call is not None and call.invoked_at is not None and call.finished_at is not None:
            waited = round(call.finished_at - call.invoked_at, 3)
        return {
            "name": self.vm.name, "id": self.vm.id, "changed": self.changed,
            "operation": self.plan.method.name if self.plan.method else None,
            "state_before": self.vm.state_name, "state_after": self.state_after(),
            "mode": self.vm.mode_name, "power_state": self.vm.power_name, "recovery_point": self.recovery_point,
            "job_id": job.id if job else None, "job_state": job.state_name if job else None,
            "percent_complete": job.percent if job else None, "seconds_waited": waited,
            "timings": self.timings(timestamp),
            "turned_off": self.prepared_by(TURN_OFF), "resumed_replication": self.prepared_by(RESUME_REPLICATION),
            "error": self.error or None,
        }


@dataclass
class Request(PointOptions):
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
    # Resume a Suspended or Resynchronizing replica before failing it over, as Start-VMFailover does.
    resume_replication: bool = False


class FailoverRun:
    """One failover module run: plan every VM from its state, choose the recovery points, then converge."""

    def __init__(self, cim: CimClient, waiter: Waiter) -> None:
        self.cim = cim
        self.converge = Converge(cim, waiter)
        self.points = PointChooser(cim)

    @property
    def polls(self) -> int:
        """Poll ticks spent waiting for jobs (each reads every pending job with one query per jobs.POLL_CHUNK)."""
        return self.converge.polls

    def run(self, request: Request) -> List[FailoverResult]:
        vms = find_vms(self.cim, request.vms)
        results = [FailoverResult(vm=vm, plan=plan(vm, request.desired, request.resume_replication)) for vm in vms]
        self.points.choose([r for r in results if r.acting and r.plan.method is INITIATE_FAILOVER], request)
        if request.desired == FAILED_OVER:
            self._follow_failovers_under_way([r for r in results if r.vm.state == FAILOVER_IN_PROGRESS])
        self.converge.apply(results, request.max_concurrent, request.wait, request.check_mode)
        return results

    def _follow_failovers_under_way(self, in_progress: List[FailoverResult]) -> None:
        """A replica another run is failing over (Failover in progress, its failover job running) is not an error for
        a run that wants the same: that job is followed to its end (one read of the VM and its jobs each; rare)."""
        for result in in_progress:
            if result.vm.mode not in _REPLICA_MODES:
                continue
            running = [job for job in probe.look(self.cim, result.vm).running
                       if job.job_type in INITIATE_FAILOVER.job_types]
            if running:
                result.plan = Plan.calling(INITIATE_FAILOVER.step().following(running[0]))
