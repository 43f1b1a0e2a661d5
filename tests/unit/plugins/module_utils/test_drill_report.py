"""The drill report's verdicts, from the records the dr_drill role keeps per host; and its schema."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.report.verdicts import (
    RecordError, build_report, left_failed_over, rpo_seconds, summary)

SCHEMA = Path(__file__).resolve().parents[4] / "docs" / "drill-report.schema.json"
SAMPLE = Path(__file__).resolve().parent / "fixtures" / "drill_report.json"
NOW = datetime(2026, 11, 21, 10, 5, tzinfo=timezone.utc)


def pre(name, passed=True, problems=(), last="2026-11-21T09:55:00+00:00"):
    return {"name": name, "id": "ID-" + name.upper(), "passed": passed, "problems": list(problems),
            "mode": "Replica", "state": "Replicating", "health": "Normal" if passed else "Critical",
            "power_state": "Off", "last_replication_time": last}


def entry(name, state_after, changed=True, error=None, job_state="Completed", point=None, invoked="10:00:02",
          finished="10:00:05"):
    return {"name": name, "id": "ID-" + name.upper(), "changed": changed, "state_after": state_after,
            "recovery_point": point or {"id": None, "name": "latest", "type": "latest", "created": None},
            "job_id": "JOB-" + name if changed else None, "job_state": job_state if changed else None,
            "seconds_waited": 3.0 if changed else None, "error": error,
            "timings": {"invoked": "2026-11-21T%s+00:00" % invoked if invoked else None,
                        "job_finished": "2026-11-21T%s+00:00" % finished if finished else None}}


def record(host="HV01", names=("web01", "sql01"), **overrides):
    rec = {
        "host": host, "endpoint": host.lower() + ".contoso.com", "started": "2026-11-21T10:00:00+00:00",
        "finished": "2026-11-21T10:01:00+00:00", "error": None, "precheck": [pre(n) for n in names],
        "failover": {"ran": True, "msg": "", "vms": [entry(n, "Recovered") for n in names]},
        "checks": [{"name": "checks/app.yml", "passed": True, "msg": None, "started": None, "finished": None}],
        "revert": {"ran": True, "msg": "", "vms": [entry(n, "Replicating", invoked="10:00:40", finished="10:00:43")
                                                   for n in names]},
    }
    rec.update(overrides)
    return rec


SETTINGS = {"revert": True, "checks": ["checks/app.yml"]}


def report_of(*records, settings=None, lost_hosts=()):
    report = build_report(list(records), dict(SETTINGS, **(settings or {})), title="Q4 drill", now=NOW,
                          lost_hosts=lost_hosts)
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))  # every report built here follows the schema
    return report


def vm(report, name):
    return next(v for v in report["vms"] if v["name"] == name)


def test_a_clean_drill_passes_with_every_step_and_time():
    report = report_of(record())
    assert report["result"] == "passed"
    assert report["counts"] == {"hosts": 1, "hosts_failed": 0, "vms": 2, "passed": 2, "failed": 0,
                                "precheck_failed": 0, "failed_over": 2, "failover_failed": 0, "checks_failed": 0,
                                "reverted": 2, "revert_failed": 0, "left_failed_over": 0}
    web = vm(report, "web01")
    assert web["failover"]["requested"] == "2026-11-21T10:00:02+00:00"
    assert web["failover"]["finished"] == "2026-11-21T10:00:05+00:00"
    assert web["revert"]["status"] == "changed" and web["final_state"] == "Replicating"
    assert web["checks"] == {"passed": True, "failed": []}
    assert report["started"] == "2026-11-21T10:00:00+00:00" and report["duration_seconds"] == 60
    assert "PASSED" in summary(report)


def test_the_achieved_rpo_is_the_age_of_the_data_when_failover_was_asked():
    # latest point in time: the last replication (09:55:00) seen by the pre-check, asked at 10:00:02
    assert vm(report_of(record()), "web01")["rpo_seconds"] == 302
    point = {"id": "Microsoft:P1", "name": "p", "type": "application_consistent", "created": "2026-11-21T09:00:00Z"}
    assert rpo_seconds(pre("x"), point, "2026-11-21T10:00:00+00:00") == 3600
    assert rpo_seconds(pre("x"), point, None) is None
    assert rpo_seconds(pre("x", last=None), {"type": "latest", "created": None}, "2026-11-21T10:00:00Z") is None


def test_a_vm_failing_the_precheck_is_skipped_and_fails_the_drill():
    rec = record(names=("web01",))
    rec["precheck"].append(pre("erp01", passed=False, problems=["replication health is Critical"]))
    report = report_of(rec)
    erp = vm(report, "erp01")
    assert erp["result"] == "failed" and report["result"] == "failed"
    assert erp["failover"]["status"] == "skipped" and erp["revert"]["status"] == "skipped"
    assert erp["checks"]["passed"] is None and erp["left_failed_over"] is False
    assert erp["errors"] == ["VM erp01 failed the pre-check: replication health is Critical"]
    assert vm(report, "web01")["result"] == "passed"
    assert report["counts"]["precheck_failed"] == 1 and report["counts"]["passed"] == 1


def test_a_failed_check_fails_its_hosts_vms_but_they_are_still_reverted():
    rec = record()
    rec["checks"] = [{"name": "checks/app.yml", "passed": False, "msg": "HTTP 503", "started": None,
                      "finished": None}]
    report = report_of(rec)
    web = vm(report, "web01")
    assert web["result"] == "failed" and web["checks"] == {"passed": False, "failed": ["checks/app.yml"]}
    assert web["revert"]["status"] == "changed" and not web["left_failed_over"]
    assert "check checks/app.yml failed while VM web01 was failed over: HTTP 503" in web["errors"]
    assert report["hosts"][0]["checks"][0]["passed"] is False


def test_a_failed_revert_leaves_the_vm_failed_over_loudly():
    rec = record()
    rec["revert"]["vms"][1] = entry("sql01", "Recovered", error="RevertFailover on VM sql01 failed: job ended",
                                    job_state="Exception")
    report = report_of(rec)
    sql = vm(report, "sql01")
    assert sql["revert"]["status"] == "failed" and sql["left_failed_over"] is True
    assert any(e.startswith("LEFT FAILED OVER: VM sql01 is Recovered on HV01") for e in sql["errors"])
    assert left_failed_over(report) == ["sql01 on HV01 (Recovered)"]
    assert report["counts"]["left_failed_over"] == 1 and report["result"] == "failed"


def test_a_vm_already_failed_over_before_the_drill_is_reported_left_failed_over():
    """A rerun after a killed drill: the VM was Recovered at the pre-check, which fails it, and it still is."""
    rec = record(names=("web01", "sql01"))
    rec["precheck"][1] = dict(pre("sql01", passed=False, problems=["it is Recovered (failed over)"]), state="Recovered")
    rec["failover"]["vms"] = rec["failover"]["vms"][:1]
    rec["revert"]["vms"] = rec["revert"]["vms"][:1]
    report = report_of(rec)
    sql = vm(report, "sql01")
    assert sql["final_state"] == "Recovered" and sql["left_failed_over"] is True
    assert any("as it already was before this drill" in e and "did not touch it" in e for e in sql["errors"])
    assert report["counts"]["left_failed_over"] == 1 and left_failed_over(report) == ["sql01 on HV01 (Recovered)"]
    assert vm(report, "web01")["left_failed_over"] is False


def test_a_job_still_running_at_the_timeout_is_in_progress_not_failed_over():
    rec = record(names=("web01",))
    rec["failover"]["vms"][0] = entry("web01", "Failover in progress", error="still in progress after 900s",
                                      job_state="Running", finished=None)
    rec["revert"]["vms"][0] = entry("web01", "Failover in progress", changed=False, error="no failover to revert")
    report = report_of(rec)
    web = vm(report, "web01")
    assert web["failover"]["status"] == "in_progress" and web["left_failed_over"] is True
    assert web["checks"]["passed"] is None  # the checks are about failed-over VMs only


def test_a_failover_call_that_failed_as_a_whole_fails_each_vm_with_its_message():
    rec = record(failover={"ran": True, "msg": "hv01: cannot reach the host", "vms": []})
    rec["revert"] = {"ran": True, "msg": "hv01: cannot reach the host", "vms": []}
    report = report_of(rec)
    assert [v["failover"]["error"] for v in report["vms"]] == ["hv01: cannot reach the host"] * 2
    assert report["counts"]["failover_failed"] == 2


def test_without_revert_vms_left_failed_over_on_purpose_pass_but_are_listed():
    rec = record(revert={"ran": False})
    report = report_of(rec, settings={"revert": False})
    web = vm(report, "web01")
    assert web["revert"]["status"] == "not_run" and web["left_failed_over"] is True
    assert web["result"] == "passed" and web["errors"] == []
    assert report["result"] == "passed" and len(left_failed_over(report)) == 2


def test_a_host_that_could_not_be_prechecked_fails_the_drill_with_its_error():
    broken = record(host="HV02", precheck=[], error="pre-check: VM nosuch01 not found", failover={"ran": False},
                    revert={"ran": False}, checks=[])
    report = report_of(record(), broken)
    assert [h["result"] for h in report["hosts"]] == ["passed", "failed"]
    assert report["hosts"][1]["error"] == "pre-check: VM nosuch01 not found"
    assert report["result"] == "failed" and report["counts"]["hosts_failed"] == 1


def test_a_drill_of_no_vm_is_not_a_pass():
    report = report_of(record(precheck=[], failover={"ran": False}, revert={"ran": False}, checks=[]))
    assert report["result"] == "failed"
    assert report["hosts"][0]["error"] == "no Replica VM to fail over on this host"


def test_hosts_are_in_name_order_and_the_span_covers_them_all():
    late = record(host="HV02", names=("mq01",), finished="2026-11-21T10:03:00+00:00")
    report = report_of(late, record(host="HV01"))
    assert [h["name"] for h in report["hosts"]] == ["HV01", "HV02"]
    assert report["finished"] == "2026-11-21T10:03:00+00:00" and report["duration_seconds"] == 180


def test_settings_arrive_as_strings_from_role_variables():
    report = report_of(record(), settings={"wait_timeout": "900", "max_replication_age_minutes": "60",
                                           "recovery_point_before": ""})
    assert report["settings"]["wait_timeout"] == 900 and report["settings"]["recovery_point_before"] is None


def test_the_sample_report_in_the_fixtures_follows_the_schema():
    jsonschema.validate(json.loads(SAMPLE.read_text()), json.loads(SCHEMA.read_text()))


def test_the_schema_rejects_a_report_missing_a_vm_field():
    broken = copy.deepcopy(json.loads(SAMPLE.read_text()))
    del broken["vms"][0]["rpo_seconds"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json.loads(SCHEMA.read_text()))


def test_settings_from_extra_vars_strings_mean_what_they_say():
    report = report_of(record(revert={"ran": False}), settings={"revert": "false", "checks": "a.yml, b.yml"})
    assert report["settings"]["revert"] is False and report["settings"]["checks"] == ["a.yml", "b.yml"]
    assert vm(report, "web01")["revert"]["status"] == "not_run" and report["result"] == "passed"


def test_a_revert_that_ran_counts_even_when_the_failover_left_no_record():
    rec = record(names=("web01",), failover={"ran": False})
    rec["revert"]["vms"][0] = entry("web01", "Recovered", error="RevertFailover on VM web01 failed: job ended",
                                    job_state="Exception")
    web = vm(report_of(rec), "web01")
    assert web["failover"]["status"] == "not_run" and web["revert"]["status"] == "failed"
    assert web["final_state"] == "Recovered" and web["left_failed_over"] is True and web["result"] == "failed"


def test_a_revert_that_does_not_bring_the_vm_back_to_replicating_fails_it():
    rec = record(names=("web01",))
    rec["revert"]["vms"][0] = entry("web01", "Resynchronization required")
    web = vm(report_of(rec), "web01")
    assert web["result"] == "failed" and web["left_failed_over"] is False
    assert web["errors"] == ["VM web01 is Resynchronization required after its revert, not Replicating: check it "
                             "with Get-VMReplication and resume or resynchronize replication"]


def test_a_failover_that_did_not_happen_achieved_no_rpo():
    rec = record(names=("web01",))
    rec["failover"]["vms"][0] = entry("web01", "Replicating", error="InitiateFailover on VM web01 failed: refused")
    assert vm(report_of(rec), "web01")["rpo_seconds"] is None


def test_a_call_level_error_is_given_the_vm_name():
    rec = record(names=("web01",), failover={"ran": True, "msg": "hv01: cannot reach the host", "vms": []},
                 revert={"ran": True, "msg": "hv01: cannot reach the host", "vms": []})
    expected = ["VM web01: failover: hv01: cannot reach the host", "VM web01: revert: hv01: cannot reach the host"]
    assert vm(report_of(rec), "web01")["errors"] == expected


def test_a_host_lost_during_the_drill_is_a_failed_host_whose_vms_may_be_failed_over():
    report = report_of(record(), lost_hosts=["HV02", "HV01"])
    assert [(h["name"], h["result"]) for h in report["hosts"]] == [("HV01", "passed"), ("HV02", "failed")]
    assert "may still be failed over" in report["hosts"][1]["error"]
    assert report["result"] == "failed" and report["counts"]["hosts_failed"] == 1


def test_a_malformed_record_is_an_error_naming_its_host():
    rec = record(names=("web01",))
    rec["failover"]["vms"][0]["timings"]["invoked"] = "yesterday"
    with pytest.raises(RecordError, match="record of host HV01 is not what the dr_drill role writes"):
        build_report([rec], SETTINGS)
