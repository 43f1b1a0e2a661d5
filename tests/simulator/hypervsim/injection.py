"""The active fault-injection rules of one host, and the questions the request path asks them.

Rules come from the fleet file and the control API (faultspec.py has their syntax).  Each kind of effect is
looked up at the point of the request path where it acts, so that a rule only uses up its count when it takes
effect:

    latency          before anything else (every matching rule adds its delay; the caller sleeps unlocked)
    drop: before     before the request is read as SOAP: nothing happens, no response
    fault: http500   at the same point: HTTP 500 with an empty body, nothing happens
    fault: <name>    where the WS-Man service asks take(): after the headers are read and the user is authorised,
                     before the operation, so the fault comes with the request's RelatesTo
    drop: after      after the operation took effect: the response is thrown away
    job, job_seconds when an Invoke starts a job (the VM is the job's VM)

Among rules of one kind, the first in order that matches and fires wins (latency rules all add up).  A rule with a
probability draws from its own random.Random(seed), so a run is repeatable for a given order of requests.
"""

import random
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from . import faults
from . import jobs as jobmod
from .faultspec import BARE_HTTP_500, BODY, DROP, FAULT, JOB, JOB_SECONDS, LATENCY, FaultSpec


@dataclass
class ActiveRule:
    """A rule with its run-time state: how many firings are left and its random stream."""

    rule_id: int
    spec: FaultSpec
    vm_ids: frozenset[str] | None        # upper-case ids of the VMs the rule's vm names; None: any request
    remaining: int | None
    rng: random.Random = field(repr=False)
    fired: int = 0

    def matches(self, operation: str | None, vm_id: str | None) -> bool:
        if not self.spec.matches_operation(operation):
            return False
        return self.vm_ids is None or (vm_id is not None and vm_id.upper() in self.vm_ids)

    def fire(self) -> bool:
        """Draw (when the rule has a probability) and use up one firing; False if it does not fire this time."""
        if self.spec.probability < 1.0 and self.rng.random() >= self.spec.probability:
            return False
        self.fired += 1
        if self.remaining is not None:
            self.remaining -= 1
        return True

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0

    def describe(self) -> dict[str, Any]:
        return {"id": self.rule_id, **self.spec.describe(), "count": self.remaining, "fired": self.fired}


class FaultInjector:
    """Thread-safe list of active rules.  The WS-Man service calls take(); the rest is called by the simulator."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[ActiveRule] = []
        self._next_id = 1
        self._armed_vm: str | None = None

    # ------------------------------------------------------------ managing rules

    def add(self, spec: FaultSpec, vm_ids: frozenset[str] | None = None) -> dict[str, Any]:
        """Activate a validated rule; vm_ids are the ids its vm resolves to on this host."""
        with self._lock:
            rule = ActiveRule(self._next_id, spec, vm_ids, spec.count, random.Random(spec.seed))
            self._next_id += 1
            self._rules.append(rule)
            return rule.describe()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def clear(self) -> int:
        """Remove every rule (from the fleet file too); returns how many there were."""
        with self._lock:
            count = len(self._rules)
            self._rules.clear()
            return count

    def _first(self, effect: str, operation: str | None, vm_id: str | None,
               accept: Callable[[FaultSpec], bool] = lambda spec: True) -> FaultSpec | None:
        """The first rule of this effect that matches and fires; it uses up one firing."""
        with self._lock:
            for rule in self._rules:
                if rule.spec.effect == effect and accept(rule.spec) and rule.matches(operation, vm_id) and rule.fire():
                    if rule.exhausted:
                        self._rules.remove(rule)
                    return rule.spec
        return None

    # ------------------------------------------------------------ the request path

    def latency(self, operation: str | None, vm_id: str | None) -> float:
        """Seconds to wait before handling the request: the sum of every matching latency rule that fires."""
        with self._lock:
            total = 0.0
            for rule in list(self._rules):
                if rule.spec.effect == LATENCY and rule.matches(operation, vm_id) and rule.fire():
                    total += rule.spec.value / 1000.0
                    if rule.exhausted:
                        self._rules.remove(rule)
            return total

    def drop(self, when: str, operation: str | None, vm_id: str | None) -> bool:
        """Whether to close the connection without a response, 'before' or 'after' the operation."""
        return self._first(DROP, operation, vm_id, lambda spec: spec.value == when) is not None

    def bare_500(self, operation: str | None, vm_id: str | None) -> bool:
        """Whether to answer HTTP 500 with an empty body instead of handling the request."""
        return self._first(FAULT, operation, vm_id, lambda spec: spec.value == BARE_HTTP_500) is not None

    def hostile_body(self, operation: str | None, vm_id: str | None) -> str | None:
        """The kind of hostile body (hostile.py) to answer instead of handling the request, if a rule says so."""
        spec = self._first(BODY, operation, vm_id)
        return None if spec is None else spec.value

    def arm(self, vm_id: str | None) -> None:
        """The VM of the request the service is about to handle (take() cannot see it); called under the model lock."""
        self._armed_vm = vm_id

    def take(self, operation: str) -> faults.WsmanFault | None:
        """The SOAP fault to raise for this operation now, if a rule says so (the service's injection point)."""
        spec = self._first(FAULT, operation, self._armed_vm, lambda spec: spec.value != BARE_HTTP_500)
        return None if spec is None else faults.INJECTABLE[spec.value]()

    # ------------------------------------------------------------ jobs

    def job_plan(self, kind: jobmod.JobKind, vm_id: str, plan: jobmod.JobPlan,
                 may_change_result: bool) -> jobmod.JobPlan:
        """The plan of a new job with the first matching job and job_seconds rules applied.  A job the model
        already fails (invalid_state: job) keeps its result; only its duration can change."""
        operation = "Invoke:" + kind.method
        if may_change_result:
            result = self._first(JOB, operation, vm_id)
            if result is not None:
                plan = replace(plan, result=result.value, hang_percent=result.percent, error_code=result.error_code)
        seconds = self._first(JOB_SECONDS, operation, vm_id)
        return plan if seconds is None else replace(plan, seconds=seconds.value)
