# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DR drill report (report.json) as JUnit XML, so a CI server shows each drill step as a test.

One suite per host, one test case per VM and step (precheck, failover, checks, revert). A VM left failed
over fails its revert case unless the drill ran with ``revert: false``, where that is what was asked for.
ElementTree does the escaping; characters XML 1.0 cannot carry become visible escapes first.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, NamedTuple, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.report.wording import clean_text, human_seconds, one_line
from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import utc_time

STEPS = ("precheck", "failover", "checks", "revert")
_COUNTED = ("tests", "failures", "errors", "skipped")


class Outcome(NamedTuple):
    """How one step ended, in JUnit's terms: ``kind`` is passed, failure, error or skipped."""

    kind: str
    message: str = ""
    detail: str = ""
    seconds: Any = None
    out: str = ""


def _timestamp(value: Any) -> Optional[str]:
    """UTC without an offset: the JUnit schema's timestamp allows no zone."""
    parsed = utc_time(value)
    return parsed.replace(tzinfo=None).isoformat(timespec="seconds") if parsed else None


def _seconds(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        value = 0
    return "%.3f" % value


def _lines(pairs: list[tuple[str, Any]]) -> str:
    return "\n".join("%s: %s" % (key, clean_text(value) if value not in (None, "") else "-") for key, value in pairs)


def _skip_reason(vm: dict, report: dict, step: str) -> str:
    """Why a step did not run, from the earliest step that stopped the VM."""
    if not (vm.get("precheck") or {}).get("passed"):
        return "pre-check failed"
    failover = (vm.get("failover") or {}).get("status")
    if step != "failover" and failover == "failed":
        return "failover failed"
    if step != "failover" and failover == "in_progress":
        return "failover did not finish"
    settings = report.get("settings") or {}
    if step == "checks" and not settings.get("checks"):
        return "no checks configured"
    if step == "revert" and settings.get("revert") is False:
        return "revert: false"
    status = one_line((vm.get(step) or {}).get("status")) or "not recorded"
    error = one_line((vm.get(step) or {}).get("error"))
    return "%s %s%s" % (step, status, ": " + error if error else "")


def _precheck(vm: dict, report: dict) -> Outcome:
    precheck = vm.get("precheck") or {}
    facts = _lines([(key, precheck.get(key)) for key in
                    ("mode", "state", "health", "power_state", "last_replication_time")])
    if precheck.get("passed"):
        return Outcome("passed", out=facts)
    found = [one_line(problem) for problem in precheck.get("problems") or []] or ["no problem recorded"]
    return Outcome("failure", "pre-check failed: " + "; ".join(found), "\n".join(found), out=facts)


def _failover_out(vm: dict, step: dict) -> str:
    point = vm.get("recovery_point") or {}
    return _lines([("vm_id", vm.get("id")), ("recovery_point", point.get("name")),
                   ("recovery_point_type", point.get("type")), ("recovery_point_id", point.get("id")),
                   ("recovery_point_created", point.get("created")), ("rpo_seconds", vm.get("rpo_seconds")),
                   ("rpo", human_seconds(vm.get("rpo_seconds"))), ("requested", step.get("requested")),
                   ("finished", step.get("finished")), ("job_id", step.get("job_id")),
                   ("job_state", step.get("job_state")), ("state_after", step.get("state_after"))])


def _failover(vm: dict, report: dict) -> Outcome:
    step = vm.get("failover") or {}
    out = _failover_out(vm, step)
    status = step.get("status")
    error = one_line(step.get("error"))
    if status in ("changed", "unchanged"):
        return Outcome("passed", seconds=step.get("seconds"), out=out)
    if status == "failed":
        return Outcome("failure", "failover failed: " + (error or "no error recorded"), clean_text(step.get("error")),
                       step.get("seconds"), out)
    if status == "in_progress":
        message = "failover still in progress (job %s)%s" % (one_line(step.get("job_id")) or "?",
                                                             ": " + error if error else "")
        return Outcome("failure", message, clean_text(step.get("error")), step.get("seconds"), out)
    return Outcome("skipped", _skip_reason(vm, report, "failover"), out=out)


def _checks(vm: dict, report: dict) -> Outcome:
    checks = vm.get("checks") or {}
    host_checks = _host_checks(vm, report)
    out = _lines([(one_line(check.get("name")), _check_result(check)) for check in host_checks])
    if checks.get("passed") is None:
        return Outcome("skipped", _skip_reason(vm, report, "checks"), out=out)
    if checks.get("passed"):
        return Outcome("passed", out=out)
    failed = [one_line(name) for name in checks.get("failed") or []] or ["unnamed check"]
    messages = {one_line(check.get("name")): clean_text(check.get("msg")) for check in host_checks}
    detail = "\n".join("%s: %s" % (name, messages.get(name) or "no message") for name in failed)
    return Outcome("failure", "checks failed: " + ", ".join(failed), detail, out=out)


def _check_result(check: dict) -> str:
    if check.get("passed"):
        return "passed"
    return "FAILED: " + (one_line(check.get("msg")) or "no message")


def _host_checks(vm: dict, report: dict) -> list[dict]:
    for host in report.get("hosts") or []:
        if _same_host(host.get("name"), vm.get("host")):
            return host.get("checks") or []
    return []


def _revert(vm: dict, report: dict) -> Outcome:
    step = vm.get("revert") or {}
    status = step.get("status")
    out = _lines([(key, step.get(key)) for key in ("requested", "finished", "job_id", "job_state", "state_after")]
                 + [("final_state", vm.get("final_state"))])
    stranded = vm.get("left_failed_over")
    if stranded and (report.get("settings") or {}).get("revert") is False and status in ("not_run", "skipped", None):
        return Outcome("skipped", "revert: false, VM left failed over on purpose", out=out)
    error = one_line(step.get("error"))
    trouble = {"failed": "revert failed: " + (error or "no error recorded"),
               "in_progress": "revert still in progress (job %s)" % (one_line(step.get("job_id")) or "?")}.get(status)
    if stranded:
        state = one_line(vm.get("final_state")) or "unknown"
        message = "LEFT FAILED OVER (final state: %s)%s" % (state, ": " + trouble if trouble else "")
        return Outcome("failure", message, clean_text(step.get("error")), step.get("seconds"), out)
    if trouble:
        return Outcome("failure", trouble, clean_text(step.get("error")), step.get("seconds"), out)
    if status in ("changed", "unchanged"):
        return Outcome("passed", seconds=step.get("seconds"), out=out)
    return Outcome("skipped", _skip_reason(vm, report, "revert"), out=out)


_STEP_OUTCOMES = {"precheck": _precheck, "failover": _failover, "checks": _checks, "revert": _revert}


def _testcase(classname: str, name: str, outcome: Outcome) -> ET.Element:
    case = ET.Element("testcase", {"classname": classname, "name": name, "time": _seconds(outcome.seconds)})
    if outcome.kind != "passed":
        child = ET.SubElement(case, outcome.kind, {"message": one_line(outcome.message)})
        if outcome.kind != "skipped":
            child.set("type", name)
            child.text = clean_text(outcome.detail or outcome.message)
    if outcome.out:
        ET.SubElement(case, "system-out").text = outcome.out
    return case


def _same_host(left: Any, right: Any) -> bool:
    """Windows host names compare without regard to case."""
    return one_line(left).casefold() == one_line(right).casefold()


def _hosts_with_vms(report: dict) -> list[tuple[dict, list[dict]]]:
    """Each host with its VMs, in report order; a VM naming a host the report does not list gets one."""
    groups: list[tuple[dict, list[dict]]] = [(host, []) for host in report.get("hosts") or []]
    for vm in report.get("vms") or []:
        group = next((g for g in groups if _same_host(g[0].get("name"), vm.get("host"))), None)
        if group is None:
            group = ({"name": vm.get("host")}, [])
            groups.append(group)
        group[1].append(vm)
    return groups


def _suite_seconds(host: dict, cases: list[ET.Element]) -> float:
    started, finished = utc_time(host.get("started")), utc_time(host.get("finished"))
    if started and finished and finished >= started:
        return (finished - started).total_seconds()
    return sum(float(case.get("time") or 0) for case in cases)


def _count(cases: list[ET.Element]) -> dict[str, int]:
    counts = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
    for case in cases:
        for kind, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            counts[key] += len(case.findall(kind))
    return counts


def _host_suite(host: dict, vms: list[dict], report: dict) -> ET.Element:
    name = one_line(host.get("name")) or "unknown host"
    cases = []
    if host.get("error"):
        cases.append(_testcase(name, "host", Outcome("error", one_line(host.get("error")), host.get("error"))))
    for vm in vms:
        classname = "%s.%s" % (name, one_line(vm.get("name")) or one_line(vm.get("id")) or "unnamed")
        cases.extend(_testcase(classname, step, _STEP_OUTCOMES[step](vm, report)) for step in STEPS)
    suite = ET.Element("testsuite", {"name": name})
    for key, value in _count(cases).items():
        suite.set(key, str(value))
    suite.set("time", _seconds(_suite_seconds(host, cases)))
    _set_optional(suite, "timestamp", _timestamp(host.get("started")))
    _set_optional(suite, "hostname", one_line(host.get("endpoint")))
    suite.append(_properties(host, report))
    suite.extend(cases)
    return suite


def _set_optional(element: ET.Element, key: str, value: Optional[str]) -> None:
    if value:
        element.set(key, value)


def _properties(host: dict, report: dict) -> ET.Element:
    """The drill's settings, so a CI page answers "what was tested" without report.json."""
    settings = report.get("settings") or {}
    pairs = [("endpoint", host.get("endpoint")), ("host_result", host.get("result"))]
    pairs += [(key, settings.get(key)) for key in ("recovery_point", "recovery_point_before", "revert",
                                                   "wait_timeout", "max_replication_age_minutes")]
    pairs.append(("checks", ", ".join(one_line(name) for name in settings.get("checks") or [])))
    element = ET.Element("properties")
    for key, value in pairs:
        text = one_line(str(value).lower() if isinstance(value, bool) else value)
        ET.SubElement(element, "property", {"name": key, "value": text})
    return element


def render(report: dict) -> str:
    """The report as a JUnit XML document, with its UTF-8 declaration."""
    suites = [_host_suite(host, vms, report) for host, vms in _hosts_with_vms(report)]
    root = ET.Element("testsuites", {"name": one_line(report.get("title")) or "DR drill"})
    for key in _COUNTED:
        root.set(key, str(sum(int(suite.get(key) or 0) for suite in suites)))
    root.set("time", _seconds(report.get("duration_seconds")))
    _set_optional(root, "timestamp", _timestamp(report.get("started")))
    root.extend(suites)
    if hasattr(ET, "indent"):  # Python 3.9+; older targets get the same document on fewer lines
        ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
