"""The drill report renderers: JUnit for CI, Markdown for tickets and terminals, HTML for auditors.

Checked against the hand-written sample report and variants of it: which step fails or is skipped and why,
that counts add up, that a VM left failed over cannot be missed, and that hostile text stays inert.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.report import render_html as report_html
from ansible_collections.hyperv.replica.plugins.module_utils.report import render_junit as report_junit
from ansible_collections.hyperv.replica.plugins.module_utils.report import render_markdown as report_markdown
from ansible_collections.hyperv.replica.plugins.module_utils.report import wording as report_text

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "drill_report.json"
HOSTILE = "<script>alert('x')</script> ]]> & \"q\" \x00\x1b[31m \U0001F525 caf\u00e9 | pipe\nsecond line"
STEPS = ["precheck", "failover", "checks", "revert"]
NOT_RUN = {"status": "not_run", "requested": None, "finished": None, "seconds": None, "job_id": None,
           "job_state": None, "state_after": None, "error": None}


@pytest.fixture
def report() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def vm_named(report: dict, name: str) -> dict:
    return next(vm for vm in report["vms"] if vm["name"] == name)


def revert_disabled(report: dict) -> dict:
    """The sample as a drill run with revert: false: every VM that failed over stays failed over."""
    changed = copy.deepcopy(report)
    changed["settings"]["revert"] = False
    for vm in changed["vms"]:
        vm["revert"] = dict(NOT_RUN)
        if vm["failover"]["status"] == "changed":
            vm["left_failed_over"], vm["final_state"], vm["errors"] = True, "Recovered", []
    return changed


def nobody_stranded(report: dict) -> dict:
    changed = copy.deepcopy(report)
    vm = vm_named(changed, "sql-orders-01")
    vm["revert"].update(status="changed", job_state="Completed", state_after="Replicating", error=None)
    vm.update(left_failed_over=False, final_state="Replicating", errors=[], result="passed")
    return changed


def hostile(report: dict) -> dict:
    changed = copy.deepcopy(report)
    changed["title"] = HOSTILE
    vm_named(changed, "web-frontend-01")["name"] = HOSTILE
    vm_named(changed, "mq-broker-01")["errors"].append(HOSTILE)
    changed["hosts"][1]["checks"][0]["msg"] = HOSTILE
    return changed


# ----- JUnit -----

def junit_cases(text: str) -> dict:
    root = ET.fromstring(text.encode("utf-8"))
    return {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}


def outcome(case: ET.Element) -> str:
    for kind in ("failure", "error", "skipped"):
        if case.find(kind) is not None:
            return kind
    return "passed"


def test_junit_parses_with_junitparser_and_counts_match_the_steps(report, tmp_path):
    junitparser = pytest.importorskip("junitparser")
    path = tmp_path / "report.xml"
    path.write_text(report_junit.render(report), encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == ["HV-DR-REPLICA01", "HV-DR-REPLICA02"]
    expected = {"HV-DR-REPLICA01": (8, 1, 0, 0), "HV-DR-REPLICA02": (8, 2, 0, 3)}
    for name, suite in suites.items():
        cases = list(suite)
        actual = (len(cases), sum(1 for case in cases for res in case.result if isinstance(res, junitparser.Failure)),
                  sum(1 for case in cases for res in case.result if isinstance(res, junitparser.Error)),
                  sum(1 for case in cases for res in case.result if isinstance(res, junitparser.Skipped)))
        assert actual == expected[name]
        assert (suite.tests, suite.failures, suite.errors, suite.skipped) == expected[name]
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (16, 3, 0, 3)
    assert xml.name == report["title"]


def test_junit_document_has_declaration_totals_and_utc_timestamps(report):
    text = report_junit.render(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert root.get("name") == 'Quarterly DR drill <Q4> & "friends"'
    totals = (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped"), root.get("time"))
    assert totals == ("16", "3", "0", "3", "90.000")
    assert root.get("timestamp") == "2026-11-21T10:00:00"
    assert [suite.get("timestamp") for suite in root] == ["2026-11-21T10:00:00", "2026-11-21T10:00:01"]


def test_junit_one_case_per_vm_and_step_in_order(report):
    root = ET.fromstring(report_junit.render(report).encode("utf-8"))
    names = [(case.get("classname"), case.get("name")) for case in root.iter("testcase")]
    expected = [("%s.%s" % (vm["host"], vm["name"]), step) for vm in report["vms"] for step in STEPS]
    assert names == expected


def test_junit_passed_vm_passes_every_step_with_step_times(report):
    cases = junit_cases(report_junit.render(report))
    assert [outcome(cases[("HV-DR-REPLICA01.web-frontend-01", step)]) for step in STEPS] == ["passed"] * 4
    assert cases[("HV-DR-REPLICA01.web-frontend-01", "failover")].get("time") == "2.500"
    assert cases[("HV-DR-REPLICA01.web-frontend-01", "precheck")].get("time") == "0.000"


def test_junit_precheck_failure_skips_the_other_steps(report):
    cases = junit_cases(report_junit.render(report))
    precheck = cases[("HV-DR-REPLICA02.legacy-erp-01", "precheck")]
    assert outcome(precheck) == "failure"
    message = precheck.find("failure").get("message")
    assert "replication health is Critical" in message and "3 h 10 min ago" in message
    for step in ("failover", "checks", "revert"):
        case = cases[("HV-DR-REPLICA02.legacy-erp-01", step)]
        assert outcome(case) == "skipped"
        assert "pre-check failed" in case.find("skipped").get("message")


def test_junit_vm_left_failed_over_fails_its_revert(report):
    case = junit_cases(report_junit.render(report))[("HV-DR-REPLICA01.sql-orders-01", "revert")]
    assert outcome(case) == "failure"
    message = case.find("failure").get("message")
    assert "LEFT FAILED OVER" in message and "Recovered" in message and "ErrorCode 32768" in message
    assert case.get("time") == "43.800"


def test_junit_left_failed_over_fails_even_when_the_revert_job_succeeded(report):
    changed = copy.deepcopy(report)
    vm = vm_named(changed, "mq-broker-01")
    vm.update(left_failed_over=True, final_state="Recovered")
    case = junit_cases(report_junit.render(changed))[("HV-DR-REPLICA02.mq-broker-01", "revert")]
    assert "LEFT FAILED OVER (final state: Recovered)" in case.find("failure").get("message")


def test_junit_failed_check_fails_checks_and_revert_still_passes(report):
    cases = junit_cases(report_junit.render(report))
    checks = cases[("HV-DR-REPLICA02.mq-broker-01", "checks")]
    assert outcome(checks) == "failure"
    assert "checks/http.yml" in checks.find("failure").get("message")
    assert "Status code was 503" in checks.find("failure").text
    assert outcome(cases[("HV-DR-REPLICA02.mq-broker-01", "revert")]) == "passed"


def test_junit_failover_case_carries_vm_id_recovery_point_and_rpo(report):
    case = junit_cases(report_junit.render(report))[("HV-DR-REPLICA01.sql-orders-01", "failover")]
    out = case.find("system-out").text
    assert "6A2E3B5C-0D4F-4A8B-9C7E-2F3A4B5C6D7E" in out
    assert "Microsoft:2B5C7A1E-6F0D-4E3B-9A8C-1D2E3F4A5B6C" in out and "application_consistent" in out
    assert "rpo_seconds: 3603.0" in out


def test_junit_revert_disabled_skips_revert_instead_of_failing(report):
    text = report_junit.render(revert_disabled(report))
    cases = junit_cases(text)
    for name in ("web-frontend-01", "sql-orders-01", "mq-broker-01"):
        host = vm_named(report, name)["host"]
        case = cases[("%s.%s" % (host, name), "revert")]
        assert outcome(case) == "skipped"
        assert case.find("skipped").get("message") == "revert: false, VM left failed over on purpose"
    assert "LEFT FAILED OVER" not in text
    root = ET.fromstring(text.encode("utf-8"))
    assert root.get("failures") == "2"  # the pre-check and the failed check, nothing for the stranded VMs


@pytest.mark.parametrize("status, words", [("failed", "failover failed"), ("in_progress", "still in progress")])
def test_junit_failover_trouble_fails_failover_and_skips_what_follows(report, status, words):
    changed = copy.deepcopy(report)
    vm = vm_named(changed, "web-frontend-01")
    vm["failover"].update(status=status, error="job ended <Exception> & more", finished=None)
    vm["checks"] = {"passed": None, "failed": []}
    vm["revert"] = dict(NOT_RUN)
    cases = junit_cases(report_junit.render(changed))
    failover = cases[("HV-DR-REPLICA01.web-frontend-01", "failover")]
    assert outcome(failover) == "failure"
    assert words in failover.find("failure").get("message")
    assert "job ended <Exception> & more" in failover.find("failure").get("message")
    for step in ("checks", "revert"):
        assert outcome(cases[("HV-DR-REPLICA01.web-frontend-01", step)]) == "skipped"


def test_junit_host_error_is_an_error_case(report):
    changed = copy.deepcopy(report)
    changed["hosts"][0]["error"] = "WinRM: connection refused"
    root = ET.fromstring(report_junit.render(changed).encode("utf-8"))
    case = junit_cases(report_junit.render(changed))[("HV-DR-REPLICA01", "host")]
    assert case.find("error").get("message") == "WinRM: connection refused"
    assert root[0].get("errors") == "1" and root[0].get("tests") == "9"
    assert root.get("errors") == "1"


def test_junit_vm_of_an_unlisted_host_gets_a_suite(report):
    changed = copy.deepcopy(report)
    changed["hosts"] = changed["hosts"][:1]
    root = ET.fromstring(report_junit.render(changed).encode("utf-8"))
    assert [suite.get("name") for suite in root] == ["HV-DR-REPLICA01", "HV-DR-REPLICA02"]
    assert root[1].get("tests") == "8"


def test_junit_hostile_text_survives(report):
    text = report_junit.render(hostile(report))
    root = ET.fromstring(text.encode("utf-8"))
    assert "\x00" not in text and "\x1b" not in text
    name = root.get("name")
    assert "<script>alert('x')</script> ]]> & \"q\"" in name and "\U0001F525" in name and "caf\u00e9" in name
    assert "\\x00\\x1b[31m" in name  # visible, not silently dropped
    classnames = {case.get("classname") for case in root.iter("testcase")}
    assert any("<script>" in classname for classname in classnames)


@pytest.mark.parametrize("edit", ["no_vms", "null_times", "same_time"])
def test_junit_degenerate_reports_still_parse(report, edit):
    changed = degenerate(report, edit)
    root = ET.fromstring(report_junit.render(changed).encode("utf-8"))
    assert int(root.get("tests")) == 4 * len(changed["vms"])


def degenerate(report: dict, edit: str) -> dict:
    changed = copy.deepcopy(report)
    if edit == "no_vms":
        changed["vms"], changed["hosts"] = [], []
        for key in changed["counts"]:
            changed["counts"][key] = 0
    elif edit == "null_times":
        changed["started"] = changed["finished"] = None
        for host in changed["hosts"]:
            host["started"] = host["finished"] = None
            for check in host["checks"]:
                check["started"] = check["finished"] = None
        for vm in changed["vms"]:
            for step in ("failover", "revert"):
                vm[step].update(requested=None, finished=None, seconds=None)
            vm["precheck"]["last_replication_time"] = None
            vm["rpo_seconds"] = None
    else:
        changed["finished"] = changed["started"]
        changed["duration_seconds"] = 0
        for vm in changed["vms"]:
            for step in ("failover", "revert"):
                if vm[step]["requested"]:
                    vm[step].update(requested=changed["started"], finished=changed["started"], seconds=0)
        for host in changed["hosts"]:
            for check in host["checks"]:
                check["started"] = check["finished"] = changed["started"]
    return changed


# ----- Markdown -----

def md_table_rows(text: str) -> list[list[str]]:
    """Body rows of the VM table, split on unescaped pipes."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines[1:]]


def test_markdown_summary(report):
    text = report_markdown.render(report)
    assert text.startswith("# Quarterly DR drill \\<Q4\\> \\& \"friends\"\n")
    assert "**Result: FAILED**" in text
    assert "2026-11-21 10:00:00 UTC" in text and "2026-11-21 10:01:30 UTC" in text and "1 min 30 s" in text
    assert "4 VMs: 1 passed, 3 failed" in text


def test_markdown_table_has_one_row_per_vm(report):
    rows = md_table_rows(report_markdown.render(report))
    assert len(rows) == 4
    assert all(len(row) == len(report_text.TABLE_HEADERS) for row in rows)
    by_vm = {row[1]: row for row in rows}
    assert by_vm["web-frontend-01"][2:6] == ["PASSED", "passed", "latest", "5 min 2 s"]
    assert by_vm["sql-orders-01"][4] == "application_consistent, 09:00:00"  # intraword _ is literal
    assert by_vm["sql-orders-01"][10] == "Recovered (LEFT FAILED OVER)"
    assert by_vm["mq-broker-01"][8] == "FAILED: checks/http.yml"
    assert by_vm["legacy-erp-01"][3].startswith("FAILED")


def test_markdown_warns_about_vms_left_failed_over(report):
    text = report_markdown.render(report)
    section = text.split("## WARNING: VMs left failed over", 1)[1].split("\n## ", 1)[0]
    assert "sql-orders-01" in section and "HV-DR-REPLICA01" in section and "Recovered" in section
    assert "web-frontend-01" not in section
    assert "hyperv.replica.failover" in section and "state: reverted" in section
    assert "Stop-VMFailover -VMName 'sql-orders-01'" in section


def test_markdown_has_no_warning_when_every_vm_is_back(report):
    assert "WARNING" not in report_markdown.render(nobody_stranded(report))


def test_markdown_lists_every_problem(report):
    problems = report_markdown.render(report).split("## Problems", 1)[1].split("\n## ", 1)[0]
    items = [line for line in problems.splitlines() if line.startswith("- ")]
    assert len(items) == 4  # one per error: sql-orders-01 has two (its revert, LEFT FAILED OVER)
    assert "ErrorCode 32768" in items[0] and "LEFT FAILED OVER" in items[1]
    assert "\\<html\\>" in items[2] and "Critical" in items[3]


def test_markdown_escapes_pipes_newlines_and_markup(report):
    text = report_markdown.render(hostile(report))
    rows = md_table_rows(text)
    assert len(rows) == 4 and all(len(row) == len(report_text.TABLE_HEADERS) for row in rows)
    assert "\\| pipe" in rows[0][1] and "\n" not in rows[0][1]
    assert "<script>" not in text and "\\<script\\>" in text
    assert "\x00" not in text and "\x1b" not in text and "\U0001F525" in text


def test_markdown_code_span_survives_backticks():
    assert report_markdown.md_code("a`b") == "``a`b``"
    assert report_markdown.md_code("`x") == "`` `x ``"


@pytest.mark.parametrize("edit", ["no_vms", "null_times", "same_time"])
def test_markdown_degenerate_reports_render(report, edit):
    text = report_markdown.render(degenerate(report, edit))
    assert text.startswith("# ")
    assert len(md_table_rows(text)) == (0 if edit == "no_vms" else 4)


@pytest.mark.parametrize("seconds, words", [(None, "-"), (0, "0 s"), (2.5, "2.5 s"), (59.96, "60 s"),
                                            (302.5, "5 min 2 s"), (3603, "1 h 3 s"), (90061, "1 d 1 h 1 min 1 s"),
                                            (-3, "0 s"), (True, "-")])
def test_human_seconds(seconds, words):
    assert report_text.human_seconds(seconds) == words


@pytest.mark.parametrize("value, expected", [("2026-11-21T10:00:00Z", "10:00:00"),
                                             ("2026-11-21T11:00:00.5+01:00", "10:00:00"),
                                             ("2026-11-21T10:00:00.1234567+00:00", "10:00:00"),
                                             ("2026-11-22T00:30:00+00:00", "2026-11-22 00:30:00"),
                                             ("not a time", "-"), (None, "-")])
def test_format_time_in_utc(report, value, expected):
    assert report_text.format_time(value, report_text.report_day(report)) == expected


def test_summary_table_is_aligned_plain_text(report):
    text = report_markdown.summary_table(hostile(report))
    lines = text.splitlines()
    assert len(lines) == 2 + 4
    assert lines[0].startswith("Host") and set(lines[1]) == {"-", " "}
    assert "\x1b" not in text and "\x00" not in text and "\n" not in lines[2]
    column = lines[0].index("VM")
    assert [line[column:column + 15] for line in lines[3:]] == ["sql-orders-01  ", "mq-broker-01   ", "legacy-erp-01  "]
    assert "\u2026" in lines[2]  # the 40-column cell limit cut the long hostile name


# ----- HTML -----

class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each <text> element in the timeline."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[str] = []
        self._in_text = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_text = tag == "text"

    def handle_endtag(self, tag):
        if tag == "text":
            self._in_text = False

    def handle_data(self, data):
        if self._in_text:
            self.texts.append(data)

    def rects(self, css: str) -> list[dict]:
        return [attrs for tag, attrs in self.tags if tag == "rect" and css in (attrs.get("class") or "").split()]


def test_html_is_one_self_contained_page(report):
    text = report_html.render(report)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    tags = Tags(text)
    assert "http://" not in text and "https://" not in text
    for tag, attrs in tags.tags:
        for name in ("src", "href", "xlink:href", "action"):
            assert attrs.get(name) is None or attrs[name].startswith("#"), (tag, attrs)
        assert tag not in ("script", "link", "img", "iframe", "object", "embed")
    assert "default-src 'none'" in text


def test_html_timeline_has_a_bar_per_step_with_both_times(report):
    text = report_html.render(report)
    assert '<svg id="timeline"' in text
    tags = Tags(text)
    with_times = {step: sum(1 for vm in report["vms"] if vm[step]["requested"] and vm[step]["finished"])
                  for step in ("failover", "revert")}
    assert len(tags.rects("step-failover")) == with_times["failover"] == 3
    assert len(tags.rects("step-revert")) == with_times["revert"] == 3
    assert len(tags.rects("period")) == 3
    assert len(tags.rects("bar")) == 9
    assert {rect["fill"] for rect in tags.rects("step-failover")} == {report_html.FAILOVER_COLOUR}
    assert {rect["fill"] for rect in tags.rects("period")} == {report_html.FAILED_OVER_COLOUR}
    reverts = sorted(rect["fill"] for rect in tags.rects("step-revert"))
    assert reverts == sorted([report_html.REVERT_COLOUR, report_html.REVERT_COLOUR, report_html.FAILED_COLOUR])


def test_html_bar_colours_are_the_documented_ones():
    assert (report_html.FAILOVER_COLOUR, report_html.FAILED_OVER_COLOUR, report_html.REVERT_COLOUR,
            report_html.FAILED_COLOUR) == ("#1f6feb", "#2da44e", "#bf8700", "#cf222e")


def test_html_bars_are_visible_and_inside_the_plot(report):
    changed = copy.deepcopy(report)
    vm = vm_named(changed, "web-frontend-01")
    vm["failover"]["finished"] = vm["failover"]["requested"]  # a zero-length step
    tags = Tags(report_html.render(changed))
    bars = tags.rects("bar")
    assert bars
    for rect in bars:
        assert int(rect["width"]) >= 4 and int(rect["height"]) >= 8
        assert report_html.LABEL_WIDTH <= int(rect["x"])
        assert int(rect["x"]) + int(rect["width"]) <= report_html.WIDTH - report_html.RIGHT_MARGIN


def test_html_bars_have_tooltips_with_exact_times(report):
    text = report_html.render(report)
    assert re.search(r'class="bar step-failover"[^>]*><title>[^<]*2026-11-21T10:00:02\.500000\+00:00', text)
    assert re.search(r'class="bar step-revert failed"[^>]*><title>[^<]*ErrorCode 32768', text)


def test_html_skipped_vm_row_says_why(report):
    tags = Tags(report_html.render(report))
    assert len(tags.rects("skipped-row")) == 1
    assert "skipped: pre-check failed" in tags.texts


def test_html_banner_and_badge(report):
    text = report_html.render(report)
    assert '<div class="badge failed">FAILED</div>' in text
    banner = re.search(r'<section class="alert".*?</section>', text, re.S).group(0)
    assert "1 VM left failed over" in banner and "sql-orders-01" in banner and "Recovered" in banner
    assert "Stop-VMFailover" in banner
    assert "LEFT FAILED OVER" in Tags(text).texts
    assert 'class="alert"' not in report_html.render(nobody_stranded(report))


def test_html_table_and_problems(report):
    text = report_html.render(report)
    tags = Tags(text)
    assert sum(1 for tag, _attrs in tags.tags if tag == "tr") == 1 + 4
    assert text.count('<td class="bad">FAILED</td>') == 3
    problems = re.search(r'<ul class="problems">.*?</ul>', text, re.S).group(0)
    assert problems.count("<li>") == 4 and "&lt;html&gt;" in problems


def test_html_legend_names_each_colour(report):
    legend = re.search(r'<div class="legend">.*?</div>', report_html.render(report), re.S).group(0)
    for colour in ("#1f6feb", "#2da44e", "#bf8700", "#cf222e"):
        assert colour in legend


def test_html_escapes_hostile_text(report):
    text = report_html.render(hostile(report))
    tags = Tags(text)
    assert all(tag != "script" for tag, _attrs in tags.tags)
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\x00" not in text and "\x1b" not in text
    assert "\U0001F525" in text and "caf\u00e9" in text
    assert "<title>&lt;script&gt;" in text


def test_html_revert_disabled_draws_periods_to_the_end(report):
    changed = revert_disabled(report)
    tags = Tags(report_html.render(changed))
    assert not tags.rects("step-revert")
    assert len(tags.rects("period")) == 3
    right = report_html.WIDTH - report_html.RIGHT_MARGIN
    assert all(int(rect["x"]) + int(rect["width"]) == right for rect in tags.rects("period"))
    assert "LEFT FAILED OVER" not in tags.texts and "revert: false" in tags.texts


@pytest.mark.parametrize("edit", ["no_vms", "null_times", "same_time"])
def test_html_degenerate_reports_render(report, edit):
    changed = degenerate(report, edit)
    text = report_html.render(changed)
    tags = Tags(text)
    assert '<svg id="timeline"' in text
    if edit == "no_vms":
        assert "No VMs in this drill." in tags.texts and not tags.rects("bar")
    elif edit == "null_times":
        assert not tags.rects("bar") and len(tags.rects("skipped-row")) == 4
    else:
        assert len(tags.rects("bar")) == 9
        assert all(int(rect["width"]) >= 4 for rect in tags.rects("bar"))


def test_html_still_running_step_runs_to_the_end_in_red(report):
    changed = copy.deepcopy(report)
    vm = vm_named(changed, "mq-broker-01")
    vm["revert"].update(status="in_progress", finished=None, seconds=None)
    rect = [r for r in Tags(report_html.render(changed)).rects("step-revert") if "open" in r["class"].split()]
    assert len(rect) == 1 and rect[0]["fill"] == report_html.FAILED_COLOUR
    assert int(rect[0]["x"]) + int(rect[0]["width"]) == report_html.WIDTH - report_html.RIGHT_MARGIN
