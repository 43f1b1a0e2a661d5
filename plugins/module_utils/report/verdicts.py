# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drill report: what the dr_drill role recorded on each host, turned into one verdict per VM and per drill.

The role records, per host, what the modules returned (pre-check, failover, the user's checks, revert). This file
decides from that record alone what each VM's drill achieved: the recovery point it got and its age at the moment
the failover was asked for (the RPO the drill achieved), whether every step passed, and whether the VM was left
failed over. The renderers (render_junit, render_markdown, render_html) only present that result; the format is
docs/drill-report.schema.json.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.hyperv.replica.plugins.module_utils.errors import HypervError
from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import human_duration, parse_time

SCHEMA_VERSION = 1
# Replication states of a VM that is (or may be becoming) failed over: a drill that ends with one has not cleaned up.
FAILED_OVER_STATES = ("Recovered", "Failover in progress", "Committed")
_RUNNING_JOB_STATES = ("New", "Starting", "Running", "Suspended", "Shutting Down")
_PRECHECK_KEYS = ("passed", "problems", "mode", "state", "health", "power_state", "last_replication_time")


def _iso(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() if value else None


def _step_status(entry: Optional[Dict[str, Any]]) -> str:
    if entry is None:
        return "not_run"
    if entry.get("error"):
        if entry.get("job_id") and entry.get("job_state") in _RUNNING_JOB_STATES:
            return "in_progress"
        return "failed"
    return "changed" if entry.get("changed") else "unchanged"


def step(entry: Optional[Dict[str, Any]], status: Optional[str] = None, error: Optional[str] = None) -> Dict[str, Any]:
    """A report step (failover or revert) from the failover module's entry for the VM, if any."""
    entry = entry or {}
    timings = entry.get("timings") or {}
    return {
        "status": status or _step_status(entry or None),
        "requested": timings.get("invoked"), "finished": timings.get("job_finished"),
        "seconds": entry.get("seconds_waited"), "job_id": entry.get("job_id"), "job_state": entry.get("job_state"),
        "state_after": entry.get("state_after"), "error": error or entry.get("error"),
    }


def _by_id(module_result: Optional[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    return {str(vm.get("id", "")).upper(): vm for vm in (module_result or {}).get("vms") or []}


def _module_step(module_result: Optional[Dict[str, Any]], vm_id: str) -> Dict[str, Any]:
    """The step of one VM in a failover call: its entry, or the call's own failure when it reported no VMs."""
    if not module_result or not module_result.get("ran"):
        return step(None)
    entry = _by_id(module_result).get(vm_id)
    if entry is not None:
        return step(entry)
    return step(None, status="failed", error=module_result.get("msg") or "the task ended without a result for it")


def rpo_seconds(precheck: Dict[str, Any], point: Optional[Dict[str, Any]], requested: Optional[str]) -> Optional[float]:
    """How old the data the VM came back with was when the failover was asked for.

    A chosen recovery point carries its creation time; the latest point in time is the last replication the
    pre-check read, which a replication between the pre-check and the failover makes a little older than the data
    actually used: the figure errs on the safe side.
    """
    asked = parse_time(requested, strict=True)
    if asked is None or not point:
        return None
    taken = parse_time(point.get("created"), strict=True) or (
        parse_time(precheck.get("last_replication_time"), strict=True) if point.get("type") == "latest" else None)
    return None if taken is None else round((asked - taken).total_seconds(), 3)


class _VmVerdict:
    """One VM's report entry, built step by step from the host record."""

    def __init__(self, record: Dict[str, Any], precheck: Dict[str, Any], revert_wanted: bool) -> None:
        self.record = record
        self.precheck = precheck
        self.revert_wanted = revert_wanted
        self.vm_id = str(precheck.get("id") or "").upper()
        self.errors: List[str] = []

    def build(self) -> Dict[str, Any]:
        pre = {key: self.precheck.get(key) for key in _PRECHECK_KEYS}
        pre["problems"] = list(pre["problems"] or [])
        pre["passed"] = bool(pre["passed"])
        if not pre["passed"]:
            self.errors.append("VM %s failed the pre-check: %s" % (
                self.precheck.get("name"), "; ".join(pre["problems"])))
            skipped = step(None, status="skipped")
            return self._entry(pre, None, skipped, {"passed": None, "failed": []}, dict(skipped), pre["state"])
        failover = _module_step(self.record.get("failover"), self.vm_id)
        point = (_by_id(self.record.get("failover")).get(self.vm_id) or {}).get("recovery_point")
        checks = self._checks(failover)
        revert = self._revert(failover)
        final = revert["state_after"] or failover["state_after"] or pre["state"]
        for label, current in (("failover", failover), ("revert", revert)):
            if current["status"] in ("failed", "in_progress"):
                self.errors.append(self._named("%s: %s" % (label, current["error"])))
        return self._entry(pre, point, failover, checks, revert, final)

    def _checks(self, failover: Dict[str, Any]) -> Dict[str, Any]:
        if failover["state_after"] != "Recovered" or not self.record.get("checks"):
            return {"passed": None, "failed": []}
        failed = [c["name"] for c in self.record["checks"] if not c.get("passed")]
        for check in self.record["checks"]:
            if not check.get("passed"):
                self.errors.append("check %s failed while VM %s was failed over: %s" % (
                    check["name"], self.precheck.get("name"), check.get("msg") or "no message"))
        return {"passed": not failed, "failed": failed}

    def _revert(self, failover: Dict[str, Any]) -> Dict[str, Any]:
        if not self.revert_wanted:
            return step(None, status="not_run")
        # A revert that ran counts even when the failover left no record (its task died before being recorded).
        if failover["status"] == "not_run" and not (self.record.get("revert") or {}).get("ran"):
            return step(None, status="skipped")
        return _module_step(self.record.get("revert"), self.vm_id)

    def _named(self, error: str) -> str:
        """A call-level message (one for the whole host) does not name the VM: say which VM it cost."""
        name = str(self.precheck.get("name"))
        return error if name in error else "VM %s: %s" % (name, error)

    def _entry(self, pre: Dict[str, Any], point: Optional[Dict[str, Any]], failover: Dict[str, Any],
               checks: Dict[str, Any], revert: Dict[str, Any], final: Optional[str]) -> Dict[str, Any]:
        # A VM that ends failed over is reported so, whoever failed it over: a rerun after a killed drill must not
        # say "0 left failed over" while the table shows Recovered.
        left = final in FAILED_OVER_STATES
        if left and self.revert_wanted and pre["state"] in FAILED_OVER_STATES:
            self.errors.append("LEFT FAILED OVER: VM %s is %s on %s, as it already was before this drill (an earlier "
                               "drill that was stopped, or an operator): this drill did not touch it; revert it with "
                               "hyperv.replica.failover state=reverted (or Stop-VMFailover) once you know why" % (
                                   self.precheck.get("name"), final, self.record.get("host")))
        elif left and self.revert_wanted:
            # Without revert the VM is failed over on purpose: the report lists it, but it is not an error.
            self.errors.append("LEFT FAILED OVER: VM %s is %s on %s because its revert did not succeed; revert it with "
                               "hyperv.replica.failover state=reverted (or Stop-VMFailover) once the cause is fixed" % (
                                   self.precheck.get("name"), final, self.record.get("host")))
        if self.revert_wanted and not left and revert["status"] in ("changed", "unchanged") and final != "Replicating":
            self.errors.append("VM %s is %s after its revert, not Replicating: check it with Get-VMReplication and "
                               "resume or resynchronize replication" % (self.precheck.get("name"), final))
        passed = (pre["passed"] and failover["status"] in ("changed", "unchanged") and checks["passed"] is not False
                  and (not self.revert_wanted or (revert["status"] in ("changed", "unchanged") and not left
                                                  and final == "Replicating")))
        # Only a failover that happened achieved a recovery point objective.
        rpo = rpo_seconds(pre, point, failover["requested"]) if failover["status"] == "changed" else None
        return {
            "host": self.record.get("host"), "name": self.precheck.get("name"), "id": self.precheck.get("id"),
            "result": "passed" if passed else "failed", "precheck": pre, "recovery_point": point,
            "rpo_seconds": rpo, "failover": failover, "checks": checks,
            "revert": revert, "final_state": final, "left_failed_over": left, "errors": self.errors,
        }


def _checks_of(record: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{"name": str(c.get("name")), "passed": bool(c.get("passed")), "msg": c.get("msg"),
             "started": c.get("started"), "finished": c.get("finished")} for c in record.get("checks") or []]


def _host(record: Dict[str, Any], vms: List[Dict[str, Any]]) -> Dict[str, Any]:
    checks = _checks_of(record)
    failed = bool(record.get("error")) or not vms or any(vm["result"] == "failed" for vm in vms) or any(
        not c["passed"] for c in checks)
    error = record.get("error") or (None if vms else "no Replica VM to fail over on this host")
    return {"name": str(record.get("host")), "endpoint": record.get("endpoint"), "started": record.get("started"),
            "finished": record.get("finished"), "result": "failed" if failed else "passed", "error": error,
            "checks": checks}


def _count(vms: List[Dict[str, Any]], hosts: List[Dict[str, Any]]) -> Dict[str, int]:
    def number(test: Any) -> int:
        return sum(1 for vm in vms if test(vm))
    return {
        "hosts": len(hosts), "hosts_failed": sum(1 for h in hosts if h["result"] == "failed"), "vms": len(vms),
        "passed": number(lambda vm: vm["result"] == "passed"), "failed": number(lambda vm: vm["result"] == "failed"),
        "precheck_failed": number(lambda vm: not vm["precheck"]["passed"]),
        "failed_over": number(lambda vm: vm["failover"]["state_after"] == "Recovered"),
        "failover_failed": number(lambda vm: vm["failover"]["status"] in ("failed", "in_progress")),
        "checks_failed": number(lambda vm: vm["checks"]["passed"] is False),
        "reverted": number(lambda vm: vm["revert"]["status"] == "changed"),
        "revert_failed": number(lambda vm: vm["revert"]["status"] in ("failed", "in_progress")),
        "left_failed_over": number(lambda vm: vm["left_failed_over"]),
    }


def _span(hosts: List[Dict[str, Any]], now: datetime) -> List[datetime]:
    starts = [parse_time(h["started"], strict=True) for h in hosts if h["started"]]
    ends = [parse_time(h["finished"], strict=True) for h in hosts if h["finished"]]
    started = min((t for t in starts if t), default=now)
    finished = max((t for t in ends if t), default=now)
    return [started, max(started, finished)]


def _as_list(value: Any) -> List[str]:
    """A list as Ansible takes one from a string: comma-separated."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value or []]


def _lost_host(name: str) -> Dict[str, Any]:
    """A host of the play with no record: it became unreachable, or the play stopped on it, before its report."""
    return {"name": name, "endpoint": None, "started": None, "finished": None, "result": "failed", "checks": [],
            "error": "no record of the drill on %s: it became unreachable or the play stopped on it before the "
                     "revert; its VMs may still be failed over: check them with hyperv.replica.replication_info and "
                     "revert them (hyperv.replica.failover state=reverted)" % name}


class RecordError(HypervError, ValueError):
    """A record that is not what the dr_drill role writes; the message names its host."""


def settings_of(raw: Dict[str, Any]) -> Dict[str, Any]:
    """The role settings the report shows, with their types fixed (role variables may arrive as strings)."""
    return {
        "recovery_point": str(raw.get("recovery_point") or "latest"),
        "recovery_point_before": raw.get("recovery_point_before") or None,
        "revert": boolean(raw.get("revert", True), strict=False),
        "wait_timeout": int(raw.get("wait_timeout") or 900),
        "max_replication_age_minutes": float(raw.get("max_replication_age_minutes") or 60),
        "checks": _as_list(raw.get("checks")),
    }


def _build_host(record: Dict[str, Any], revert_wanted: bool) -> List[Dict[str, Any]]:
    try:
        return [_VmVerdict(record, pre, revert_wanted).build() for pre in record.get("precheck") or []]
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise RecordError("the record of host %s is not what the dr_drill role writes: %s: %s" % (
            record.get("host"), type(exc).__name__, exc)) from exc


def build_report(records: Iterable[Dict[str, Any]], settings: Dict[str, Any], title: str = "DR drill",
                 now: Optional[datetime] = None, lost_hosts: Iterable[str] = ()) -> Dict[str, Any]:
    """The whole report (docs/drill-report.schema.json) from the role's per-host records.

    ``lost_hosts`` are hosts of the play that have no record: each is a failed host whose VMs may be failed over.
    """
    settings = settings_of(settings)
    vms: List[Dict[str, Any]] = []
    hosts: List[Dict[str, Any]] = []
    recorded = sorted(records, key=lambda r: str(r.get("host")))
    for record in recorded:
        host_vms = _build_host(record, settings["revert"])
        vms.extend(host_vms)
        hosts.append(_host(record, host_vms))
    names = {str(r.get("host")) for r in recorded}
    hosts.extend(_lost_host(name) for name in sorted(set(lost_hosts) - names))
    try:
        started, finished = _span(hosts, now or datetime.now(timezone.utc))
    except (ValueError, TypeError, AttributeError) as exc:
        raise RecordError("a host's start or end time is not ISO 8601: %s" % exc) from exc
    counts = _count(vms, hosts)
    failed = counts["hosts_failed"] > 0 or counts["vms"] == 0
    return {
        "schema_version": SCHEMA_VERSION, "title": title, "started": _iso(started), "finished": _iso(finished),
        "duration_seconds": round((finished - started).total_seconds(), 3),
        "result": "failed" if failed else "passed", "settings": settings, "counts": counts, "hosts": hosts,
        "vms": vms,
    }


def left_failed_over(report: Dict[str, Any]) -> List[str]:
    """"VM on HOST (state)" for every VM the drill left failed over: said in the module's warnings too."""
    return ["%s on %s (%s)" % (vm["name"], vm["host"], vm["final_state"]) for vm in report["vms"]
            if vm["left_failed_over"]]


def summary(report: Dict[str, Any]) -> str:
    """One line: the verdict and the counts."""
    counts = report["counts"]
    return ("DR drill %s: %d VMs on %d hosts, %d passed, %d failed (pre-check %d, failover %d, checks %d, revert %d); "
            "%d left failed over; %s" % (
                report["result"].upper(), counts["vms"], counts["hosts"], counts["passed"], counts["failed"],
                counts["precheck_failed"], counts["failover_failed"], counts["checks_failed"],
                counts["revert_failed"], counts["left_failed_over"],
                human_duration(report["duration_seconds"])))
