# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Msvm_ConcreteJob: what its states mean, and waiting for many jobs with one query per poll."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance, Reference
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter

JOB_STATES = {
    2: "New", 3: "Starting", 4: "Running", 5: "Suspended", 6: "Shutting Down", 7: "Completed",
    8: "Terminated", 9: "Killed", 10: "Exception", 11: "Service", 32768: "Completed with Warnings",
}
# Microsoft's samples and Hyper-V's own client count 32768 as success.
SUCCEEDED = frozenset((7, 32768))
# 11 (Service) is a vendor problem state; like libvirt we stop there rather than poll until the timeout.
FAILED = frozenset((8, 9, 10, 11))

# Job ids per WQL query: a poll of hundreds of jobs stays within a few requests, far below the envelope size and
# below the number of OR keywords past which WMI answers WBEM_E_QUOTA_VIOLATION (a limit Microsoft leaves unstated).
POLL_CHUNK = 50
# VM object paths per Msvm_AffectedJobElement query (each about 100 characters).
AFFECTED_CHUNK = 40


@dataclass
class Job:
    """The part of a Msvm_ConcreteJob a caller reports."""

    id: str
    state: int
    percent: Optional[int] = None
    # What the job does (97 Initiate Failover, 98 Revert Failover, ...; hyperv notes 4.3), when read from the host.
    job_type: Optional[int] = None
    error_code: Optional[int] = None
    error_description: str = ""
    error_summary: str = ""
    vanished: bool = False
    # Seconds on the run's waiter when this job was first seen finished.
    seen_at: Optional[float] = None

    @property
    def state_name(self) -> str:
        if self.vanished:
            return "Removed"
        return JOB_STATES.get(self.state, "Unknown (%s)" % self.state)

    @property
    def finished(self) -> bool:
        return self.vanished or self.state in SUCCEEDED or self.state in FAILED

    @property
    def succeeded(self) -> bool:
        return self.state in SUCCEEDED

    def error(self) -> str:
        """The job's own explanation of a failure, as Windows gives it."""
        text = self.error_description or self.error_summary or "no description"
        return "job %s ended %s (ErrorCode %s): %s" % (self.id, self.state_name, self.error_code, text)

    @classmethod
    def from_instance(cls, instance: Instance) -> "Job":
        return cls(
            id=str(instance.get("InstanceID") or ""),
            state=int(instance.get("JobState") or 0),
            percent=instance.get("PercentComplete"),
            job_type=instance.get("JobType"),
            error_code=instance.get("ErrorCode"),
            error_description=str(instance.get("ErrorDescription") or ""),
            error_summary=str(instance.get("ErrorSummaryDescription") or ""),
        )


def read_jobs(cim: CimClient, job_ids: Iterable[str]) -> Dict[str, Job]:
    """Current state of the given jobs, one query per POLL_CHUNK ids (run together); ids keyed upper-case (GUIDs)."""
    ids = sorted({i.upper() for i in job_ids})
    queries = [wql.select("Msvm_ConcreteJob", wql.any_equal("InstanceID", chunk)) for chunk in wql.chunks(ids, POLL_CHUNK)]
    jobs = (Job.from_instance(instance) for instance in cim.query_all(queries))
    return {job.id.upper(): job for job in jobs}


def existing_ids(cim: CimClient, vm_ids: Iterable[str]) -> FrozenSet[str]:
    """InstanceIDs (upper case) of the jobs affecting these VMs, read before a run's calls: a job found affecting a VM
    after a lost answer is the call's only if it is not among them (operations.py). Every job, whatever its JobType:
    the documentation does not pin JobTypes to methods.

    Read from Msvm_AffectedJobElement (a job's reference and its VM's, hyperv-replica-wmi notes 2.5) for the VMs of
    the call only, in chunks: Windows keeps finished jobs for 5 minutes, so the host may hold a previous drill's
    hundreds, and the cost must follow the call's VMs, not what the host keeps."""
    paths = [wql.object_path("Msvm_ComputerSystem", {"CreationClassName": "Msvm_ComputerSystem", "Name": vm_id})
             for vm_id in sorted(set(vm_ids))]
    queries = [wql.select("Msvm_AffectedJobElement", "(" + " OR ".join(
        "%s = %s" % (wql.prop("AffectedElement"), wql.literal(path)) for path in chunk) + ")")
        for chunk in wql.chunks(paths, AFFECTED_CHUNK)]
    found = set()
    for row in cim.query_all(queries):
        job = row.get("AffectingElement")
        job_id = job.selector("InstanceID") if isinstance(job, Reference) else None
        if job_id:
            found.add(job_id.upper())
    return frozenset(found)


@dataclass
class JobsSeen:
    """What waiting saw: the last state of each job, and how many poll ticks it took."""

    jobs: Dict[str, Job]
    polls: int


def wait_for_jobs(cim: CimClient, job_ids: List[str], waiter: Waiter) -> JobsSeen:
    """Poll until every job is finished or the waiter expires; returns the last state seen of each job.

    Each tick reads every pending job at once (read_jobs), so its cost does not grow with the number of VMs. A
    tick in which no job finished or changed JobState makes the waiter back off; PercentComplete alone does not
    count, as it moves on every tick of a long job without bringing its end nearer.

    A job missing from the answer was removed after it finished (TimeBeforeRemoval): it is reported
    ``vanished`` and the caller learns the outcome from the VM's state instead.
    """
    last: Dict[str, Job] = {}
    pending = {i.upper() for i in job_ids}
    polls = 0
    while pending:
        seen = read_jobs(cim, pending)
        polls += 1
        changed = False
        for job_id in sorted(pending):
            job = seen.get(job_id) or Job(id=job_id, state=0, vanished=True)
            before = last.get(job_id)
            changed = changed or before is None or before.state != job.state or job.finished
            last[job_id] = job
            if job.finished:
                job.seen_at = waiter.elapsed()
                pending.discard(job_id)
        if not pending or waiter.expired:
            break
        waiter.pause(changed)
    return JobsSeen(jobs=last, polls=polls)
