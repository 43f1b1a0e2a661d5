"""The test_failover module against the simulator: test VMs made and removed idempotently, refusals that name the
fix, lost answers settled, and never a destroy of a VM that is not the named replica's test VM (tricks included)."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.test_failover import TestFailoverRun
from ansible_collections.hyperv.replica.plugins.modules import test_failover
from ansible_collections.hyperv.replica.tests.unit.plugins import simhost
from ansible_collections.hyperv.replica.tests.unit.plugins.modules.modrun import run
from ansible_collections.hyperv.replica.tests.unit.plugins.simhost import vm


@pytest.fixture
def hosts():
    started = simhost.Hosts()
    yield started
    started.stop()


def task(sim, state, check_mode=False, **options):
    args = dict(simhost.params(sim), vms=options.pop("vms", ["web01", "sql01"]), state=state, poll_interval=0.01,
                **options)
    return run(test_failover, args, check_mode=check_mode)


def by_name(sim):
    return {v["name"]: v for v in sim.vms()}


def test_present_makes_one_test_vm_per_replica_and_replication_carries_on(hosts):
    sim = hosts.start([vm("web01"), vm("sql01"), vm("app01")], job_seconds=0)
    done = task(sim, "present")
    assert not done.failed and done.result["changed"] is True, done.result
    vms = by_name(sim)
    for entry in done.result["vms"]:
        test = vms[entry["name"] + " - Test"]
        assert entry["test_vm"] == {"name": test["name"], "id": test["id"], "power_state": "Off"}
        assert entry["changed"] and entry["operation"] == "TestReplicaSystem" and entry["state"] == "Replicating"
        assert entry["recovery_point"]["name"] == "latest" and test["test_of"] == entry["name"]
    assert vms["web01"]["state"] == 3 and "app01 - Test" not in vms
    assert sim.counters()["Invoke:TestReplicaSystem"] == 2
    again = task(sim, "present")
    assert again.result["changed"] is False and sim.counters()["Invoke:TestReplicaSystem"] == 2
    assert [e["test_vm"]["name"] for e in again.result["vms"]] == ["web01 - Test", "sql01 - Test"]


def test_check_mode_and_diff_send_nothing(hosts):
    sim = hosts.start([vm("web01"), vm("sql01")], job_seconds=0)
    done = task(sim, "present", check_mode=True, _ansible_diff=True)
    assert done.result["changed"] is True and "Invoke:TestReplicaSystem" not in sim.counters()
    assert done.result["diff"]["after"]["web01 (%s)" % by_name(sim)["web01"]["id"]] == "a test VM (would be created)"
    assert all(e["test_vm"] is None for e in done.result["vms"])
    task(sim, "present")
    removal = task(sim, "absent", check_mode=True, _ansible_diff=True)
    assert removal.result["changed"] is True and "Invoke:DestroySystem" not in sim.counters()
    assert set(removal.result["diff"]["after"].values()) == {"no test VM (would be removed)"}
    assert all(e["test_vm"]["name"].endswith(" - Test") for e in removal.result["vms"])


def test_absent_turns_a_running_test_vm_off_then_destroys_only_test_vms(hosts):
    running_test = vm("web01 - Test", mode="test_replica", state="disabled", power="running", test_of="web01")
    sim = hosts.start([vm("web01"), vm("sql01"), running_test], job_seconds=0)
    created = task(sim, "present")          # sql01 gets one; web01 has one already
    assert [e["changed"] for e in created.result["vms"]] == [False, True]
    done = task(sim, "absent")
    assert not done.failed and done.result["changed"] is True, done.result
    web, sql = done.result["vms"]
    assert web["turned_off"] is True and sql["turned_off"] is False
    assert web["test_vm"] is None and sql["test_vm"] is None and web["operation"] == "DestroySystem"
    destroyed = sorted((d["name"], d["test_of"]) for d in sim.destroyed())
    assert destroyed == [("sql01 - Test", "sql01"), ("web01 - Test", "web01")]
    assert set(by_name(sim)) == {"web01", "sql01"}
    again = task(sim, "absent")
    assert again.result["changed"] is False and len(sim.destroyed()) == 2


def test_a_vm_merely_named_like_a_test_vm_or_another_replicas_test_vm_is_never_destroyed(hosts):
    sim = hosts.start([vm("web01"), vm("sql01"),
                       vm("web01 - Test", mode="none", state="disabled"),                   # a normal VM
                       vm("web01 - Test ", mode="test_replica", state="disabled", test_of="sql01")],  # sql01's
                      job_seconds=0)
    done = task(sim, "absent", vms=["web01"])
    assert not done.failed and done.result["changed"] is False and done.result["vms"][0]["test_vm"] is None
    assert sim.destroyed() == [] and "Invoke:DestroySystem" not in sim.counters()


def test_the_test_vm_itself_named_is_refused(hosts):
    sim = hosts.start([vm("web01"), vm("web01 - Test", mode="test_replica", state="disabled", test_of="web01")],
                      job_seconds=0)
    done = task(sim, "absent", vms=["web01 - Test"])
    assert done.failed and "is a Test Replica itself: name the Replica VM" in done.result["vms"][0]["error"]
    assert sim.destroyed() == []


def test_a_test_vm_replaced_between_lookup_and_destroy_is_not_destroyed(hosts, monkeypatch):
    sim = hosts.start([vm("web01"), vm("web01 - Test", mode="test_replica", state="disabled", power="running",
                                       test_of="web01")], job_seconds=0)
    guard = TestFailoverRun.still_its_test_vm

    def replaced_first(self, cim, calls):
        sim.set_vm("web01 - Test", mode="none")   # an operator replaced it after the lookup and the turn-off
        guard(self, cim, calls)

    monkeypatch.setattr(TestFailoverRun, "still_its_test_vm", replaced_first)
    done = task(sim, "absent", vms=["web01"])
    error = done.result["vms"][0]["error"]
    assert done.failed and "DestroySystem was not sent" in error and "is no longer linked to it" in error
    assert "nothing was destroyed" in error
    assert sim.destroyed() == [] and "Invoke:DestroySystem" not in sim.counters()
    assert by_name(sim)["web01 - Test"]["power"] == 3   # the turn-off, asked while it was the test VM, happened


def test_a_test_vm_removed_by_someone_else_before_the_destroy_is_not_an_error(hosts, monkeypatch):
    sim = hosts.start([vm("web01"), vm("web01 - Test", mode="test_replica", state="disabled", test_of="web01")],
                      job_seconds=0)
    guard = TestFailoverRun.still_its_test_vm

    def removed_first(self, cim, calls):
        sim.model.destroy(sim.model.find_vms("web01 - Test")[0])   # another run's cleanup got there first
        guard(self, cim, calls)

    monkeypatch.setattr(TestFailoverRun, "still_its_test_vm", removed_first)
    done = task(sim, "absent", vms=["web01"])
    assert not done.failed and done.result["vms"][0]["test_vm"] is None and done.result["vms"][0]["error"] is None
    assert "Invoke:DestroySystem" not in sim.counters()


def test_refusals_name_the_state_and_the_others_go_on(hosts):
    sim = hosts.start([vm("web01"), vm("done01", state="recovered"), vm("prim01", mode="primary"),
                       vm("resync01", state="resynchronizing")], job_seconds=0)
    done = task(sim, "present", vms=["web01", "done01", "prim01", "resync01"])
    assert done.failed and done.result["vms"][0]["changed"] is True
    errors = [e["error"] for e in done.result["vms"][1:]]
    assert "is Recovered (failed over)" in errors[0] and "revert the failover" in errors[0]
    assert "is the Primary" in errors[1] and "is Resynchronizing" in errors[2]
    assert done.result["msg"].startswith("3 of 4 VMs failed (1 given a test VM, 0 already were); the first: ")


@pytest.mark.parametrize("method", ["TestReplicaSystem", "DestroySystem"])
def test_a_lost_answer_is_settled_not_repeated(hosts, method):
    sim = hosts.start([vm("web01")], job_seconds=0)
    if method == "DestroySystem":
        task(sim, "present", vms=["web01"])
    sim.add_fault(operation="Invoke:" + method, drop="after")
    done = task(sim, "present" if method == "TestReplicaSystem" else "absent", vms=["web01"])
    assert not done.failed and done.result["changed"] is True, done.result
    assert sim.counters()["Invoke:" + method] == 1
    tests = [v for v in sim.vms() if v["mode"] == "test_replica"]
    assert len(tests) == (1 if method == "TestReplicaSystem" else 0)
