# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DR drill report (report.json) as one self-contained HTML page for auditors.

The page is opened from an archive or a mail attachment, often on a machine with no network, and it quotes
text from Windows hosts verbatim; so it carries its CSS and its SVG timeline inline, references no URL, runs
no script, forbids loading anything through its Content-Security-Policy, and escapes every value.
The bar colours are fixed: the integration test finds the chart in a screenshot by them.
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.report.wording import (
    COUNT_LABELS, TABLE_HEADERS, clean_text, count, format_time, human_seconds, left_failed_over, one_line,
    powershell_quote, problems, result_word, stranded_note, vm_cells, vm_label)
from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import utc_time

FAILOVER_COLOUR = "#1f6feb"
FAILED_OVER_COLOUR = "#2da44e"
REVERT_COLOUR = "#bf8700"
FAILED_COLOUR = "#cf222e"
CHECKS_COLOUR = "#57606a"

WIDTH = 1280
LABEL_WIDTH = 300
RIGHT_MARGIN = 140  # room for the "LEFT FAILED OVER" note after a row's last bar
TOP = 34
ROW_HEIGHT = 30
BAR_TOP = 5
BAR_HEIGHT = 14
CHECKS_TOP = 22
CHECKS_HEIGHT = 4
MIN_BAR_WIDTH = 4
LABEL_CHARS = 36  # what fits in LABEL_WIDTH at the label's font size; the full label is in its tooltip
# Tick spacings a reader finds natural, in seconds; the first that gives at most MAX_TICKS ticks wins.
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_TICKS = 9
_FAILED_STATUSES = ("failed", "in_progress")

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 40px; font: 14px/1.45 system-ui, "Segoe UI", "DejaVu Sans", Arial, sans-serif;
       color: #1f2328; background: #ffffff; }
main { max-width: 1340px; margin: 0 auto; }
header.top { display: flex; align-items: center; gap: 24px; padding-bottom: 16px; border-bottom: 1px solid #d0d7de; }
h1 { margin: 0 0 4px; font-size: 26px; font-weight: 600; overflow-wrap: anywhere; }
h2 { margin: 28px 0 10px; font-size: 18px; font-weight: 600; }
.badge { flex: none; padding: 10px 22px; border-radius: 8px; font-size: 28px; font-weight: 700; letter-spacing: 1px;
         color: #ffffff; }
.badge.passed { background: #116329; }
.badge.failed { background: #a40e26; }
.times { margin: 0; color: #59636e; }
.times b { color: #1f2328; font-weight: 600; }
.stats { display: flex; flex-wrap: wrap; gap: 8px; margin: 16px 0 0; padding: 0; list-style: none; }
.stats li { flex: 1 1 0; min-width: 92px; padding: 6px 10px; border: 1px solid #d0d7de; border-radius: 6px;
            background: #f6f8fa; }
.stats .n { display: block; font-size: 20px; font-weight: 600; }
.stats .l { color: #59636e; font-size: 12px; }
.stats li.bad { border-color: #ff8182; background: #ffebe9; }
.stats li.bad .n { color: #a40e26; }
.alert { margin: 20px 0 0; padding: 12px 18px; border: 2px solid #a40e26; border-radius: 8px; background: #ffebe9; }
.alert h2 { margin: 0 0 6px; color: #a40e26; }
.alert ul { margin: 6px 0 0; padding-left: 20px; }
.alert li { margin: 4px 0; }
code { padding: 1px 5px; border-radius: 4px; background: #eff2f5; font: 12.5px ui-monospace, "DejaVu Sans Mono",
       Consolas, monospace; overflow-wrap: anywhere; }
.legend { display: flex; flex-wrap: wrap; gap: 18px; margin: 0 0 6px; color: #59636e; font-size: 13px; }
.legend span.key { display: inline-block; width: 22px; height: 6px; margin-right: 6px; vertical-align: middle;
                   border-radius: 1px; }
.legend span.key.skip { height: 10px; border: 1px solid #afb8c1;
                        background: repeating-linear-gradient(45deg, #eaeef2 0 3px, #ffffff 3px 6px); }
figure { margin: 0; padding: 12px; border: 1px solid #d0d7de; border-radius: 8px; overflow-x: auto; }
svg#timeline { display: block; max-width: none; font-family: system-ui, "Segoe UI", "DejaVu Sans", Arial, sans-serif; }
svg#timeline .row:hover .hover { fill: #0969da; fill-opacity: 0.08; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
.table-wrap { overflow-x: auto; }
th, td { padding: 6px 8px; border-bottom: 1px solid #d0d7de; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; }
td:nth-child(3), td:nth-child(6) { white-space: nowrap; }
th { background: #f6f8fa; font-weight: 600; }
tbody tr:hover { background: #f6f8fa; }
td.bad { color: #a40e26; font-weight: 600; }
td.good { color: #116329; font-weight: 600; }
ul.problems li { margin: 4px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.settings dt { color: #59636e; }
dl.settings dd { margin: 0; overflow-wrap: anywhere; }
footer { margin-top: 32px; color: #59636e; font-size: 12px; }
@media print { body { padding: 0; } figure { overflow: visible; } }
"""


def _e(value: Any) -> str:
    """Escape for HTML text and attribute values alike, after making control characters visible."""
    return html.escape(clean_text(value), quote=True)


def _iso(value: Optional[datetime]) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


# ----- Timeline -----

class Scale(NamedTuple):
    """Maps a time to an x coordinate between ``left`` and ``right``."""

    start: datetime
    seconds: float
    left: int
    right: int

    def x(self, when: datetime) -> float:
        offset = (when - self.start).total_seconds()
        return self.left + (self.right - self.left) * min(max(offset / self.seconds, 0.0), 1.0)


class Bar(NamedTuple):
    css: str
    colour: str
    start: datetime
    end: datetime
    tip: str
    top: int = BAR_TOP
    height: int = BAR_HEIGHT


def _all_times(report: dict) -> list[datetime]:
    found = [utc_time(report.get(key)) for key in ("started", "finished")]
    for vm in report.get("vms") or []:
        for step in ("failover", "revert"):
            found += [utc_time((vm.get(step) or {}).get(key)) for key in ("requested", "finished")]
    for host in report.get("hosts") or []:
        for check in host.get("checks") or []:
            found += [utc_time(check.get(key)) for key in ("started", "finished")]
    return [when for when in found if when is not None]


def _scale(report: dict) -> Optional[Scale]:
    """From the report's start to its end, widened to any step the controller clock put outside it."""
    times = _all_times(report)
    if not times:
        return None
    start, end = min(times), max(times)
    # A drill that started and finished within the same second still gets a readable one-second axis.
    return Scale(start, max((end - start).total_seconds(), 1.0), LABEL_WIDTH, WIDTH - RIGHT_MARGIN)


def _report_end(report: dict, scale: Scale) -> datetime:
    return utc_time(report.get("finished")) or scale.start + timedelta(seconds=scale.seconds)


def _span(start: Any, end: Any) -> str:
    seconds = None
    if isinstance(start, datetime) and isinstance(end, datetime):
        seconds = (end - start).total_seconds()
    return human_seconds(seconds)


def _step_bar(vm: dict, step: str, colour: str, report_end: datetime) -> list[Bar]:
    """The bar of a failover or revert job; one still running at the end of the drill runs to the end."""
    data = vm.get(step) or {}
    start = utc_time(data.get("requested"))
    if start is None:
        return []
    end = utc_time(data.get("finished"))
    status = one_line(data.get("status")) or "?"
    failed = data.get("status") in _FAILED_STATUSES
    tip = "%s: %s %s\nrequested %s\nfinished %s (%s)\njob %s %s" % (
        vm_label(vm), step, status, clean_text(data.get("requested")),
        clean_text(data.get("finished")) or "- (still running at the end of the drill)", _span(start, end),
        one_line(data.get("job_id")) or "-", one_line(data.get("job_state")))
    if data.get("error"):
        tip += "\n" + clean_text(data.get("error"))
    css = "bar step-%s%s%s" % (step, " failed" if failed else "", "" if end else " open")
    return [Bar(css, FAILED_COLOUR if failed else colour, start, end or max(start, report_end), tip)]


def _failed_over_bar(vm: dict, report_end: datetime) -> list[Bar]:
    """The time the replica ran failed over: from the failover's end to the revert request, or the drill's end."""
    failover = vm.get("failover") or {}
    start = utc_time(failover.get("finished"))
    if start is None or failover.get("status") not in ("changed", "unchanged"):
        return []
    end = utc_time((vm.get("revert") or {}).get("requested")) or max(start, report_end)
    why = "until revert requested" if (vm.get("revert") or {}).get("requested") else "until the end of the drill"
    tip = "%s: failed over (replica running) %s\n%s to %s (%s)" % (
        vm_label(vm), why, start.isoformat(), end.isoformat(), _span(start, end))
    return [Bar("bar period", FAILED_OVER_COLOUR, start, end, tip)]


def _checks_bars(vm: dict, report: dict) -> list[Bar]:
    """The host's checks, under the failed-over bar, for a VM they ran against."""
    if (vm.get("checks") or {}).get("passed") is None:
        return []
    bars = []
    for host in report.get("hosts") or []:
        if one_line(host.get("name")).casefold() != one_line(vm.get("host")).casefold():
            continue
        for check in host.get("checks") or []:
            start, end = utc_time(check.get("started")), utc_time(check.get("finished"))
            if start is None or end is None:
                continue
            tip = "%s: check %s %s\n%s to %s (%s)\n%s" % (
                vm_label(vm), one_line(check.get("name")), "passed" if check.get("passed") else "FAILED",
                start.isoformat(), end.isoformat(), _span(start, end), clean_text(check.get("msg")))
            colour = CHECKS_COLOUR if check.get("passed") else FAILED_COLOUR
            bars.append(Bar("check", colour, start, end, tip.rstrip(), CHECKS_TOP, CHECKS_HEIGHT))
    return bars


def _vm_bars(vm: dict, report: dict, scale: Scale) -> list[Bar]:
    end = _report_end(report, scale)
    # Drawn in this order so a step's bar stays on top of the failed-over period it borders.
    return (_failed_over_bar(vm, end) + _checks_bars(vm, report)
            + _step_bar(vm, "failover", FAILOVER_COLOUR, end) + _step_bar(vm, "revert", REVERT_COLOUR, end))


def _rect(shape: Bar, scale: Scale, y: int) -> tuple[str, int]:
    """The bar as an SVG rect at least MIN_BAR_WIDTH wide, kept inside the plot; also returns its right edge."""
    left = round(scale.x(shape.start))
    width = max(MIN_BAR_WIDTH, round(scale.x(shape.end)) - left)
    left = min(left, scale.right - width)
    svg = ('<rect class="%s" x="%d" y="%d" width="%d" height="%d" fill="%s" shape-rendering="crispEdges">'
           "<title>%s</title></rect>" % (shape.css, left, y + shape.top, width, shape.height, shape.colour,
                                         _e(shape.tip)))
    return svg, left + width


def _no_bars_text(vm: dict) -> str:
    """The text of a row without bars."""
    if not (vm.get("precheck") or {}).get("passed"):
        return "skipped: pre-check failed"
    status = one_line((vm.get("failover") or {}).get("status")) or "not recorded"
    if status in ("changed", "unchanged"):
        return "failed over, but the report holds no times for it"
    return "not failed over: failover %s" % status


def _row_note(vm: dict, report: dict) -> tuple[str, str]:
    """Text after the bars: what a reader must not miss about this VM, and its CSS class."""
    if vm.get("left_failed_over"):
        if (report.get("settings") or {}).get("revert") is False:
            return "revert: false", "note"
        return "LEFT FAILED OVER", "note alarm"
    if (vm.get("failover") or {}).get("status") == "in_progress":
        return "failover still running", "note alarm"
    return "", ""


def _cut(text: str, limit: int, keep_end: bool) -> str:
    """``text`` in at most ``limit`` characters; with ``keep_end`` the cut is in the middle, keeping the end."""
    if len(text) <= limit:
        return text
    if not keep_end:
        return text[:limit - 1] + "\u2026"
    head = (limit - 1) // 2
    return text[:head] + "\u2026" + text[len(text) - (limit - 1 - head):]


def _short_label(vm: dict) -> str:
    """The row label in LABEL_CHARS: the host name gives way first, then the middle of the VM name, so its
    start and end stay, where numbered names (web-01, web-02) differ."""
    host, name = one_line(vm.get("host")), one_line(vm.get("name"))
    host = _cut(host, max(12, LABEL_CHARS - 3 - len(name)), False)
    return "%s / %s" % (host, _cut(name, LABEL_CHARS - 3 - len(host), True))


def _label(vm: dict, y: int) -> str:
    full = vm_label(vm)
    shown = _short_label(vm)
    dot = "#116329" if vm.get("result") == "passed" else "#a40e26"
    return ('<circle cx="12" cy="%d" r="5" fill="%s"><title>%s</title></circle>'
            '<text x="24" y="%d" font-size="13" fill="#1f2328">%s<title>%s</title></text>' % (
                y + 12, dot, _e(result_word(vm.get("result"))), y + 16, _e(shown), _e(full)))


def _row(vm: dict, index: int, report: dict, scale: Optional[Scale]) -> str:
    y = TOP + index * ROW_HEIGHT
    parts = ['<g class="row">', '<rect class="hover" x="0" y="%d" width="%d" height="%d" fill="none" '
             'pointer-events="all"/>' % (y, WIDTH, ROW_HEIGHT), _label(vm, y)]
    bars = _vm_bars(vm, report, scale) if scale else []
    if not bars:
        parts.append(_skipped_row(vm, y))
    right = LABEL_WIDTH
    for shape in bars:
        svg, edge = _rect(shape, scale, y)
        parts.append(svg)
        right = max(right, edge)
    note, css = _row_note(vm, report)
    if note and bars:
        parts.append('<text class="%s" x="%d" y="%d" font-size="12" font-weight="700" fill="%s">%s</text>' % (
            css, right + 6, y + 16, "#a40e26" if "alarm" in css else "#59636e", _e(note)))
    return "".join(parts) + "</g>"


def _skipped_row(vm: dict, y: int) -> str:
    return ('<rect class="skipped-row" x="%d" y="%d" width="%d" height="%d" fill="url(#hatch)" stroke="#afb8c1"/>'
            '<text x="%d" y="%d" font-size="12" fill="#59636e">%s</text>' % (
                LABEL_WIDTH, y + BAR_TOP, WIDTH - RIGHT_MARGIN - LABEL_WIDTH, BAR_HEIGHT + 4, LABEL_WIDTH + 10,
                y + 17, _e(_no_bars_text(vm))))


def _tick_step(seconds: float) -> int:
    """The first natural spacing giving at most MAX_TICKS ticks; whole days beyond the table."""
    for step in TICK_STEPS:
        if seconds / step <= MAX_TICKS:
            return step
    return TICK_STEPS[-1] * math.ceil(seconds / TICK_STEPS[-1] / MAX_TICKS)


def _ticks(scale: Scale, bottom: int) -> str:
    """Vertical grid lines with HH:MM:SS labels at round times, aligned to the clock rather than the start."""
    step = _tick_step(scale.seconds)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    first = math.ceil((scale.start - epoch).total_seconds() / step) * step
    end = scale.start + timedelta(seconds=scale.seconds)
    several_days = scale.start.date() != end.date()
    parts = []
    when = epoch + timedelta(seconds=first)
    while when <= end:
        x = round(scale.x(when))
        label = when.strftime("%m-%d %H:%M" if several_days else "%H:%M:%S")
        parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#d8dee4"/>'
                     '<text x="%d" y="%d" font-size="11" fill="#59636e" text-anchor="middle">%s</text>' % (
                         x, TOP - 6, x, bottom, x, TOP - 12, label))
        when += timedelta(seconds=step)
    return "".join(parts)


def _timeline(report: dict) -> str:
    vms = report.get("vms") or []
    scale = _scale(report)
    bottom = TOP + max(len(vms), 1) * ROW_HEIGHT
    parts = ['<svg id="timeline" width="%d" height="%d" viewBox="0 0 %d %d" '
             'role="img" aria-label="Timeline of the drill per VM">' % (WIDTH, bottom + 8, WIDTH, bottom + 8),
             '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f6f8fa"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#d0d7de" stroke-width="3"/></pattern></defs>',
             '<text x="24" y="%d" font-size="11" font-weight="600" fill="#59636e">Host / VM</text>' % (TOP - 12)]
    # Zebra stripes, then the grid, then the rows: the grid shows on every row but never across a bar.
    parts += ['<rect class="zebra" x="0" y="%d" width="%d" height="%d" fill="#f6f8fa"/>' % (
        TOP + index * ROW_HEIGHT, WIDTH, ROW_HEIGHT) for index in range(1, len(vms), 2)]
    if scale:
        parts.append(_ticks(scale, bottom))
    parts += [_row(vm, index, report, scale) for index, vm in enumerate(vms)]
    if scale:
        parts.append('<text x="%d" y="%d" font-size="11" fill="#59636e">(UTC)</text>' % (
            WIDTH - RIGHT_MARGIN + 44, TOP - 12))
    if not vms:
        parts.append('<text x="%d" y="%d" font-size="13" fill="#59636e">No VMs in this drill.</text>' % (
            LABEL_WIDTH + 10, TOP + 19))
    elif not scale:  # in place of the time axis; each row already says it has no bars
        parts.append('<text x="%d" y="%d" font-size="11" fill="#59636e">No times recorded in this report.</text>' % (
            LABEL_WIDTH, TOP - 12))
    return "".join(parts) + "</svg>"


def _legend() -> str:
    keys = [(FAILOVER_COLOUR, "Failover job"), (FAILED_OVER_COLOUR, "Failed over (replica running)"),
            (REVERT_COLOUR, "Revert job"), (FAILED_COLOUR, "Failed step"), (CHECKS_COLOUR, "Checks on the host")]
    items = ['<span><span class="key" style="background:%s"></span>%s</span>' % (colour, label)
             for colour, label in keys]
    items.append('<span><span class="key skip"></span>Not failed over</span>')
    return '<div class="legend">%s</div>' % "".join(items)


# ----- Page sections -----

def _header(report: dict) -> str:
    result = report.get("result")
    started, finished = utc_time(report.get("started")), utc_time(report.get("finished"))
    return ('<header class="top"><div class="badge %s">%s</div><div><h1>%s</h1><p class="times">'
            "Started <b>%s</b> &middot; Finished <b>%s</b> &middot; Duration <b>%s</b></p></div></header>" % (
                "passed" if result == "passed" else "failed", _e(result_word(result)),
                _e(report.get("title") or "DR drill report"), _iso(started), _iso(finished),
                _e(human_seconds(report.get("duration_seconds")))))


def _stats(report: dict) -> str:
    bad = ("hosts_failed", "failed", "precheck_failed", "failover_failed", "checks_failed", "revert_failed",
           "left_failed_over")
    items = ['<li class="%s"><span class="n">%d</span><span class="l">%s</span></li>' % (
        "bad" if key in bad and count(report, key) else "", count(report, key), _e(label))
        for key, label in COUNT_LABELS]
    return '<ul class="stats">%s</ul>' % "".join(items)


def _alert(report: dict) -> str:
    stranded = left_failed_over(report)
    if not stranded:
        return ""
    items = []
    for vm in stranded:
        options = "vms: [%s]  state: reverted" % one_line(vm.get("id") or vm.get("name"))
        items.append("<li><b>%s</b> on host <b>%s</b>: final state <b>%s</b>. Revert it with "
                     "<code>hyperv.replica.failover</code> <code>%s</code>, or on the host "
                     "<code>Stop-VMFailover -VMName %s</code></li>" % (
                         _e(vm.get("name")), _e(vm.get("host")), _e(vm.get("final_state") or "unknown"), _e(options),
                         _e(powershell_quote(vm.get("name")))))
    plural = "" if len(stranded) == 1 else "s"
    return ('<section class="alert" role="alert"><h2>WARNING: %d VM%s left failed over</h2>'
            "<div>%s</div><ul>%s</ul></section>" % (len(stranded), plural, _e(stranded_note(report)), "".join(items)))


def _cell(text: str, column: str) -> str:
    css = ""
    if "FAILED" in text or text.endswith("still running"):
        css = ' class="bad"'
    elif column == "Result" and text == "PASSED":
        css = ' class="good"'
    return "<td%s>%s</td>" % (css, _e(text))


def _table(report: dict) -> str:
    vms = report.get("vms") or []
    if not vms:
        return "<p>No VMs in this drill.</p>"
    head = "".join("<th>%s</th>" % _e(name) for name in TABLE_HEADERS)
    rows = ["<tr>%s</tr>" % "".join(_cell(text, column) for text, column in zip(vm_cells(vm, report),
                                                                                TABLE_HEADERS)) for vm in vms]
    return '<div class="table-wrap"><table class="vms"><thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>' % (
        head, "".join(rows))


def _problems(report: dict) -> str:
    found = problems(report)
    if not found:
        return "<p>None.</p>"
    return '<ul class="problems">%s</ul>' % "".join("<li><b>%s</b>: %s</li>" % (_e(where), _e(what))
                                                    for where, what in found)


def _settings(report: dict) -> str:
    settings = report.get("settings") or {}
    rows = [("Recovery point", settings.get("recovery_point") or "-"),
            ("Recovery point before", format_time(settings.get("recovery_point_before")) + " UTC"
             if settings.get("recovery_point_before") else "-"),
            ("Revert after checks", "yes" if settings.get("revert") else "no"),
            ("Wait timeout", human_seconds(settings.get("wait_timeout"))),
            ("Max replication age", "%s min" % one_line(settings.get("max_replication_age_minutes"))),
            ("Checks", ", ".join(one_line(name) for name in settings.get("checks") or []) or "none")]
    return '<dl class="settings">%s</dl>' % "".join("<dt>%s</dt><dd>%s</dd>" % (_e(key), _e(value))
                                                    for key, value in rows)


def render(report: dict) -> str:
    """The report as a complete HTML document that needs nothing but itself to display."""
    title = _e(report.get("title") or "DR drill report")
    body = [_header(report), _stats(report), _alert(report),
            "<h2>Timeline</h2><figure>%s%s</figure>" % (_legend(), _timeline(report)),
            "<h2>VMs</h2>" + _table(report), "<h2>Problems</h2>" + _problems(report),
            "<h2>Settings</h2>" + _settings(report),
            "<footer>hyperv.replica DR drill report, schema version %s. All times are UTC.</footer>" % _e(
                report.get("schema_version"))]
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n%s\n</main>\n</body>\n</html>\n" % (
                title, _CSS, "\n".join(part for part in body if part)))
