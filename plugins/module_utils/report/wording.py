# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the drill report's renderers share, so that they tell the same story in the same words.

Making untrusted text safe to print, the report's times and durations as a reader sees them, the per-VM table
cells, what is drawn from the report (the VMs left failed over, the problems, the counts) and the advice, for
report.xml, report.md, report.html and the terminal summary alike.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import precise_duration, utc_time

TABLE_HEADERS = ("Host", "VM", "Result", "Pre-check", "Recovery point", "RPO", "Failover requested (UTC)",
                 "Job finished (UTC)", "Checks", "Reverted (UTC)", "Final state")

# Characters a terminal acts on (ESC, CSI, BEL...) or XML 1.0 cannot carry; shown as \xNN instead.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: Any) -> str:
    """``value`` as text with no control character left: they become visible escapes such as ``\\x1b``.

    Reports quote Windows error messages and check output verbatim; an ANSI escape or NUL in them must
    neither corrupt a terminal nor make the XML invalid, and the reader should still see it was there.
    """
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub(_visible_escape, text)


def _visible_escape(match: re.Match) -> str:
    code = ord(match.group(0))
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def one_line(value: Any) -> str:
    """``clean_text`` with newlines and tabs as spaces, for a table cell or an attribute."""
    return " ".join(clean_text(value).replace("\t", " ").split("\n")).strip()


def format_time(value: Any, day: Optional[datetime] = None) -> str:
    """``HH:MM:SS`` in UTC, with the date in front unless it is the date of ``day``; ``-`` when absent."""
    parsed = utc_time(value)
    if parsed is None:
        return "-"
    if day is not None and parsed.date() == day.date():
        return parsed.strftime("%H:%M:%S")
    return parsed.strftime("%Y-%m-%d %H:%M:%S")


def human_seconds(value: Any) -> str:
    """A duration as a person says it: ``2.5 s``, ``5 min 2 s``, ``1 h 3 s``, ``2 d 4 h``; ``-`` when absent."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "-"
    return precise_duration(value)


def result_word(value: Any) -> str:
    return {"passed": "PASSED", "failed": "FAILED"}.get(value, one_line(value).upper() or "UNKNOWN")


def report_day(report: dict) -> Optional[datetime]:
    return utc_time(report.get("started"))


def vm_label(vm: dict) -> str:
    return "%s / %s" % (one_line(vm.get("host")), one_line(vm.get("name")))


def _step(vm: dict, name: str) -> dict:
    return vm.get(name) or {}


def _precheck_cell(vm: dict) -> str:
    precheck = _step(vm, "precheck")
    if precheck.get("passed"):
        return "passed"
    count = len(precheck.get("problems") or [])
    return "FAILED (%d problem%s)" % (count, "" if count == 1 else "s")


def _recovery_point_cell(vm: dict, day: Optional[datetime]) -> str:
    point = vm.get("recovery_point")
    if not point:
        return "-"
    kind = one_line(point.get("type")) or "?"
    if kind == "latest" or not point.get("created"):
        return kind
    return "%s, %s" % (kind, format_time(point.get("created"), day))


def _failover_cell(vm: dict, day: Optional[datetime]) -> str:
    step = _step(vm, "failover")
    status = step.get("status")
    if status in ("skipped", "not_run") or (status is None and not step.get("requested")):
        return one_line(status) or "-"
    requested = format_time(step.get("requested"), day)
    if status == "failed":
        return requested + " FAILED"
    if status == "in_progress":
        return requested + " still running"
    return requested


def _job_cell(vm: dict, day: Optional[datetime]) -> str:
    step = _step(vm, "failover")
    if not step.get("finished") and not step.get("job_state"):
        return "-"
    return ("%s %s" % (format_time(step.get("finished"), day), one_line(step.get("job_state")))).strip()


def _checks_cell(vm: dict) -> str:
    checks = _step(vm, "checks")
    if checks.get("passed") is None:
        return "-"
    if checks.get("passed"):
        return "passed"
    failed = ", ".join(one_line(name) for name in checks.get("failed") or [])
    return "FAILED: " + failed if failed else "FAILED"


def _revert_cell(vm: dict, report: dict, day: Optional[datetime]) -> str:
    step = _step(vm, "revert")
    status = step.get("status")
    if status == "changed":
        return format_time(step.get("finished"), day)
    if status == "unchanged":
        return "not needed"
    if status == "failed":
        return "FAILED " + format_time(step.get("finished"), day)
    if status == "in_progress":
        return "still running"
    if (report.get("settings") or {}).get("revert") is False:
        return "no (revert: false)"
    return one_line(status) or "-"


def _final_state_cell(vm: dict) -> str:
    state = one_line(vm.get("final_state")) or "?"
    return state + " (LEFT FAILED OVER)" if vm.get("left_failed_over") else state


def vm_cells(vm: dict, report: dict) -> list[str]:
    """The per-VM table row, as plain one-line text in the order of TABLE_HEADERS."""
    day = report_day(report)
    return [one_line(vm.get("host")), one_line(vm.get("name")), result_word(vm.get("result")), _precheck_cell(vm),
            _recovery_point_cell(vm, day), human_seconds(vm.get("rpo_seconds")), _failover_cell(vm, day),
            _job_cell(vm, day), _checks_cell(vm), _revert_cell(vm, report, day), _final_state_cell(vm)]


def left_failed_over(report: dict) -> list[dict]:
    return [vm for vm in report.get("vms") or [] if vm.get("left_failed_over")]


def problems(report: dict) -> list[tuple[str, str]]:
    """(where, what) for every host error and every VM error, in report order."""
    found = [(one_line(host.get("name")), clean_text(host.get("error")))
             for host in report.get("hosts") or [] if host.get("error")]
    for vm in report.get("vms") or []:
        found.extend((vm_label(vm), clean_text(error)) for error in vm.get("errors") or [])
    return found


COUNT_LABELS = (("hosts", "hosts"), ("hosts_failed", "hosts failed"), ("vms", "VMs"), ("passed", "passed"),
                ("failed", "failed"), ("precheck_failed", "pre-check failed"), ("failed_over", "failed over"),
                ("failover_failed", "failover failed"), ("checks_failed", "checks failed"), ("reverted", "reverted"),
                ("revert_failed", "revert failed"), ("left_failed_over", "left failed over"))


def count(report: dict, key: str) -> int:
    value = (report.get("counts") or {}).get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def counts_line(report: dict) -> str:
    """The report's own counts (the role computed them) in one sentence."""
    steps = ", ".join("%s %d" % (label, count(report, key)) for key, label in COUNT_LABELS[5:])
    return "%d hosts (%d failed); %d VMs: %d passed, %d failed; %s" % (
        count(report, "hosts"), count(report, "hosts_failed"), count(report, "vms"), count(report, "passed"),
        count(report, "failed"), steps)


def stranded_note(report: dict) -> str:
    """What being left failed over means, and whether the drill meant it."""
    note = "The replica runs and replication from the primary is stopped until each VM is reverted."
    if (report.get("settings") or {}).get("revert") is False:
        note += " The drill ran with revert: false, so this was asked for; revert them when the test is over."
    return note


def powershell_quote(value: Any) -> str:
    """A single-quoted PowerShell string: inside one, only the quote itself needs doubling."""
    return "'%s'" % one_line(value).replace("'", "''")
