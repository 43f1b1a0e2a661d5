"""Check a drill's report files against the simulator's own truth, for one scenario of the dr_drill target.

    python verify.py SCENARIO REPORT_DIR --schema SCHEMA --host NAME=URL [--host NAME=URL ...]

The report says what the drill did; the simulator's control API (GET /_sim/vms, /_sim/requests) says what the
hosts went through. Every scenario checks both, and that report.xml is JUnit a CI server reads (junitparser).
Exit 1 with every mismatch listed.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List

import jsonschema
from junitparser import Error, Failure, JUnitXml, Skipped

REPLICATING, RECOVERED = 3, 5


class Checks:
    def __init__(self) -> None:
        self.problems: List[str] = []

    def that(self, condition: bool, message: str) -> None:
        if not condition:
            self.problems.append(message)

    def equal(self, actual: Any, expected: Any, what: str) -> None:
        self.that(actual == expected, "%s: expected %r, got %r" % (what, expected, actual))


class Drill:
    """The report files of one run and the simulated hosts it ran against."""

    def __init__(self, folder: Path, schema: Path, hosts: Dict[str, str]) -> None:
        self.folder = folder
        self.report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        jsonschema.validate(self.report, json.loads(schema.read_text(encoding="utf-8")))
        self.junit = JUnitXml.fromfile(str(folder / "report.xml"))
        self.markdown = (folder / "report.md").read_text(encoding="utf-8")
        self.html = (folder / "report.html").read_text(encoding="utf-8")
        self.hosts = hosts

    def vm(self, name: str) -> Dict[str, Any]:
        return next(vm for vm in self.report["vms"] if vm["name"] == name)

    def sim(self, host: str, resource: str) -> Any:
        base = self.hosts[host].rsplit("/wsman", 1)[0]
        with urllib.request.urlopen(base + "/_sim/" + resource, timeout=10) as answer:  # nosec: loopback
            return json.loads(answer.read())

    def true_state(self, host: str, name: str) -> int:
        return next(vm["state"] for vm in self.sim(host, "vms") if vm["name"] == name)

    def invokes(self, host: str, method: str, vm: str) -> int:
        return sum(1 for r in self.sim(host, "requests") if r["operation"] == "Invoke:" + method and r["vm"] == vm)

    def outcomes(self) -> Dict[str, str]:
        """"<classname> <step>" -> passed / failure / skipped / error, from the JUnit file."""
        seen = {}
        for suite in self.junit:
            for case in suite:
                kinds = {type(r) for r in case.result}
                kind = ("failure" if Failure in kinds else "error" if Error in kinds else
                        "skipped" if Skipped in kinds else "passed")
                seen["%s %s" % (case.classname, case.name)] = kind
        return seen


def _common(drill: Drill, checks: Checks) -> None:
    """What holds for every report: the JUnit totals are the report's, each VM has its four steps."""
    report = drill.report
    cases = sum(len(list(suite)) for suite in drill.junit)
    checks.equal(len(list(drill.junit)), report["counts"]["hosts"], "one JUnit testsuite per host")
    checks.that(cases >= 4 * report["counts"]["vms"], "at least 4 testcases per VM (got %d)" % cases)
    failures = sum(suite.failures + suite.errors for suite in drill.junit)
    checks.that((failures > 0) == (report["result"] == "failed"), "JUnit failures (%d) agree with result %s" % (
        failures, report["result"]))
    for vm in report["vms"]:
        checks.that(vm["name"] in drill.markdown, "report.md names %s" % vm["name"])
        checks.that(vm["name"] in drill.html, "report.html names %s" % vm["name"])
    checks.that("<svg" in drill.html and "http://" not in drill.html and "https://" not in drill.html,
                "report.html has its chart inline and no external reference")


def full_drill(drill: Drill, checks: Checks) -> None:
    """Both hosts, every Replica VM, a passing check and one that fails on HV-DRILL02."""
    report, outcomes = drill.report, drill.outcomes()
    checks.equal(sorted(vm["name"] for vm in report["vms"]), ["erp01", "file01", "mq01", "sql01", "web01", "web02"],
                 "drilled VMs (the Primary dc01 left out)")
    checks.equal(report["result"], "failed", "drill result")
    checks.equal(drill.vm("erp01")["precheck"]["passed"], False, "erp01 pre-check")
    checks.equal(outcomes.get("HV-DRILL01.erp01 precheck"), "failure", "erp01's JUnit precheck")
    checks.equal(outcomes.get("HV-DRILL01.erp01 failover"), "skipped", "erp01's JUnit failover")
    checks.equal(drill.invokes("HV-DRILL01", "InitiateFailover", "erp01"), 0, "InitiateFailover calls on erp01")
    for name in ("web01", "web02", "sql01"):
        checks.equal(drill.vm(name)["result"], "passed", "%s result" % name)
        checks.equal(outcomes.get("HV-DRILL01.%s checks" % name), "passed", "%s's JUnit checks" % name)
    for name in ("mq01", "file01"):
        checks.equal(drill.vm(name)["result"], "failed", "%s result (its host's check failed)" % name)
        checks.equal([Path(c).name for c in drill.vm(name)["checks"]["failed"]], ["fails.yml"], "%s failed checks" % name)
        checks.equal(outcomes.get("HV-DRILL02.%s checks" % name), "failure", "%s's JUnit checks" % name)
        checks.equal(outcomes.get("HV-DRILL02.%s revert" % name), "passed", "%s's JUnit revert" % name)
    for host, names in (("HV-DRILL01", ("web01", "web02", "sql01")), ("HV-DRILL02", ("mq01", "file01"))):
        for name in names:
            vm = drill.vm(name)
            checks.equal(vm["failover"]["status"], "changed", "%s failover" % name)
            checks.equal(vm["revert"]["status"], "changed", "%s revert" % name)
            checks.equal(drill.true_state(host, name), REPLICATING, "%s's state on the host after the drill" % name)
            checks.equal(drill.invokes(host, "InitiateFailover", name), 1, "InitiateFailover calls on %s" % name)
            checks.equal(drill.invokes(host, "RevertFailover", name), 1, "RevertFailover calls on %s" % name)
            checks.that(vm["rpo_seconds"] is not None and vm["rpo_seconds"] > 0, "%s has an RPO" % name)
            checks.that(vm["failover"]["requested"] <= vm["failover"]["finished"] <= vm["revert"]["requested"]
                        <= vm["revert"]["finished"], "%s's times are in order" % name)
    checks.equal(report["counts"]["left_failed_over"], 0, "VMs left failed over")
    checks.equal(report["counts"]["reverted"], 5, "VMs reverted")


def serial_drill(drill: Drill, checks: Checks) -> None:
    """serial: 1, erp01 failing the pre-check in the first batch: the second batch still runs, and the report the
    last batch wrote has both hosts."""
    report = drill.report
    checks.equal([(h["name"], h["result"]) for h in report["hosts"]],
                 [("HV-DRILL01", "failed"), ("HV-DRILL02", "passed")], "hosts and results in the report")
    checks.equal(report["counts"]["vms"], 5, "VMs drilled")
    checks.equal(report["counts"]["reverted"], 4, "VMs reverted")
    for name in ("web01", "sql01", "mq01", "file01"):
        checks.equal((drill.vm(name)["recovery_point"] or {}).get("type"), "application_consistent",
                     "%s's recovery point" % name)
    checks.that(drill.vm("sql01")["rpo_seconds"] >= 40 * 60, "sql01's RPO is the age of its 40 min old point")


def clean_drill(drill: Drill, checks: Checks) -> None:
    """Healthy VMs only, a passing check: the drill passes."""
    report = drill.report
    checks.equal(report["result"], "passed", "drill result")
    checks.equal(report["counts"]["vms"], 4, "VMs drilled")
    checks.equal(report["counts"]["reverted"], 4, "VMs reverted")
    checks.that(all(outcome == "passed" for outcome in drill.outcomes().values()), "every JUnit testcase passed")


def broken_drill(drill: Drill, checks: Checks) -> None:
    """An unknown VM on HV-DRILL01 and a revert job that fails on HV-DRILL02's file01."""
    report = drill.report
    first, second = report["hosts"]
    checks.that("nosuch01" in (first["error"] or ""), "HV-DRILL01's error names the unknown VM: %r" % first["error"])
    checks.equal(drill.invokes("HV-DRILL01", "InitiateFailover", "web01"), 0, "failovers on HV-DRILL01")
    checks.equal(second["result"], "failed", "HV-DRILL02 result")
    checks.equal(drill.vm("mq01")["result"], "passed", "mq01 result")
    checks.equal(drill.true_state("HV-DRILL02", "mq01"), REPLICATING, "mq01's state on the host")
    file01 = drill.vm("file01")
    checks.equal(file01["left_failed_over"], True, "file01 left failed over")
    checks.equal(drill.true_state("HV-DRILL02", "file01"), RECOVERED, "file01's state on the host")
    checks.equal(report["counts"]["left_failed_over"], 1, "VMs left failed over")
    checks.that("WARNING" in drill.markdown and "file01" in drill.markdown.split("WARNING", 1)[1],
                "report.md warns about file01")
    checks.that("LEFT FAILED OVER" in drill.junit.tostring().decode("utf-8"), "report.xml says LEFT FAILED OVER")
    checks.equal(drill.outcomes().get("HV-DRILL02.file01 revert"), "failure", "file01's JUnit revert")


def lost_drill(drill: Drill, checks: Checks) -> None:
    """HV-DRILL02 dropped out of the play during its check: reported as a failed host, its VMs failed over."""
    report = drill.report
    checks.equal([(h["name"], h["result"]) for h in report["hosts"]],
                 [("HV-DRILL01", "passed"), ("HV-DRILL02", "failed")], "hosts and results")
    checks.that("may still be failed over" in (report["hosts"][1]["error"] or ""), "HV-DRILL02's error says why")
    checks.equal(report["result"], "failed", "drill result")
    for name in ("mq01", "file01"):
        checks.equal(drill.true_state("HV-DRILL02", name), RECOVERED, "%s's state on the host" % name)
    checks.that("no record of the drill on HV-DRILL02" in drill.markdown, "report.md says HV-DRILL02 has no record")
    checks.equal(drill.outcomes().get("HV-DRILL01.web01 revert"), "passed", "web01's JUnit revert")


SCENARIOS: Dict[str, Callable[[Drill, Checks], None]] = {
    "full": full_drill, "serial": serial_drill, "clean": clean_drill, "broken": broken_drill, "lost": lost_drill,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--host", action="append", default=[], help="NAME=URL of a simulated host")
    args = parser.parse_args()
    drill = Drill(args.report_dir, args.schema, dict(item.split("=", 1) for item in args.host))
    checks = Checks()
    _common(drill, checks)
    SCENARIOS[args.scenario](drill, checks)
    for problem in checks.problems:
        print("MISMATCH %s: %s" % (args.scenario, problem))
    print("%s: report %s, %d VMs, %d checks of the report failed" % (
        args.scenario, drill.report["result"], drill.report["counts"]["vms"], len(checks.problems)))
    return 1 if checks.problems else 0


if __name__ == "__main__":
    sys.exit(main())
