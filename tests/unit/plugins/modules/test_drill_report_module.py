"""The drill_report module in-process: files written (or not, in check mode), warnings, and errors."""

from __future__ import annotations

import json
import os
from ansible_collections.hyperv.replica.plugins.modules import drill_report
from ansible_collections.hyperv.replica.tests.unit.plugins.modules import modrun


def run(args: dict, check_mode: bool = False):
    return modrun.run(drill_report, args, check_mode=check_mode)


def record(revert_state="Replicating"):
    def entry(state, invoked, finished):
        return {"name": "web01", "id": "ID-WEB01", "changed": True, "state_after": state, "job_id": "J",
                "job_state": "Completed", "seconds_waited": 2.0, "error": None,
                "recovery_point": {"id": None, "name": "latest", "type": "latest", "created": None},
                "timings": {"invoked": invoked, "job_finished": finished}}
    revert = entry(revert_state, "2026-11-21T10:00:30+00:00", "2026-11-21T10:00:32+00:00")
    if revert_state != "Replicating":
        revert["error"] = "RevertFailover on VM web01 failed"
    return {"host": "HV01", "endpoint": "hv01", "started": "2026-11-21T10:00:00+00:00",
            "finished": "2026-11-21T10:01:00+00:00", "error": None, "checks": [],
            "precheck": [{"name": "web01", "id": "ID-WEB01", "passed": True, "problems": [], "mode": "Replica",
                          "state": "Replicating", "health": "Normal", "power_state": "Off",
                          "last_replication_time": "2026-11-21T09:58:00+00:00"}],
            "failover": {"ran": True, "msg": "", "vms": [entry("Recovered", "2026-11-21T10:00:01+00:00",
                                                               "2026-11-21T10:00:04+00:00")]},
            "revert": {"ran": True, "msg": "", "vms": [revert]}}


def test_writes_the_four_files_and_returns_the_verdict(tmp_path):
    dest = tmp_path / "reports" / "q4"
    done = run({"records": [record()], "dest": str(dest), "title": "Q4"})
    assert not done.failed and done.result["changed"] is True
    assert done.result["result"] == "passed" and done.result["left_failed_over"] == []
    assert sorted(os.listdir(dest)) == ["report.html", "report.json", "report.md", "report.xml"]
    assert json.loads((dest / "report.json").read_text())["vms"][0]["rpo_seconds"] == 121
    assert done.result["files"]["junit"] == str(dest / "report.xml")
    assert "web01" in done.result["table"]


def test_check_mode_writes_nothing(tmp_path):
    done = run({"records": [record()], "dest": str(tmp_path / "r")}, check_mode=True)
    assert not done.failed and done.result["changed"] is False
    assert not (tmp_path / "r").exists()
    assert done.result["report"]["result"] == "passed"


def test_only_the_formats_asked_for(tmp_path):
    run({"records": [record()], "dest": str(tmp_path), "formats": ["junit"]})
    assert os.listdir(tmp_path) == ["report.xml"]


def test_a_vm_left_failed_over_is_a_warning_and_a_failed_drill(tmp_path):
    done = run({"records": [record(revert_state="Recovered")], "dest": str(tmp_path)})
    assert done.result["result"] == "failed"
    assert done.result["left_failed_over"] == ["web01 on HV01 (Recovered)"]
    assert done.result["warnings"] == ["LEFT FAILED OVER: web01 on HV01 (Recovered)"]


def test_an_unwritable_destination_fails_clearly_and_keeps_the_report(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run({"records": [record()], "dest": str(blocker / "sub")})
    assert done.failed and done.result["msg"].startswith("cannot write the drill report to %s" % (blocker / "sub"))
    assert done.result["report"]["result"] == "passed"


def test_an_earlier_report_is_replaced_whole(tmp_path):
    run({"records": [record(revert_state="Recovered")], "dest": str(tmp_path)})
    run({"records": [record()], "dest": str(tmp_path)})
    assert json.loads((tmp_path / "report.json").read_text())["result"] == "passed"
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".report-")]


def test_a_host_without_record_is_reported_and_warned(tmp_path):
    done = run({"records": [record()], "dest": str(tmp_path), "lost_hosts": ["HV01", "HV02"]})
    assert done.result["result"] == "failed" and done.result["lost_hosts"] == ["HV02"]
    assert len(done.result["warnings"]) == 1 and done.result["warnings"][0].startswith("no record of the drill on HV02")


def test_a_malformed_record_fails_with_a_message_not_a_traceback(tmp_path):
    broken = record()
    broken["started"] = "not a time"
    done = run({"records": [broken], "dest": str(tmp_path)})
    assert done.failed and "start or end time is not ISO 8601" in done.result["msg"]
    assert os.listdir(tmp_path) == []
