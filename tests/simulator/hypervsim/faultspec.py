"""Fault-injection rules as a fleet file (`faults:` on a host) or the control API (POST /_sim/faults) writes them.

A rule says which requests it matches (an operation and, optionally, a VM), has exactly one effect, and says how
often it fires (count, probability).  Both sources go through parse_fault_spec, so a bad rule is reported the same
way, with the key path that is wrong.  The effects:

    latency_ms: 20                      the request waits this long before it is handled
    drop: before | after                the TCP connection is closed without a response, before the operation takes
                                        effect or after it has
    fault: TimedOut | AccessDenied | InternalError | InvalidEnumerationContext   that SOAP fault, HTTP 500
    fault: http500                      HTTP 500 with an empty body, as a broken proxy or a crashing service sends it
    job: completed | warnings | exception | hang   how the jobs that matching Invokes start end
    job_seconds: 60                     how long those jobs run
    body: dtd | external_entity | huge | truncated | wrong_namespace
                                        HTTP 200 with that hostile or broken body instead of the answer (hostile.py);
                                        nothing happens
"""

from dataclasses import dataclass
from typing import Any

from . import faults, hostile

LATENCY, DROP, FAULT, JOB, JOB_SECONDS, BODY = "latency_ms", "drop", "fault", "job", "job_seconds", "body"
EFFECTS = (LATENCY, DROP, FAULT, JOB, JOB_SECONDS, BODY)
OPTIONS = ("operation", "vm", "count", "probability", "seed", "percent", "error_code")
RULE_KEYS = frozenset(EFFECTS + OPTIONS)
# Modifiers last until cleared; faults, drops and job results injected at run time fire once unless counted.
LASTING = (LATENCY, JOB_SECONDS)

BARE_HTTP_500 = "http500"
DROP_WHEN = ("before", "after")
JOB_RESULTS = ("completed", "warnings", "exception", "hang")
SIMPLE_OPERATIONS = ("Get", "Enumerate", "Pull", "Release")
ANY, ANY_INVOKE = "*", "Invoke:*"
DEFAULT_HANG_PERCENT = 50
DEFAULT_JOB_ERROR = 32768          # the Failed return code, as a failing job reports it (hyperv notes 1.3)


class SpecError(ValueError):
    """A rule that cannot be used; the message starts with the key path."""


@dataclass(frozen=True)
class FaultSpec:  # pylint: disable=too-many-instance-attributes
    """One validated rule.  count None means unlimited."""

    effect: str
    value: Any
    operation: str = ANY
    vm: str | None = None
    count: int | None = None
    probability: float = 1.0
    seed: int = 0
    percent: int = DEFAULT_HANG_PERCENT
    error_code: int = DEFAULT_JOB_ERROR

    def matches_operation(self, operation: str | None) -> bool:
        if operation is None:
            return False
        if self.operation == ANY:
            return True
        if self.operation == ANY_INVOKE:
            return operation.startswith("Invoke:")
        return self.operation == operation

    def describe(self) -> dict[str, Any]:
        """The rule in the syntax it was written in (only the options that matter)."""
        result: dict[str, Any] = {"operation": self.operation, self.effect: self.value}
        if self.vm is not None:
            result["vm"] = self.vm
        if self.probability < 1.0:
            result.update(probability=self.probability, seed=self.seed)
        if self.effect == JOB and self.value == "hang":
            result["percent"] = self.percent
        if self.effect == JOB and self.value == "exception":
            result["error_code"] = self.error_code
        return result


def _fail(where: str, message: str) -> SpecError:
    return SpecError(f"{where}: {message}")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise _fail(where, f"expected a number >= 0, got {value!r}")
    return float(value)


def _integer(value: Any, where: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise _fail(where, f"expected an integer {bound}, got {value!r}")
    return value


def _canonical(text: str, choices: tuple[str, ...]) -> str | None:
    return next((choice for choice in choices if choice.lower() == text.strip().lower()), None)


def _choice(value: Any, choices: tuple[str, ...], where: str) -> str:
    """One of choices, matched case-insensitively and returned in its canonical spelling."""
    found = _canonical(value, choices) if isinstance(value, str) else None
    if found is None:
        raise _fail(where, f"expected one of {list(choices)}, got {value!r}")
    return found


def known_methods() -> tuple[str, ...]:
    # Imported here: the table imports the model, which imports the fleet loader, which imports this module.
    from . import methods  # pylint: disable=import-outside-toplevel
    return methods.names()


def canonical_operation(value: Any, where: str) -> str:
    """'*', Get, Enumerate, Pull, Release, 'Invoke:*' or 'Invoke:<Method>' with a modelled method, any case."""
    found = None
    if isinstance(value, str):
        prefix, sep, method = value.strip().partition(":")
        if not sep:
            found = _canonical(prefix, SIMPLE_OPERATIONS + (ANY,))
        elif prefix.strip().lower() == "invoke":
            name = _canonical(method, known_methods() + ("*",))
            found = None if name is None else f"Invoke:{name}"
    if found is None:
        raise _fail(where, f"expected '*', {', '.join(SIMPLE_OPERATIONS)}, 'Invoke:*' or 'Invoke:<Method>' "
                           f"(methods: {list(known_methods())}), got {value!r}")
    return found


def _count(value: Any, where: str) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() == "unlimited"):
        return None
    return _integer(value, where, 1)


def _probability(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise _fail(where, f"expected a number in (0, 1], got {value!r}")
    return float(value)


def _effect(raw: dict[str, Any], where: str) -> tuple[str, Any]:
    present = [key for key in EFFECTS if key in raw]
    if len(present) != 1:
        raise _fail(where, f"a rule needs exactly one of {list(EFFECTS)}, got {present or 'none'}")
    key = present[0]
    value, at = raw[key], f"{where}.{key}"
    if key in (LATENCY, JOB_SECONDS):
        return key, _number(value, at)
    if key == DROP:
        return key, _choice(value, DROP_WHEN, at)
    if key == JOB:
        return key, _choice(value, JOB_RESULTS, at)
    if key == BODY:
        return key, _choice(value, hostile.KINDS, at)
    return key, _choice(value, tuple(faults.INJECTABLE) + (BARE_HTTP_500,), at)


def _job_options(raw: dict[str, Any], where: str, effect: str, value: Any) -> dict[str, Any]:
    """percent goes with job: hang, error_code with job: exception; job rules match Invokes only."""
    options: dict[str, Any] = {}
    if "percent" in raw:
        if (effect, value) != (JOB, "hang"):
            raise _fail(f"{where}.percent", "only a rule with job: hang takes a percent")
        options["percent"] = _integer(raw["percent"], f"{where}.percent", 0, 99)
    if "error_code" in raw:
        if (effect, value) != (JOB, "exception"):
            raise _fail(f"{where}.error_code", "only a rule with job: exception takes an error_code")
        options["error_code"] = _integer(raw["error_code"], f"{where}.error_code", 1, 65535)
    return options


def parse_fault_spec(raw: Any, where: str, *, lasting_default: bool) -> FaultSpec:
    """Validate one rule.  lasting_default: count defaults to unlimited for every effect (fleet files); otherwise
    only latency and job_seconds are unlimited and the rest fire once (the control API's one-shot faults)."""
    if not isinstance(raw, dict):
        raise _fail(where, f"expected a mapping, got {type(raw).__name__}")
    unknown = sorted(str(key) for key in set(raw) - RULE_KEYS)
    if unknown:
        raise _fail(where, f"unknown key(s) {unknown}; allowed: {sorted(RULE_KEYS)}")
    effect, value = _effect(raw, where)
    operation = canonical_operation(raw.get("operation", ANY), f"{where}.operation")
    if effect in (JOB, JOB_SECONDS) and operation not in (ANY, ANY_INVOKE) and not operation.startswith("Invoke:"):
        raise _fail(f"{where}.operation", f"{effect} rules act on the jobs of Invokes: use '*', 'Invoke:*' or "
                                          f"'Invoke:<Method>', not {operation!r}")
    vm = raw.get("vm")
    if vm is not None and (not isinstance(vm, str) or not vm.strip()):
        raise _fail(f"{where}.vm", f"expected a VM name or id, got {vm!r}")
    default_count = None if lasting_default or effect in LASTING else 1
    probability = _probability(raw["probability"], f"{where}.probability") if "probability" in raw else 1.0
    seed = _integer(raw["seed"], f"{where}.seed", 0) if "seed" in raw else 0
    return FaultSpec(effect=effect, value=value, operation=operation, vm=vm.strip() if vm else None,
                     count=_count(raw["count"], f"{where}.count") if "count" in raw else default_count,
                     probability=probability, seed=seed, **_job_options(raw, where, effect, value))
