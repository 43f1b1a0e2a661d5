"""Msvm_ConcreteJob lifecycle, evaluated lazily from the clock (hyperv notes 4).

A job is New at submission, Starting during the first tenth of its duration, Running with a rising PercentComplete,
then Completed (7) or Exception (10) once its duration has passed; the model applies its effect at that moment and
drops the job TimeBeforeRemoval seconds later.  Texts of JobStatus and error descriptions are [infer].
"""

import datetime
from dataclasses import dataclass
from typing import Callable

from .cim import Instance
from .schema import CONCRETE_JOB

NEW, STARTING, RUNNING, COMPLETED, EXCEPTION = 2, 3, 4, 7, 10

# JobType numbers and names (hyperv notes 4.3); the method -> type mapping is [infer] from the names.
INITIATE_FAILOVER, REVERT_FAILOVER, COMMIT_FAILOVER, STATE_CHANGE = 97, 98, 99, 96
JOB_NAMES = {
    INITIATE_FAILOVER: ("Initiate Failover", "Initiating failover"),
    REVERT_FAILOVER: ("Revert Failover", "Reverting failover"),
    COMMIT_FAILOVER: ("Commit Failover", "Committing failover"),
    STATE_CHANGE: ("Replicate State Change", "Changing replication state"),
}


@dataclass
class JobError:
    """How a failing job reports itself (ErrorCode is a method return code, e.g. 32768 or 32775)."""

    code: int
    description: str
    summary: str


@dataclass
class Job:  # pylint: disable=too-many-instance-attributes
    """One Msvm_ConcreteJob; times are monotonic clock readings."""

    instance_id: str
    job_type: int
    vm_id: str
    owner: str
    submitted: float
    duration: float
    on_success: Callable[[], None] | None = None
    on_failure: Callable[[], None] | None = None
    error: JobError | None = None
    finished: bool = False
    removal_after: float = 300.0

    @property
    def end_time(self) -> float:
        return self.submitted + self.duration

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
            return COMPLETED if self.error is None else EXCEPTION
        elapsed = now - self.submitted
        if elapsed <= 0:
            return NEW
        if elapsed < self.duration * 0.1:
            return STARTING
        return RUNNING

    def percent(self, now: float) -> int:
        if self.finished:
            return 100
        if self.duration <= 0:
            return 0
        return max(0, min(99, int(100 * (now - self.submitted) / self.duration)))

    def expired(self, now: float) -> bool:
        return self.finished and now >= self.end_time + self.removal_after

    def instance(self, now: float, wall: Callable[[float], datetime.datetime]) -> Instance:
        state = self.state(now)
        caption, description = JOB_NAMES.get(self.job_type, ("Job", "Job"))
        failed = state == EXCEPTION
        status = {NEW: "Job is queued", STARTING: "Job is starting", RUNNING: "Job is running",
                  COMPLETED: "Job completed successfully", EXCEPTION: "Job failed"}[state]
        elapsed = max(0.0, min(now, self.end_time) - self.submitted)
        values = {
            "Caption": caption, "Description": description, "ElementName": caption, "Name": caption,
            "InstanceID": self.instance_id, "JobType": self.job_type, "JobState": state,
            "PercentComplete": self.percent(now), "JobStatus": status, "StatusDescriptions": [status],
            "ErrorCode": self.error.code if failed else 0,
            "ErrorDescription": self.error.description if failed else None,
            "ErrorSummaryDescription": self.error.summary if failed else None,
            "Status": "Error" if failed else "OK", "OperationalStatus": [6] if failed else [2],
            "HealthState": 20 if failed else 5,
            "Cancellable": False, "DeleteOnCompletion": True, "JobRunTimes": 1, "LocalOrUtcTime": 2, "Priority": 0,
            "Owner": self.owner, "TimeSubmitted": wall(self.submitted), "StartTime": wall(self.submitted),
            "ElapsedTime": datetime.timedelta(seconds=elapsed),
            "TimeOfLastStateChange": wall(self.end_time if self.finished else self.submitted),
            "TimeBeforeRemoval": datetime.timedelta(seconds=self.removal_after),
        }
        return Instance(CONCRETE_JOB, values)
