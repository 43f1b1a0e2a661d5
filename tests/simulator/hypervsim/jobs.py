"""Msvm_ConcreteJob lifecycle, evaluated lazily from the clock (hyperv notes 4).

A job is New at submission, Starting during the first tenth of its duration, Running with a rising PercentComplete,
then Completed (7), CompletedWithWarnings (32768) or Exception (10) once its duration has passed; the model applies
its effect at that moment (for 7 and 32768, which Windows counts as success) and drops the job TimeBeforeRemoval
seconds later.  A hanging job stays Running at a fixed PercentComplete and never ends.  Texts of JobStatus and of
error and warning descriptions are [infer].
"""

import datetime
import math
from dataclasses import dataclass, field
from typing import Callable

from .cim import Instance
from .schema import CONCRETE_JOB

NEW, STARTING, RUNNING, COMPLETED, EXCEPTION, COMPLETED_WITH_WARNINGS = 2, 3, 4, 7, 10, 32768
FAILED, INVALID_STATE = 32768, 32775       # return codes a failing job reports as ErrorCode


@dataclass(frozen=True)
class JobKind:
    """What a method's jobs are (methods.py gives each method its kind): JobType and the names a job shows (hyperv
    notes 4.3), the verb its error texts use [infer], the method whose Invoke starts it (for fault rules such as
    operation: Invoke:InitiateFailover), and whether the VM's job_result setting decides how it ends."""

    job_type: int
    caption: str
    description: str
    verb: str
    method: str
    follows_vm_job_result: bool = False


@dataclass
class JobError:
    """How a failing job reports itself (ErrorCode is a method return code, e.g. 32768 or 32775)."""

    code: int
    description: str
    summary: str


def job_error(vm_name: str, vm_id: str, code: int, kind: JobKind) -> JobError:
    """The ErrorCode and texts of a job that ends in Exception (texts [infer])."""
    what = kind.verb
    if code == INVALID_STATE:
        return JobError(code, f"'{vm_name}' cannot {what}: the operation is not valid in the current "
                              f"replication state. (Virtual machine ID {vm_id})", f"Failed to {what}.")
    return JobError(code, f"'{vm_name}' failed to {what}. (Virtual machine ID {vm_id})", f"Failed to {what}.")


def job_warning(vm_name: str, vm_id: str, kind: JobKind) -> JobError:
    """What a job that completes with warnings reports: ErrorCode stays 0, the texts say what went wrong [infer]."""
    what = kind.verb
    return JobError(0, f"'{vm_name}' completed the request to {what} with warnings. (Virtual machine ID {vm_id})",
                    f"The request to {what} completed with warnings.")


@dataclass(frozen=True)
class JobPlan:
    """How a new job will end: the VM's setting, possibly replaced by a fault-injection rule."""

    result: str = "completed"           # completed | warnings | exception | hang
    seconds: float | None = None        # duration override (None: the VM's or the host's job_seconds)
    hang_percent: int = 50              # where a hanging job's PercentComplete stops
    error_code: int = FAILED            # ErrorCode of a job that ends in Exception


@dataclass
class Job:  # pylint: disable=too-many-instance-attributes
    """One Msvm_ConcreteJob; times are monotonic clock readings."""

    instance_id: str
    kind: JobKind
    vm_id: str
    owner: str
    submitted: float
    duration: float
    on_success: Callable[[], None] | None = None
    on_failure: Callable[[], None] | None = None
    error: JobError | None = None
    warning: JobError | None = None
    hang_percent: int | None = None
    finished: bool = False
    removal_after: float = 300.0
    # VMs the job affects besides vm_id (Msvm_AffectedJobElement): the test VM a TestReplicaSystem job makes, which
    # Start-VMFailover -AsTest finds among the job's affected elements (decompiled EndCreateTestVirtualSystem).
    affects: list[str] = field(default_factory=list)

    @property
    def job_type(self) -> int:
        return self.kind.job_type

    @property
    def end_time(self) -> float:
        """When the job ends; never for a hanging job."""
        return math.inf if self.hang_percent is not None else self.submitted + self.duration

    def finish(self) -> None:
        """Apply the job's effect once; called by the model when the end time has passed."""
        if self.finished:
            return
        self.finished = True
        action = self.on_success if self.error is None else self.on_failure
        if action is not None:
            action()

    def state(self, now: float) -> int:
        if self.finished:
            if self.error is not None:
                return EXCEPTION
            return COMPLETED if self.warning is None else COMPLETED_WITH_WARNINGS
        elapsed = now - self.submitted
        if elapsed <= 0:
            return NEW
        if elapsed < self.duration * 0.1:
            return STARTING
        return RUNNING

    def percent(self, now: float) -> int:
        if self.finished:
            return 100
        ceiling = 99 if self.hang_percent is None else self.hang_percent
        if self.duration <= 0:
            return 0 if self.hang_percent is None else ceiling
        return max(0, min(ceiling, int(100 * (now - self.submitted) / self.duration)))

    def expired(self, now: float) -> bool:
        return self.finished and now >= self.end_time + self.removal_after

    def instance(self, now: float, wall: Callable[[float], datetime.datetime]) -> Instance:
        state = self.state(now)
        caption, description = self.kind.caption, self.kind.description
        failed = state == EXCEPTION
        report = self.error if failed else self.warning if state == COMPLETED_WITH_WARNINGS else None
        status = {NEW: "Job is queued", STARTING: "Job is starting", RUNNING: "Job is running",
                  COMPLETED: "Job completed successfully", EXCEPTION: "Job failed",
                  COMPLETED_WITH_WARNINGS: "Job completed with warnings"}[state]
        elapsed = max(0.0, min(now, self.end_time) - self.submitted)
        values = {
            "Caption": caption, "Description": description, "ElementName": caption, "Name": caption,
            "InstanceID": self.instance_id, "JobType": self.job_type, "JobState": state,
            "PercentComplete": self.percent(now), "JobStatus": status, "StatusDescriptions": [status],
            "ErrorCode": report.code if report else 0,
            "ErrorDescription": report.description if report else None,
            "ErrorSummaryDescription": report.summary if report else None,
            "Status": "Error" if failed else "OK", "OperationalStatus": [6] if failed else [2],
            "HealthState": 20 if failed else 5,
            "Cancellable": False, "DeleteOnCompletion": True, "JobRunTimes": 1, "LocalOrUtcTime": 2, "Priority": 0,
            "Owner": self.owner, "TimeSubmitted": wall(self.submitted), "StartTime": wall(self.submitted),
            "ElapsedTime": datetime.timedelta(seconds=elapsed),
            "TimeOfLastStateChange": wall(self.end_time if self.finished else self.submitted),
            "TimeBeforeRemoval": datetime.timedelta(seconds=self.removal_after),
        }
        return Instance(CONCRETE_JOB, values)
