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


NETWORKS = [{"name": "Production", "kind": "external"}, {"name": "Isolated", "kind": "private"},
            {"name": "Lab", "kind": "internal"}]
STATIC = {"ip_addresses": ["192.168.60.11"], "subnets": ["255.255.255.0"]}


def test_the_network_guard_refuses_a_vm_that_could_reach_production_unless_allowed(hosts):
    sim = hosts.start([
        failed_over("bare01", adapters=[{"switch": "Production"}]),                       # unsafe
        failed_over("ipd01", adapters=[{"switch": "Production", "failover": STATIC}]),    # failover addresses
        failed_over("lab01", adapters=[{"switch": "Lab"}, {"name": "Second", "switch": "Isolated"}]),
        failed_over("dhcp01", adapters=[{"switch": "Production", "failover": {"dhcp": True}}]),  # DHCP alone: unsafe
        vm("test01", mode="test_replica", state="disabled", adapters=[{"switch": "Production"}], boot_seconds=0),
        vm("prim01", mode="primary", adapters=[{"switch": "Production"}], boot_seconds=0),  # not judged
    ], switches=NETWORKS, job_seconds=0)
    names = ["bare01", "ipd01", "lab01", "dhcp01", "test01", "prim01"]
    done = task(sim, "running", vms=names, wait_timeout=5)
    by_name = {v["name"]: v for v in done.result["vms"]}
    outcomes = {n: (by_name[n]["network_guard"] or {}).get("outcome") for n in names}
    assert outcomes == {"bare01": "unsafe", "ipd01": "safe", "lab01": "safe", "dhcp01": "unsafe", "test01": "unsafe",
                        "prim01": None}
    powers = {v["name"]: v["power"] for v in sim.vms()}
    assert [n for n in names if powers[n] == 2] == ["ipd01", "lab01", "prim01"]
    error = by_name["bare01"]["error"]
    assert "could reach production" in error and "external switch 'Production'" in error
    assert "allow_unsafe_network" in error and "failover_network" in error
    assert "private or internal switch" in by_name["test01"]["error"]
    # Named by the operator: booted, and the result says it was allowed.
    allowed = task(sim, "running", vms=["bare01"], allow_unsafe_network=["BARE01"])
    (entry,) = allowed.result["vms"]
    assert entry["error"] is None and entry["power_state"] == "Running"
    assert entry["network_guard"]["outcome"] == "allowed" and entry["network_guard"]["reasons"]


def test_a_test_vm_on_its_isolated_test_switch_is_safe(hosts):
    sim = hosts.start([vm("app01", adapters=[{"switch": "Production", "test_switch": "Isolated"}], job_seconds=0,
                          boot_seconds=0)], switches=NETWORKS, job_seconds=0)
    cim = simhost.cim_client(sim)
    from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import TEST_REPLICA_SYSTEM
    from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import find_vms
    from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Reference
    (replica,) = find_vms(cim, ["app01"])
    service = cim.query_references("SELECT * FROM Msvm_ReplicationService")[0]
    assert isinstance(service, Reference)
    cim.invoke(service, TEST_REPLICA_SYSTEM.name, TEST_REPLICA_SYSTEM.arguments(replica, {}),
               TEST_REPLICA_SYSTEM.output_types())
    sim.clock.advance(1)
    done = task(sim, "running", vms=["app01 - Test"])
    (entry,) = done.result["vms"]
    assert entry["network_guard"]["outcome"] == "safe" and entry["power_state"] == "Running", entry
