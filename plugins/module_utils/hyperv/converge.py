# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bringing VMs where a task wants them, for any method of the table: call, wait for the jobs, read the VMs back.

A domain module (failover.py, ...) decides per VM, from its state, which methods it needs with which inputs (a
``Plan`` of one or more ``Step``s: turn a running VM off, then revert its failover), or that it needs nothing, or
why it cannot be done. This module does the rest the same way for every method: each step of every VM is called
together with the same step of the other VMs, a step's jobs are waited for before the next step is sent, and each
VM's ``VmResult`` ends up holding its call records (operations.Call) and the VM as read after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import jobs, operations
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import Method, Step
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VM, read_vms
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import WSManError


@dataclass
class Plan:
    """What one VM needs: ``steps`` to call in order (the last is the operation the task is about, the ones before
    prepare for it), nothing (no steps, no error), or an ``error`` saying why it cannot be done."""

    steps: List[Step] = field(default_factory=list)
    error: str = ""

    @classmethod
    def calling(cls, *steps: Step) -> "Plan":
        return cls(steps=list(steps))

    @property
    def method(self) -> Optional[Method]:
        """The operation the task is about: the method of the last step."""
        return self.steps[-1].method if self.steps else None

    def complete(self, **inputs: Any) -> None:
        """Add inputs to the last step, for a domain module that chooses them after planning (a recovery point)."""
        self.steps[-1] = self.steps[-1].adding(**inputs)


@dataclass
class VmResult:
    """One VM of a task: as it was, its plan, the calls made for it (one per step, in order), and as read after."""

    vm: VM
    plan: Plan
    calls: List[operations.Call] = field(default_factory=list)
    after: Optional[VM] = None
    # Why the VM failed besides its plan and its calls: its inputs, or an outcome that could not be read.
    problem: str = ""

    @property
    def call(self) -> Optional[operations.Call]:
        """The call of the operation the task is about (the last step), once it was made or planned."""
        return self.calls[-1] if self.calls and len(self.calls) == len(self.plan.steps) else None

    def made(self, method: Method) -> Optional[operations.Call]:
        """The call of a step with this method, if one was made or planned."""
        return next((call for call in self.calls if call.method is method), None)

    @property
    def error(self) -> str:
        return self.plan.error or self.problem or next((call.error for call in self.calls if call.error), "")

    @property
    def changed(self) -> bool:
        """Whether the host took any of the VM's calls (or would, in check mode)."""
        return any(call.accepted or (call.dry_run and not call.followed and not self.error) for call in self.calls)

    @property
    def acting(self) -> bool:
        """Whether the VM is to be called for: it has steps and nothing stands in the way."""
        return bool(self.plan.steps) and not self.error


class Converge:
    """The calls of one task: each step made together for every VM, waited for together (one query per poll for
    every job), the VMs read back with one query. ``polls`` counts the poll ticks spent waiting."""

    def __init__(self, cim: CimClient, waiter: Waiter) -> None:
        self.cim = cim
        self.waiter = waiter
        self.polls = 0

    def apply(self, results: Sequence[VmResult], max_concurrent: int, wait: bool = True,
              check_mode: bool = False) -> None:
        """Call each acting VM's steps (only record them in check mode), wait for the jobs of every step but a VM's
        last, and for those too unless told not to, and read every VM back. Operations already started are
        reported even when the host stops answering."""
        acting = [r for r in results if r.acting]
        if check_mode:
            for result in acting:
                result.calls = [operations.Call(s.method, s.vm or result.vm, dict(s.inputs), dry_run=True,
                                                followed=s.follow is not None) for s in result.plan.steps]
            return
        if not acting:
            return
        try:
            for index in range(max(len(r.plan.steps) for r in acting)):
                self._step(acting, index, max_concurrent, wait)
            self._read_back(results)
        except WSManError as exc:
            if not any(r.changed for r in acting):
                raise  # nothing was done: the task fails as a whole, as before any call
            _unknown(acting, exc)

    def _step(self, acting: List[VmResult], index: int, max_concurrent: int, wait: bool) -> None:
        """Step ``index`` of every VM that has one and has not failed: called together; waited for when it is not
        the VM's last step (the next one needs its work done) or when the task waits."""
        todo = [r for r in acting if index < len(r.plan.steps) and not r.error]
        for result in todo:
            step = result.plan.steps[index]
            call = operations.Call(step.method, step.vm or result.vm, dict(step.inputs))
            if step.follow is not None:
                operations.follow(call, step.follow)
            result.calls.append(call)
        self._guard(todo, index)
        calls = [r.calls[-1] for r in todo if not r.calls[-1].error]
        if not calls:
            return
        try:
            operations.start_all(self.cim, calls, max_concurrent, self.waiter.elapsed)
        except WSManError:
            # Nothing of this step was sent (the host failed before the calls): the records say so.
            for result in todo:
                result.calls.pop()
            raise
        waited = [r.calls[-1] for r in todo if wait or index < len(r.plan.steps) - 1]
        started = [call for call in waited if call.job and not call.error]
        if started:
            self._wait(started)

    def _guard(self, todo: List[VmResult], index: int) -> None:
        """Run each guard of this step once, with all of its calls, just before they are sent: a call it refuses
        keeps its error and is not sent. A guard that cannot read the host refuses every call it checks."""
        by_guard: Dict[Any, List[operations.Call]] = {}
        for result in todo:
            guard = result.plan.steps[index].guard
            if guard is not None:
                by_guard.setdefault(guard, []).append(result.calls[-1])
        for guard, calls in by_guard.items():
            try:
                guard(self.cim, calls)
            except WSManError as exc:
                for call in calls:
                    call.error = call.error or "%s was not sent: its target could not be checked first: %s" % (
                        call.what(), exc)

    def _wait(self, started: List[operations.Call]) -> None:
        by_id = {call.job.id: call for call in started if call.job}
        seen = jobs.wait_for_jobs(self.cim, list(by_id), self.waiter)
        self.polls += seen.polls
        for job_id, job in seen.jobs.items():
            call = by_id[job_id]
            call.job = job
            if job.finished and not job.succeeded and not job.vanished:
                call.error = "%s failed: %s" % (call.what(), job.error())
            elif not job.finished:
                call.error = ("%s is still in progress after %ds (job %s %s, %s%% complete); the job was left running: "
                              "run the task again once it has finished, or give it a longer wait_timeout" % (
                                  call.what(), int(self.waiter.elapsed()), job.id, job.state_name,
                                  job.percent if job.percent is not None else "?"))

    def _read_back(self, results: Sequence[VmResult]) -> None:
        # The task's VMs, and the VMs their last calls acted on when those are others (a replica's test VM).
        targets = [r.call.vm.id for r in results if r.call is not None]
        now = read_vms(self.cim, list(dict.fromkeys([r.vm.id for r in results] + targets)))
        for result in results:
            result.after = now.get(result.vm.id)
            call = result.call
            if result.after is None or call is None:
                continue
            # The last step's outcome is where the VM must be now (an earlier step's may have been changed since, as a
            # resume is by the failover after it).
            if call.job is not None and (call.job.vanished or call.followed) and not call.error:
                result.problem = result.problem or _not_there(call, now.get(call.vm.id))


def _not_there(call: operations.Call, after: Optional[VM]) -> str:
    """A job removed before it was seen to end, or another run's job followed: the VM's state says whether the work
    was done ("" when it was)."""
    outcome = call.method.leads_to
    if outcome is None or call.reached(after) or call.job is None:
        return ""
    how = "the job it followed, %s, ended" % call.job.id if call.followed else "its job %s is gone" % call.job.id
    now = call.method.describe(after) if after is not None else "gone"
    return "%s: %s and the VM is %s, not %s" % (call.what(), how, now, outcome.name(call.inputs))


def _unknown(acting: List[VmResult], exc: WSManError) -> None:
    """The host stopped answering after some calls were taken: say what is unknown instead of failing blind, and
    which step was not sent when the step before it had done its work."""
    for result in acting:
        if result.error:
            continue
        last = result.calls[-1] if result.calls else None
        pending = len(result.calls) < len(result.plan.steps)
        if pending and (last is None or last.finished_at is not None):
            step = result.plan.steps[len(result.calls)]
            after = " (%s had done its work)" % last.method.name if last is not None else ""
            result.problem = "%s on VM %s was not started%s: %s" % (step.method.name, result.vm.label, after, exc)
        elif last is not None and result.changed:
            result.problem = ("%s was started (job %s) but its outcome could not be read: %s; check the VM with %s"
                              % (last.what(), last.job.id if last.job else "none", exc, last.method.check_with))
