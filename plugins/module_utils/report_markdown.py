# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DR drill report (report.json) as Markdown, for a ticket or a wiki page, and as a plain-text table for a terminal.

It also holds what the three renderers share: reading the report's times, saying durations the way a person
does, making untrusted text safe to print, and the per-VM table cells, so that report.md, report.html and the
terminal summary tell the same story in the same words.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from typing import Any, Iterable, Optional

TABLE_HEADERS = ("Host", "VM", "Result", "Pre-check", "Recovery point", "RPO", "Failover requested (UTC)",
                 "Job finished (UTC)", "Checks", "Reverted (UTC)", "Final state")

# Characters a terminal acts on (ESC, CSI, BEL...) or XML 1.0 cannot carry; shown as \xNN instead.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FRACTION = re.compile(r"\.(\d+)")
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~])")
# An underscore only starts or ends emphasis next to a non-word character; inside a_word it is literal.
_MD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_CELL_LIMIT = 40


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


def parse_time(value: Any) -> Optional[datetime]:
    """An ISO 8601 time from the report as an aware UTC datetime; None when absent or unreadable.

    Accepts ``Z`` and any number of fraction digits so a report from another writer still renders.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_time(value: Any, day: Optional[datetime] = None) -> str:
    """``HH:MM:SS`` in UTC, with the date in front unless it is the date of ``day``; ``-`` when absent."""
    parsed = parse_time(value)
    if parsed is None:
        return "-"
    if day is not None and parsed.date() == day.date():
        return parsed.strftime("%H:%M:%S")
    return parsed.strftime("%Y-%m-%d %H:%M:%S")


def human_seconds(value: Any) -> str:
    """A duration as a person says it: ``2.5 s``, ``5 min 2 s``, ``1 h 3 s``, ``2 d 4 h``; ``-`` when absent."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "-"
    value = max(0.0, float(value))
    if value < 60:
        return ("%.1f" % value).rstrip("0").rstrip(".") + " s"
    total = int(round(value))
    parts = ((total // 86400, "d"), (total % 86400 // 3600, "h"), (total % 3600 // 60, "min"), (total % 60, "s"))
    return " ".join("%d %s" % (amount, unit) for amount, unit in parts if amount)


def result_word(value: Any) -> str:
    return {"passed": "PASSED", "failed": "FAILED"}.get(value, one_line(value).upper() or "UNKNOWN")


def report_day(report: dict) -> Optional[datetime]:
    return parse_time(report.get("started"))


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


def revert_advice(vm: dict) -> str:
    """What an operator runs to bring one VM back to Replicating."""
    return "hyperv.replica.failover with vms: [%s] and state: reverted, or on %s: Stop-VMFailover -VMName %s" % (
        one_line(vm.get("id") or vm.get("name")), one_line(vm.get("host")), powershell_quote(vm.get("name")))


# ----- Markdown -----

def md_escape(value: Any) -> str:
    """Text that Markdown shows literally: no emphasis, link, HTML tag or table break comes from data."""
    text = _MD_SPECIAL.sub(r"\\\1", clean_text(value))
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    return text.replace("\t", " ").replace("\n", "<br>")


def md_code(value: Any) -> str:
    """An inline code span holding ``value`` verbatim, fenced with more backticks than it contains."""
    text = one_line(value)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return fence + pad + text + pad + fence


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(md_escape(cell) for cell in cells) + " |"


def markdown_table(report: dict) -> str:
    lines = [_md_row(TABLE_HEADERS), "|" + "---|" * len(TABLE_HEADERS)]
    lines.extend(_md_row(vm_cells(vm, report)) for vm in report.get("vms") or [])
    return "\n".join(lines)


def _md_header(report: dict) -> list[str]:
    return ["# " + md_escape(report.get("title") or "DR drill report"), "",
            "**Result: %s**" % result_word(report.get("result")), "",
            "- Started: %s UTC" % md_escape(format_time(report.get("started"))),
            "- Finished: %s UTC" % md_escape(format_time(report.get("finished"))),
            "- Duration: %s" % human_seconds(report.get("duration_seconds")),
            "- Counts: %s" % md_escape(counts_line(report)), ""]


def _md_left_failed_over(report: dict) -> list[str]:
    stranded = left_failed_over(report)
    if not stranded:
        return []
    lines = ["## WARNING: VMs left failed over", "", md_escape(stranded_note(report)), ""]
    for vm in stranded:
        lines.append("- **%s** on host **%s**: final state %s. Revert: %s" % (
            md_escape(vm.get("name")), md_escape(vm.get("host")), md_escape(vm.get("final_state") or "?"),
            _md_advice(vm)))
    return lines + [""]


def _md_advice(vm: dict) -> str:
    options = "vms: [%s], state: reverted" % one_line(vm.get("id") or vm.get("name"))
    command = "Stop-VMFailover -VMName " + powershell_quote(vm.get("name"))
    return "%s with %s, or on the host %s" % (md_code("hyperv.replica.failover"), md_code(options), md_code(command))


def _md_problems(report: dict) -> list[str]:
    found = problems(report)
    lines = ["## Problems", ""]
    if not found:
        return lines + ["None.", ""]
    return lines + ["- **%s**: %s" % (md_escape(where), md_escape(what)) for where, what in found] + [""]


def _md_settings(report: dict) -> list[str]:
    settings = report.get("settings") or {}
    checks = ", ".join(one_line(name) for name in settings.get("checks") or []) or "none"
    return ["## Settings", "",
            "- Recovery point: %s" % md_escape(settings.get("recovery_point") or "-"),
            "- Recovery point before: %s" % md_escape(settings.get("recovery_point_before") or "-"),
            "- Revert after checks: %s" % ("yes" if settings.get("revert") else "no"),
            "- Wait timeout: %s" % human_seconds(settings.get("wait_timeout")),
            "- Max replication age: %s min" % md_escape(settings.get("max_replication_age_minutes")),
            "- Checks: %s" % md_escape(checks), ""]


def render(report: dict) -> str:
    """The whole report as a Markdown document."""
    lines = _md_header(report) + _md_left_failed_over(report)
    lines += ["## VMs", "", markdown_table(report) if report.get("vms") else "No VMs in this drill.", ""]
    lines += _md_problems(report) + _md_settings(report)
    return "\n".join(lines)


# ----- Terminal -----

def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide characters (CJK, most emoji) take two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _fit(text: str, limit: int) -> str:
    if display_width(text) <= limit:
        return text
    while text and display_width(text) > limit - 1:
        text = text[:-1]
    return text + "\u2026"


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def summary_table(report: dict) -> str:
    """The per-VM table as fixed-width plain text for a terminal; long cells are cut with an ellipsis."""
    rows = [list(TABLE_HEADERS)] + [[_fit(cell, _CELL_LIMIT) for cell in vm_cells(vm, report)]
                                    for vm in report.get("vms") or []]
    widths = [max(display_width(row[column]) for row in rows) for column in range(len(TABLE_HEADERS))]
    lines = ["  ".join(_pad(cell, width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"
