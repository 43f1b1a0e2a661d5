# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DR drill report (report.json) as Markdown, for a ticket or a wiki page, and as a plain-text table for a terminal.

What these share with report.xml and report.html (safe text, times, durations, the per-VM cells) is report_text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable

from ansible_collections.hyperv.replica.plugins.module_utils.report.wording import (
    TABLE_HEADERS, clean_text, counts_line, format_time, human_seconds, left_failed_over, one_line, powershell_quote,
    problems, result_word, stranded_note, vm_cells)

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~])")
# An underscore only starts or ends emphasis next to a non-word character; inside a_word it is literal.
_MD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_CELL_LIMIT = 40


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
