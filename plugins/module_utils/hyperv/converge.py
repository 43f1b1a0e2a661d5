# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bringing VMs where a task wants them, for any method of the table: call, wait for the jobs, read the VMs back.

A domain module (failover.py, ...) decides per VM, from its state, which method it needs with which inputs (a
``Plan``), or that it needs nothing, or why it cannot be done. This module does the rest the same way for every
method, so that each VM's ``VmResult`` ends up holding its call record (operations.Call) and the VM as read after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import jobs, operations
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import Method
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VM, read_vms
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import WSManError


@dataclass
class Plan:
    """What one VM needs: ``method`` to call with ``inputs``, nothing (no method, no error), or an ``error`` saying
    why it cannot be done."""

    method: Optional[Method] = None
    inputs: Dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass
class VmResult:
    """One VM of a task: as it was, its plan, the call made for it, and as it was read back after."""

    vm: VM
    plan: Plan
    call: Optional[operations.Call] = None
    after: Optional[VM] = None
    # Why the VM failed besides its plan and its call: its inputs, or an outcome that could not be read.
    problem: str = ""

    @property
    def error(self) -> str:
        return self.plan.error or self.problem or (self.call.error if self.call else "")

    @property
    def changed(self) -> bool:
        return self.call is not None and (self.call.accepted or (self.call.dry_run and not self.error))

    @property
    def acting(self) -> bool:
        """Whether the VM is to be called for: it has a method and nothing stands in the way."""
        return self.plan.method is not None and not self.error


class Converge:
    """The calls of one task: made together, waited for together (one query per poll for every job), read back
    with one query. ``polls`` counts the poll ticks spent waiting."""

    def __init__(self, cim: CimClient, waiter: Waiter) -> None:
        self.cim = cim
        self.waiter = waiter
        self.polls = 0

    def apply(self, results: Sequence[VmResult], max_concurrent: int, wait: bool = True,
              check_mode: bool = False) -> None:
        """Call each acting VM's method (only record the call in check mode), wait for the jobs unless told not
        to, and read every VM back. Operations already started are reported even when the host stops answering."""
        acting = [r for r in results if r.acting]
        for result in acting:
            result.call = operations.Call(result.plan.method, result.vm, result.plan.inputs, dry_run=check_mode)
        if check_mode or not acting:
            return
        operations.start_all(self.cim, [r.call for r in acting if r.call], max_concurrent, self.waiter.elapsed)
        started = [r.call for r in acting if r.call and r.call.job and not r.call.error]
        try:
            if wait and started:
                self._wait(started)
            self._read_back(results)
        except WSManError as exc:
            # Operations already started must still be reported: say what is unknown instead of failing blind.
            for result in acting:
                if result.changed and not result.error and result.call:
                    result.problem = ("%s was started (job %s) but its outcome could not be read: %s; check the VM "
                                      "with %s" % (result.call.what(), result.call.job.id if result.call.job else "none",
                                                   exc, result.call.method.check_with))

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
        now = read_vms(self.cim, [r.vm.id for r in results])
        for result in results:
            result.after = now.get(result.vm.id)
            call = result.call
            if result.after is None or call is None or call.job is None or not call.job.vanished:
                continue
            outcome = call.method.leads_to
            if outcome is not None and not outcome.reached(result.after):
                # The job was removed before we saw it end; the VM state says it did not do its work.
                result.problem = "%s: its job %s is gone and the VM is %s, not %s" % (
                    call.what(), call.job.id, call.method.describe(result.after), outcome.name)
