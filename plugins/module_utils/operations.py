# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Starting many Msvm_ReplicationService methods at once, and what each answer means.

InitiateFailover and RevertFailover answer within a round trip (4096: a job was started) and do their work in a
Msvm_ConcreteJob, so a drill's time is the slowest job, provided the calls themselves do not queue behind each
other: up to ``max_concurrent`` are in flight together, each on its own WinRM session (sessions.py).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils import probe
from ansible_collections.hyperv.replica.plugins.module_utils.cim import CimClient, Reference
from ansible_collections.hyperv.replica.plugins.module_utils.wsman import (
    WSManError, WSManProtocolError, WSManTransportError)

RETURN_CODES = {
    0: "Completed with No Error", 4096: "Method Parameters Checked - Job Started", 32768: "Failed",
    32769: "Access Denied", 32770: "Not Supported", 32771: "Status is unknown", 32772: "Timeout",
    32773: "Invalid parameter", 32774: "System is in use", 32775: "Invalid state for this operation",
    32776: "Incorrect data type", 32777: "System is not available", 32778: "Out of memory",
    32779: "File not found",
}
COMPLETED = 0
JOB_STARTED = 4096


@dataclass
class Start:  # pylint: disable=too-many-instance-attributes
    """One method call to make on the replication service, and what came of it.

    Times are seconds on the run's clock: ``queued_at`` when the call was ready to go, ``invoked_at`` when its
    request was sent (later than queued when every session was busy), ``answered_at`` when the host answered.
    """

    label: str
    method: str
    params: Dict[str, Any]
    state: str = ""
    # The replication state the work leaves the VM in, and the JobType of its job: what probe.look() checks.
    done_state: Optional[int] = None
    job_type: Optional[int] = None
    # How many times the call was sent: twice only when the first answer was lost and the VM showed no trace of it.
    sent: int = 0
    # Said of the call besides any error, e.g. that another run had already done the work.
    note: str = ""
    # The method's return value, when the host answered.
    code: Optional[int] = None
    queued_at: Optional[float] = None
    invoked_at: Optional[float] = None
    answered_at: Optional[float] = None
    job_id: str = ""
    error: str = ""

    @property
    def done(self) -> bool:
        """Whether the host did the work at once (return value 0) rather than in a job."""
        return self.code == COMPLETED

    @property
    def accepted(self) -> bool:
        """Whether the host took the call: the operation happened or is under way (even when its answer lacks
        the Job reference to follow it by)."""
        return self.code in (COMPLETED, JOB_STARTED)


@dataclass
class _Run:
    cim: CimClient
    service: Reference
    elapsed: Callable[[], float]
    # Jobs that existed before any call of this run: a finished job of the VM that is not among them is ours.
    known_jobs: FrozenSet[str] = frozenset()
    # Set when the host stops answering: calls not yet sent are reported as not started rather than tried.
    lost: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, call: Start) -> None:
        with self.lock:
            lost = self.lost
        if lost:
            call.error = "%s on VM %s was not started: %s" % (call.method, call.label, lost)
            return
        call.invoked_at = self.elapsed()
        try:
            self._send(call)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # A bug of ours, not an answer of the host: stop sending, so that every VM is still reported (the
            # ones already started included) instead of a traceback that hides what was done.
            self._lose("internal error (%s)" % type(exc).__name__)
            call.error = ("%s on VM %s: internal error, whether it started is unknown: %s: %s; check the VM with "
                          "Get-VMReplication" % (call.method, call.label, type(exc).__name__, exc))
        finally:
            call.answered_at = self.elapsed()

    def _send(self, call: Start) -> None:
        while True:
            call.sent += 1
            try:
                outcome = self.cim.invoke(self.service, call.method, call.params)
            except WSManTransportError as exc:
                if exc.unsent:
                    self._lose(str(exc))
                    call.error = "%s on VM %s was not started: %s" % (call.method, call.label, exc)
                    return
                # The request went out and the answer was lost: the host may have acted. Never send it again
                # before the VM says it did not.
                if self._settle(call, exc) or call.sent > 1:
                    return
                continue
            except WSManProtocolError as exc:
                # An answer that cannot be read (cut short, garbled) is as good as lost: settle it the same way.
                if self._settle(call, exc) or call.sent > 1:
                    return
                continue
            except WSManError as exc:
                call.error = "%s on VM %s failed: %s" % (call.method, call.label, exc)
                return
            _read_answer(call, outcome.return_value, outcome.outputs.get("Job"))
            if not call.accepted:
                self._explain_refusal(call)
            return

    def _settle(self, call: Start, exc: WSManError) -> bool:
        """After a lost answer: True when the VM shows what became of the call (recorded in ``call``), False when
        it shows no trace of it, so that calling once more cannot start the work twice."""
        try:
            seen = probe.look(self.cim, call.params["ComputerSystem"], call.job_type)
        except WSManError as again:
            self._lose(str(exc))
            call.error = ("%s on VM %s got no answer, so whether it started is unknown: %s; the VM could not be read "
                          "either (%s): check it with Get-VMReplication and run again"
                          % (call.method, call.label, exc, again))
            return True
        ours = [job for job in seen.finished if job.id.upper() not in self.known_jobs]
        if seen.state == call.done_state:
            call.code = COMPLETED
            call.note = "its answer was lost, but the VM is in the state it leads to"
        elif seen.running or ours:
            job = (seen.running or ours)[0]
            call.code, call.job_id = JOB_STARTED, job.id.upper()
            call.note = "its answer was lost; the host had started job %s, which was followed" % call.job_id
        elif call.sent > 1:
            self._lose(str(exc))
            call.error = ("%s on VM %s got no answer twice, and the VM shows no sign of it (%s): check the host and "
                          "run again" % (call.method, call.label, exc))
        else:
            return False
        return True

    def _explain_refusal(self, call: Start) -> None:
        """A refusal may come from another run working on the same VM: say what the VM shows, not just the code."""
        try:
            seen = probe.look(self.cim, call.params["ComputerSystem"], None)
        except WSManError:
            return  # the refusal's own message stands
        if seen.state == call.done_state:
            call.error = ""
            call.note = "the host refused it because the VM already is where it would lead (another run did it)"
        elif seen.running:
            job = seen.running[0]
            call.error = ("%s on VM %s was refused: another operation is running on it (job %s, %s, %s%% complete), "
                          "perhaps another run: wait until it ends, then run again" % (
                              call.method, call.label, job.id, job.state_name,
                              job.percent if job.percent is not None else "?"))

    def _lose(self, reason: str) -> None:
        with self.lock:
            self.lost = self.lost or reason


def _read_answer(call: Start, code: int, job: Any) -> None:
    call.code = code
    if code == JOB_STARTED:
        job_id = job.selector("InstanceID") if isinstance(job, Reference) else None
        if job_id:
            call.job_id = job_id.upper()
        else:
            call.error = "%s on VM %s started a job but returned no Job reference" % (call.method, call.label)
    elif code != COMPLETED:
        call.error = ("%s on VM %s was refused by the host: %s (%s); the VM is %s, check it with Get-VMReplication"
                      % (call.method, call.label, RETURN_CODES.get(code, "unknown return code"), code, call.state))


def start_all(cim: CimClient, service: Reference, calls: List[Start], max_concurrent: int,
              elapsed: Callable[[], float], known_jobs: FrozenSet[str] = frozenset()) -> None:
    """Make every call, at most ``max_concurrent`` at a time, in the order given; fills in each call's outcome.
    ``known_jobs``: the InstanceIDs (upper case) of the jobs that existed before, to tell ours from older ones."""
    run = _Run(cim, service, elapsed, known_jobs)
    now = elapsed()
    for call in calls:
        call.queued_at = now
    workers = max(1, min(max_concurrent, len(calls)))
    if workers == 1:
        for call in calls:
            run.start(call)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hyperv-invoke") as executor:
        list(executor.map(run.start, calls))
