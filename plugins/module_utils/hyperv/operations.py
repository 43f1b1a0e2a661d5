# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calling any method of the table (methods.py) for many VMs at once, and what each answer means.

The replication, power and management methods answer within a round trip (4096: a job was started) and do their
work in a Msvm_ConcreteJob, so a drill's time is the slowest job, provided the calls themselves do not queue behind
each other: up to ``max_concurrent`` are in flight together, each on its own WinRM session (sessions.py). Each call
is one ``Call`` record, which the VM's result keeps: what was asked, what the host answered, its job and its times.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Reference
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import jobs, probe
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import COMPONENT, SERVICE, Method, started_by
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import LOOKUP_CHUNK, VM
from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import Retry
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import (
    RIGHTS, WSManError, WSManFault, WSManProtocolError, WSManTransportError)

RETURN_CODES = {
    0: "Completed with No Error", 4096: "Method Parameters Checked - Job Started", 32768: "Failed",
    32769: "Access Denied", 32770: "Not Supported", 32771: "Status is unknown", 32772: "Timeout",
    32773: "Invalid parameter", 32774: "System is in use", 32775: "Invalid state for this operation",
    32776: "Incorrect data type", 32777: "System is not available", 32778: "Out of memory",
    32779: "File not found",
    # msvm-shutdowncomponent-initiateshutdown (hyperv guest-power notes 2).
    32780: "The guest is not ready (not answering)", 32781: "The machine is locked and cannot be shut down without "
    "the force option", 32782: "A shutdown is already in progress",
}
COMPLETED = 0
JOB_STARTED = 4096
ACCESS_DENIED = 32769


@dataclass
class Call:  # pylint: disable=too-many-instance-attributes
    """One method call on a VM's behalf and all that came of it.

    Times are seconds on the run's clock: ``queued_at`` when the call was ready to go, ``invoked_at`` when its
    request was sent (later than queued when every session was busy), ``answered_at`` when the host answered; the
    job's own end is ``job.seen_at``.
    """

    method: Method
    vm: VM
    # The inputs besides the VM's own reference (Method.arguments adds it).
    inputs: Dict[str, Any] = field(default_factory=dict)
    # Check mode: planned, never sent.
    dry_run: bool = False
    # The instance it is invoked on, found by start_all from the method's target.
    target: Optional[Reference] = None
    # How many times the call was sent: twice only when the first answer was lost and the VM showed no trace of it.
    sent: int = 0
    # The method's return value and output parameters, when the host answered.
    code: Optional[int] = None
    outputs: Dict[str, Any] = field(default_factory=dict)
    # The job it started (or the one a lost answer was settled to), as last seen.
    job: Optional[jobs.Job] = None
    # Not sent: another run's job was already heading where this call leads, and is followed instead (converge.py
    # waits for it like the call's own).
    followed: bool = False
    # Said of the call besides any error, e.g. that another run had already done the work.
    note: str = ""
    error: str = ""
    queued_at: Optional[float] = None
    invoked_at: Optional[float] = None
    answered_at: Optional[float] = None

    @property
    def label(self) -> str:
        return self.vm.label

    @property
    def done(self) -> bool:
        """Whether the host did the work at once (return value 0) rather than in a job."""
        return self.code == COMPLETED

    @property
    def accepted(self) -> bool:
        """Whether the host took the call: the operation happened or is under way (even when its answer lacks
        the Job reference to follow it by)."""
        return self.code in (COMPLETED, JOB_STARTED)

    @property
    def started_at(self) -> Optional[float]:
        """When the host answered that it had taken the call."""
        return self.answered_at if self.accepted else None

    @property
    def finished_at(self) -> Optional[float]:
        """When the work was seen finished: the answer of a call done at once, else the poll that saw its job end."""
        if self.done:
            return self.answered_at
        return self.job.seen_at if self.job is not None and self.job.finished else None

    def what(self) -> str:
        """How messages name the call: ``InitiateFailover on VM 'web01' (GUID)``."""
        return "%s on VM %s" % (self.method.name, self.label)

    def reached(self, vm: Optional[VM]) -> bool:
        """Whether ``vm`` is where this call leads (never, for a method whose outcome the table does not name)."""
        outcome = self.method.leads_to
        return outcome is not None and outcome.reached(vm, self.inputs)


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, "%d times" % count)


@dataclass
class _Run:  # pylint: disable=too-many-instance-attributes
    cim: CimClient
    elapsed: Callable[[], float]
    # Jobs that existed before any call of this run: a finished job of the VM that is not among them is ours.
    known_jobs: FrozenSet[str] = frozenset()
    # Set when the host stops answering: calls not yet sent are reported as not started rather than tried.
    lost: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def retry(self) -> Retry:
        """The reads' policy paces a call sent again: until wait_timeout in a module run."""
        return self.cim.retry

    def start(self, call: Call) -> None:
        with self.lock:
            lost = self.lost
        if lost:
            call.error = "%s was not started: %s" % (call.what(), lost)
            return
        call.invoked_at = self.elapsed()
        try:
            self._send(call)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # A bug of ours, not an answer of the host: stop sending, so that every VM is still reported (the
            # ones already started included) instead of a traceback that hides what was done.
            self._lose("internal error (%s)" % type(exc).__name__)
            call.error = ("%s: internal error, whether it started is unknown: %s: %s; check the VM with %s"
                          % (call.what(), type(exc).__name__, exc, call.method.check_with))
        finally:
            call.answered_at = self.elapsed()

    def _send(self, call: Call) -> None:
        arguments = call.method.arguments(call.vm, call.inputs)
        while True:
            call.sent += 1
            try:
                outcome = self.cim.invoke(call.target, call.method.name, arguments, call.method.output_types())
            except WSManError as exc:
                if not self._unknown(call, exc):
                    return
                if self._settle(call, exc):
                    return
                # No trace of the call on the VM: it did not happen, so it may be sent again, once the policy's
                # pause has passed, for as long as the run may last.
                if not self.retry.wait(call.sent):
                    self._lose(str(exc))
                    call.error = ("%s got no answer %s, and the VM shows no sign of it (%s): check the host and run "
                                  "again" % (call.what(), _times(call.sent), exc))
                    return
                continue
            _read_answer(call, outcome.return_value, outcome.outputs)
            if not call.accepted:
                self._explain_refusal(call)
            return

    def _unknown(self, call: Call, exc: WSManError) -> bool:
        """Whether the error leaves the call's outcome unknown (True), or says it certainly did not happen or failed
        (False: ``call.error`` is set). Unknown: no answer after the request went out, an answer that cannot be read,
        an HTTP 5xx without a SOAP fault, the host's operation timeout (w:TimedOut)."""
        if isinstance(exc, WSManTransportError) and exc.unsent:
            self._lose(str(exc))
            call.error = "%s was not started: %s" % (call.what(), exc)
            return False
        if isinstance(exc, (WSManTransportError, WSManProtocolError)) or (isinstance(exc, WSManFault) and exc.is_timeout):
            return True
        call.error = "%s failed: %s" % (call.what(), exc)
        return False

    def _settle(self, call: Call, exc: WSManError) -> bool:
        """After an unknown outcome: True when the VM shows what became of the call (recorded in ``call``), False
        when it shows no trace of it, so that calling once more cannot start the work twice."""
        try:
            seen = probe.look(self.cim, call.vm)
        except WSManError as again:
            self._lose(str(exc))
            call.error = ("%s got no answer, so whether it started is unknown: %s; the VM could not be read either "
                          "(%s): check it with %s and run again" % (call.what(), exc, again, call.method.check_with))
            return True
        # A job that did not exist before the run is the call's, whatever its JobType (the documentation does not pin
        # JobTypes to methods); one of the entry's JobTypes first when there are several.
        ours = sorted((job for job in seen.running + seen.finished if job.id.upper() not in self.known_jobs),
                      key=lambda job: job.job_type not in call.method.job_types_for(call.inputs))
        if call.reached(seen.vm):
            call.code = COMPLETED
            call.note = "its answer was lost, but the VM is in the state it leads to"
        elif ours:
            call.code, call.job = JOB_STARTED, jobs.Job(id=ours[0].id.upper(), state=2)
            call.note = "its answer was lost; the host had started job %s, which was followed" % call.job.id
        else:
            return False
        return True

    def _explain_refusal(self, call: Call) -> None:
        """A refusal may come from another run working on the same VM: say what the VM shows, not just the code."""
        try:
            seen = probe.look(self.cim, call.vm)
        except WSManError:
            return  # the refusal's own message stands
        if call.reached(seen.vm):
            call.error = ""
            call.note = "the host refused it because the VM already is where it would lead (another run did it)"
            return
        # The job that made the host refuse may have ended between the refusal and this reading: the newest
        # finished job is a candidate as well as a running one (converge.py checks the VM once it is followed).
        if any(follow(call, job) for job in seen.running + list(reversed(seen.finished))):
            return
        if seen.running:
            job = seen.running[0]
            call.error = ("%s was refused: another operation is running on it (job %s, %s, %s, %s%% complete), "
                          "perhaps another run, and it does not lead where this call does: wait until it ends, "
                          "then run again" % (call.what(), job.id, started_by(job.job_type), job.state_name,
                                              job.percent if job.percent is not None else "?"))

    def _lose(self, reason: str) -> None:
        with self.lock:
            self.lost = self.lost or reason


def follow(call: Call, job: jobs.Job) -> bool:
    """Make ``call`` follow another run's job that heads where the call leads (True); False for a job heading
    elsewhere. Two runs asking the same of a VM then both end with it there, neither failing (changed: false)."""
    if job.job_type not in call.method.job_types_for(call.inputs):
        return False
    call.job, call.followed, call.error = jobs.Job(id=job.id.upper(), state=job.state, percent=job.percent), True, ""
    call.note = ("another operation (job %s, %s) was already doing this, perhaps another run: it was followed to its "
                 "end instead of calling %s" % (call.job.id, job.state_name, call.method.name))
    return True


def _read_answer(call: Call, code: int, outputs: Dict[str, Any]) -> None:
    call.code, call.outputs = code, outputs
    if code == JOB_STARTED:
        job = outputs.get("Job")
        job_id = job.selector("InstanceID") if isinstance(job, Reference) else None
        if job_id:
            call.job = jobs.Job(id=job_id.upper(), state=2)
        else:
            call.error = "%s started a job but returned no Job reference" % call.what()
    elif code == ACCESS_DENIED:
        call.error = "%s was refused by the host: Access Denied (%s); %s" % (call.what(), code, RIGHTS)
    elif code != COMPLETED:
        call.error = ("%s was refused by the host: %s (%s); the VM is %s, check it with %s" % (
            call.what(), call.method.return_codes.get(code) or RETURN_CODES.get(code, "unknown return code"), code,
            call.method.describe(call.vm),
            call.method.check_with))


def find_targets(cim: CimClient, calls: List[Call]) -> None:
    """Set each call's target from its method's: a service is looked up once per class, a component with one query
    for all the VMs that need one (in chunks); a VM that has no such component gets an error instead."""
    services: Dict[str, Reference] = {}
    components: Dict[str, Dict[str, Reference]] = {}
    for call in calls:
        kind, cim_class = call.method.target, call.method.cim_class
        if kind == SERVICE:
            if cim_class not in services:
                services[cim_class] = _service(cim, cim_class)
            call.target = services[cim_class]
        elif kind == COMPONENT:
            if cim_class not in components:
                wanted = sorted({c.vm.id for c in calls if c.method.cim_class == cim_class})
                components[cim_class] = _components(cim, cim_class, wanted)
            call.target = components[cim_class].get(call.vm.id)
            if call.target is None:
                call.error = "%s was not started: the VM has no %s (are its integration services on?)" % (
                    call.what(), cim_class)
        else:
            call.target = call.vm.reference()


def _service(cim: CimClient, cim_class: str) -> Reference:
    """The host's single instance of a service class (Microsoft's samples take the first result too)."""
    found = cim.query_references(wql.select(cim_class))
    if not found:
        raise WSManError("the host has no %s: is the Hyper-V role installed?" % cim_class)
    return found[0]


def _components(cim: CimClient, cim_class: str, vm_ids: List[str]) -> Dict[str, Reference]:
    """VM GUID -> its instance of a component class; a component's SystemName key is its VM's GUID."""
    found: Dict[str, Reference] = {}
    for chunk in wql.chunks(vm_ids, LOOKUP_CHUNK):
        for reference in cim.query_references(wql.select(cim_class, wql.any_equal("SystemName", chunk))):
            found.setdefault(str(reference.selector("SystemName") or "").strip("{}").upper(), reference)
    return found


def start_all(cim: CimClient, calls: List[Call], max_concurrent: int, elapsed: Callable[[], float]) -> None:
    """Make every call, at most ``max_concurrent`` at a time, in the order given; fills in each call's outcome.

    First the targets (find_targets), then the jobs that already exist (to tell the calls' own from older ones after
    a lost answer), then the calls. A call whose target was not found is not sent.
    """
    calls = [call for call in calls if not call.followed]  # already following another run's job: nothing to send
    find_targets(cim, calls)
    ready = [call for call in calls if not call.error]
    run = _Run(cim, elapsed, jobs.existing_ids(cim, [call.vm.id for call in ready]) if ready else frozenset())
    now = elapsed()
    for call in calls:
        call.queued_at = now
    workers = max(1, min(max_concurrent, len(ready)))
    if workers == 1:
        for call in ready:
            run.start(call)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hyperv-invoke") as executor:
        list(executor.map(run.start, ready))
