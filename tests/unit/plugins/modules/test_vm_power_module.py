"""The vm_power module against the simulator: start and wait for the guests, stop them guest first with the
turn-off fallback, idempotency, check mode, and a Replica VM that must not be started."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.replica.plugins.modules import vm_power
from ansible_collections.hyperv.replica.tests.unit.plugins import simhost
from ansible_collections.hyperv.replica.tests.unit.plugins.modules.modrun import run
from ansible_collections.hyperv.replica.tests.unit.plugins.simhost import vm


@pytest.fixture
def hosts():
    started = simhost.Hosts()
    yield started
    started.stop()


def failed_over(name, **extra):
    """A failed-over replica whose guest answers as soon as it runs (the simulator's clock is manual here)."""
    return vm(name, state="recovered", **dict({"boot_seconds": 0, "shutdown_seconds": 0}, **extra))


def task(sim, state, check_mode=False, **options):
    args = dict(simhost.params(sim), state=state, poll_interval=0.01, **options)
    return run(vm_power, args, check_mode=check_mode)


def counters(sim):
    found = sim.counters()
    return found.get("Invoke:RequestStateChange", 0), found.get("Invoke:InitiateShutdown", 0)


def test_start_waits_for_heartbeat_and_addresses_and_is_idempotent(hosts):
    sim = hosts.start([failed_over("web01", addresses=["192.168.60.11"]), failed_over("sql01")], job_seconds=0)
    done = task(sim, "running", vms=["web01", "sql01"], wait_for="addresses")
    assert not done.failed and done.result["changed"] is True, done.result
    web, sql = done.result["vms"]
    assert (web["power_state"], web["heartbeat"], web["addresses"]) == ("Running", "OK", ["192.168.60.11"])
    assert sql["heartbeat"] == "OK" and len(sql["addresses"]) == 2
    assert all(v["timings"][k] for v in (web, sql) for k in ("requested", "running", "heartbeat", "addresses"))
    assert counters(sim) == (2, 0)
    again = task(sim, "running", vms=["web01", "sql01"])
    assert again.result["changed"] is False and counters(sim) == (2, 0)
    assert again.result["vms"][0]["heartbeat"] == "OK" and again.result["vms"][0]["timings"]["requested"] is None


def test_a_replica_that_has_not_failed_over_is_never_started(hosts):
    sim = hosts.start([vm("rep01"), failed_over("web01")], job_seconds=0)
    done = task(sim, "running", vms=["rep01", "web01"])
    error = done.result["vms"][0]["error"]
    assert done.failed and "is a Replica VM that has not failed over (Replicating)" in error
    assert "would break replication" in error and done.result["vms"][1]["power_state"] == "Running"
    assert counters(sim) == (1, 0)
    assert {v["name"]: v["power"] for v in sim.vms()}["rep01"] == 3


def test_a_guest_that_never_answers_fails_its_vm_after_wait_timeout(hosts):
    sim = hosts.start([failed_over("mute01", guest="silent"), failed_over("web01")], job_seconds=0)
    done = task(sim, "running", vms=["mute01", "web01"], wait_timeout=1)
    mute, web = done.result["vms"]
    assert done.failed and "guest did not answer within" in mute["error"] and mute["heartbeat"] == "No Contact"
    assert web["error"] is None and web["heartbeat"] == "OK"


def test_check_mode_sends_nothing(hosts):
    sim = hosts.start([failed_over("web01"), failed_over("on01", power="running")], job_seconds=0)
    started = task(sim, "running", check_mode=True, vms=["web01"], _ansible_diff=True)
    stopped = task(sim, "off", check_mode=True, vms=["on01"])
    assert started.result["changed"] and stopped.result["changed"] and counters(sim) == (0, 0)
    assert list(started.result["diff"]["after"].values()) == ["Running"]


@pytest.mark.parametrize("guest, stopped_by, calls", [
    ("normal", "guest", (0, 1)),             # the guest shuts down
    ("ignores_shutdown", "turn_off", (1, 1)),  # it says yes and stays up: turned off after shutdown_timeout
    ("silent", "turn_off", (1, 1)),          # it does not answer (32780): turned off at once
    ("locked", "turn_off", (1, 1)),          # it needs Force (32781): turned off at once
])
def test_off_asks_the_guest_then_turns_off(hosts, guest, stopped_by, calls):
    sim = hosts.start([failed_over("on01", power="running", guest=guest)], job_seconds=0)
    done = task(sim, "off", vms=["on01"], shutdown_timeout=0.3)
    assert not done.failed, done.result
    assert done.result["vms"][0]["stopped_by"] == stopped_by and done.result["vms"][0]["power_state"] == "Off"
    assert counters(sim) == calls
    again = task(sim, "off", vms=["on01"])
    assert again.result["changed"] is False and again.result["vms"][0]["stopped_by"] is None


def test_turn_off_does_not_ask_the_guest(hosts):
    sim = hosts.start([failed_over("on01", power="running"), failed_over("p01", power="paused")], job_seconds=0)
    done = task(sim, "off", vms=["on01", "p01"], shutdown="turn_off")
    assert [v["stopped_by"] for v in done.result["vms"]] == ["turn_off", "turn_off"] and counters(sim) == (2, 0)
