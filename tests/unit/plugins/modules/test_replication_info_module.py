"""The modules end to end in-process: options as Ansible passes them, the simulator as the host, the result as
Ansible would receive it (exit_json / fail_json captured instead of printed)."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.replica.plugins.modules import failover, replication_info
from ansible_collections.hyperv.replica.tests.unit.plugins import simhost
from ansible_collections.hyperv.replica.tests.unit.plugins.modules.modrun import run
from ansible_collections.hyperv.replica.tests.unit.plugins.simhost import vm


@pytest.fixture
def sim():
    hosts = simhost.Hosts()
    yield hosts.start([vm("web01", recovery_points=[{"type": "standard", "created": "-1h", "name": "web01-1h"},
                                                    {"type": "standard", "created": "-3h", "name": "web01-3h"}]),
                       vm("sql01", state="recovered", failed_over_type="application_consistent"),
                       vm("plain01", mode="none", state="disabled")],
                      job_seconds=0)  # the module waits on the real clock: jobs end at the first poll
    hosts.stop()


@pytest.mark.parametrize("check_mode", [False, True])
def test_info_reports_and_never_changes(sim, check_mode):
    done = run(replication_info, dict(simhost.params(sim), _ansible_check_mode=check_mode))
    assert not done.failed and done.result["changed"] is False
    assert [v["name"] for v in done.result["vms"]] == ["sql01", "web01"]
    assert done.result["msg"] == "2 VMs; health: Normal 2"
    assert [p["name"] for p in done.result["vms"][1]["recovery_points"]] == ["web01-1h", "web01-3h"]
    assert not [k for k in sim.counters() if k.startswith("Invoke")]


def test_info_for_some_vms_without_points(sim):
    done = run(replication_info, dict(simhost.params(sim), name=["plain01", "sql01"], recovery_points=False))
    assert [(v["name"], v["mode"], v["failed_over_type"]) for v in done.result["vms"]] == [
        ("plain01", "None", "None"), ("sql01", "Replica", "Application consistent")]
    assert all("recovery_points" not in v for v in done.result["vms"])


def test_info_unknown_vm_fails_without_a_traceback(sim):
    done = run(replication_info, dict(simhost.params(sim), vms=["web01", "ghost"]))
    assert done.failed and "'ghost'" in done.result["msg"] and done.result["vms"] == []
    done = run(replication_info, dict(simhost.params(sim), vms=["bad\x01name"]))
    assert done.failed and "control character" in done.result["msg"]


def test_info_host_errors_name_the_endpoint(sim):
    sim.inject_fault("Enumerate", "AccessDenied")
    done = run(replication_info, simhost.params(sim))
    assert done.failed and done.result["msg"].startswith(sim.endpoint.replace("/wsman", ""))


def test_failover_recovery_point_before_is_in_the_result(sim):
    created = run(replication_info, dict(simhost.params(sim), vms=["web01"])).result["vms"][0]["recovery_points"]
    before = created[1]["created"]  # exactly when the older point was taken
    done = run(failover, dict(simhost.params(sim), vms=["web01"], state="failed_over", recovery_point_before=before))
    assert not done.failed and done.result["changed"]
    assert done.result["vms"][0]["recovery_point"] == created[1]
    after = run(replication_info, dict(simhost.params(sim), vms=["web01"])).result["vms"][0]
    assert (after["state"], after["failed_over_type"]) == ("Recovered", "Regular")


def test_failover_recovery_point_options_are_exclusive_and_times_need_a_zone(sim):
    both = run(failover, dict(simhost.params(sim), vms=["web01"], state="failed_over", recovery_point="web01-1h",
                              recovery_point_before="2026-11-21T10:00:00Z"))
    assert both.failed and "mutually exclusive" in both.result["msg"]
    naive = run(failover, dict(simhost.params(sim), vms=["web01"], state="failed_over",
                               recovery_point_before="2026-11-21T10:00:00"))
    assert naive.failed and "no time zone" in naive.result["msg"]
    assert sim.counters().get("total", 0) == 0  # refused before the host was contacted


def test_an_account_that_sees_no_vm_is_told_why(sim):
    outsider = dict(simhost.params(sim), username=simhost.OUTSIDER["username"], password=simhost.OUTSIDER["password"])
    done = run(replication_info, outsider)
    assert not done.failed and done.result["vms"] == []
    assert done.result["msg"].startswith("no replicated VMs; the host shows no VM at all to this account")
    assert "Hyper-V Administrators" in done.result["msg"]
