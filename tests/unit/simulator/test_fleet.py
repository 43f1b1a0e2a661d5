"""Fleet file loading and validation errors."""

import copy
import datetime

import pytest
import yaml

from hypervsim import FleetError, Simulator, fleet


def one_vm(**vm):
    return {"hosts": [{"name": "HV1", "users": [{"username": "u", "password": "p"}], "vms": [{"name": "v", **vm}]}]}


@pytest.mark.parametrize("data, where", [
    ({}, "hosts"),
    ({"hosts": []}, "hosts"),
    ({"hosts": [{"name": "HV1"}]}, "hosts[0].users"),
    ({"hosts": [{"name": "HV1", "users": [{"username": "u"}]}]}, "hosts[0].users[0]"),
    ({"hosts": [{"name": "HV1", "users": [{"username": "u", "password": "p", "rights": "some"}]}]},
     "hosts[0].users[0].rights"),
    ({"hosts": [{"name": "not a netbios name", "users": []}]}, "hosts[0].name"),
    ({"hosts": [{"name": "HV1", "users": [{"username": "u", "password": "p"}], "colour": 1}]}, "hosts[0]"),
    ({"hosts": [{"name": "HV1", "users": [{"username": "u", "password": "p"}], "invalid_state": "x"}]},
     "hosts[0].invalid_state"),
    ({"hosts": [{"name": "HV1", "users": [{"username": "u", "password": "p"}], "job_seconds": -1}]},
     "hosts[0].job_seconds"),
    ({"hosts": [{"name": "HV1", "users": [{"username": "u", "password": "p"}], "running_vm_failover": "x"}]},
     "hosts[0].running_vm_failover"),
    ({"hosts": [{"name": "HV1", "users": [{"username": "u", "password": "p"}], "max_envelope_size_kb": 0}]},
     "hosts[0].max_envelope_size_kb"),
    (one_vm(state="replicatin", mode="replica"), "hosts[0].vms[0].state"),
    (one_vm(mode="secondary"), "hosts[0].vms[0].mode"),
    (one_vm(mode="none", state="replicating"), "hosts[0].vms[0].state"),
    (one_vm(id="not-a-guid"), "hosts[0].vms[0].id"),
    (one_vm(power="hibernating"), "hosts[0].vms[0].power"),
    (one_vm(health="great", mode="replica"), "hosts[0].vms[0].health"),
    (one_vm(last_replication="yesterday", mode="replica"), "hosts[0].vms[0].last_replication"),
    (one_vm(recovery_points=[{"type": "crash"}]), "hosts[0].vms[0].recovery_points[0].type"),
    (one_vm(recovery_points=[{"typo": "standard"}]), "hosts[0].vms[0].recovery_points[0]"),
    (one_vm(fail_jobs="yes"), "hosts[0].vms[0].fail_jobs"),
    (one_vm(replication_interval=60), "hosts[0].vms[0].replication_interval"),
    (one_vm(vcpus=2), "hosts[0].vms[0]"),
    (one_vm(state=99, mode="replica"), "hosts[0].vms[0].state"),
])
def test_validation_errors_name_the_key(data, where):
    with pytest.raises(FleetError) as exc:
        fleet.parse_fleet(data)
    assert str(exc.value).startswith(where + ":"), str(exc.value)


def test_duplicate_ids_and_hosts():
    data = one_vm(id="5F1D2A4B-9C3E-4F7A-8B6D-1E2F3A4B5C6D")
    data["hosts"][0]["vms"].append({"name": "w", "id": "5f1d2a4b-9c3e-4f7a-8b6d-1e2f3a4b5c6d"})
    with pytest.raises(FleetError, match="duplicate VM id"):
        fleet.parse_fleet(data)
    data = one_vm()
    data["hosts"].append(copy.deepcopy(data["hosts"][0]))
    with pytest.raises(FleetError, match="unique"):
        fleet.parse_fleet(data)


def test_defaults_and_values():
    host = fleet.parse_fleet(one_vm(mode="replica", state=7, power=False, recovery_points=[{"created": "-2h"}]))[0]
    assert host.job_seconds == 1.0 and host.invalid_state == "return_code" and host.time_before_removal == 300
    vm = host.vms[0]
    assert vm.id == fleet.default_vm_id("HV1", "v", 0) and vm.id == vm.id.upper()
    assert (vm.mode, vm.state, vm.power, vm.health) == (2, 7, 3, 1)      # YAML "off" arrives as False
    assert vm.last_replication.relative == -300
    assert vm.recovery_points[0].type == "standard" and vm.recovery_points[0].created.relative == -7200
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    assert fleet.parse_time("2026-11-21T10:00:00Z", "t").resolve(start).hour == 10
    assert fleet.parse_time("never", "t").resolve(start) is None
    assert fleet.parse_time("-1d", "t").resolve(start) == start - datetime.timedelta(days=1)


def test_state_aliases_and_integers():
    assert fleet.parse_enum("prepared-for-failover", fleet.STATES, "x", 21) == 4
    assert fleet.parse_enum("Failed Over", fleet.STATES, "x", 21) == 6
    assert fleet.parse_enum(12, fleet.STATES, "x", 21) == 12
    assert fleet.parse_enum("12", fleet.STATES, "x", 21) == 12


def test_overrides():
    hosts = fleet.parse_fleet(one_vm(), {"job_seconds": 0, "invalid_state": "job"})
    assert hosts[0].job_seconds == 0 and hosts[0].invalid_state == "job"
    with pytest.raises(FleetError, match="overrides"):
        fleet.parse_fleet(one_vm(), {"nonsense": 1})


def test_select_host():
    data = one_vm()
    data["hosts"].append({"name": "HV2", "users": [{"username": "u", "password": "p"}]})
    hosts = fleet.parse_fleet(data)
    assert fleet.select_host(hosts, None).name == "HV1"
    assert fleet.select_host(hosts, "hv2").name == "HV2"
    with pytest.raises(FleetError, match="not in the fleet"):
        fleet.select_host(hosts, "HV3")


def test_demo_fleet(demo_fleet_path):
    hosts = fleet.load_file(demo_fleet_path)
    assert [h.name for h in hosts] == ["HV-REPLICA01"]
    vms = hosts[0].vms
    assert len(vms) >= 6
    assert sum(1 for v in vms if v.name == "dup-vm") == 2
    states = {(v.mode, v.state, v.power) for v in vms}
    assert (2, 3, 3) in states and (2, 5, 3) in states and (2, 6, 2) in states and (2, 5, 2) in states
    assert any(v.mode == 1 for v in vms) and any(v.mode == 0 for v in vms)
    assert all(len(v.recovery_points) >= 2 for v in vms if v.mode == 2 and v.state == 3 and v.power == 3
               and v.name != "dup-vm")
    with Simulator.from_file(demo_fleet_path) as sim:
        assert sim.endpoint.startswith("http://127.0.0.1:")
        assert len(sim.vms()) == len(vms)


@pytest.mark.parametrize("mode, state, power", [("replica", "replicating", "running"),
                                                ("extended_replica", "suspended", "saved"),
                                                ("primary", "synced_replication_complete", "running")])
def test_a_vm_windows_keeps_off_cannot_be_declared_running(mode, state, power):
    """A replica is an offline copy until it fails over, and a primary prepared for planned failover cannot be
    powered on: a fleet that says otherwise is refused rather than shown."""
    with pytest.raises(FleetError, match="always off on Windows"):
        fleet.parse_fleet(_one_host([{"name": "a", "mode": mode, "state": state, "power": power}]))


def test_bad_yaml(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("hosts: [unclosed", encoding="utf-8")
    with pytest.raises(FleetError, match="not valid YAML"):
        Simulator.from_file(str(path))


def test_fleet_file_round_trip(tmp_path, fleet_dict):
    path = tmp_path / "f.yml"
    path.write_text(yaml.safe_dump(fleet_dict), encoding="utf-8")
    sim = Simulator.from_file(str(path), "HV-TEST01", job_seconds=0)
    assert sim.config.job_seconds == 0 and sim.host_name == "HV-TEST01"


def _one_host(vms):
    return {"hosts": [{"name": "HV1", "users": [{"username": "u", "password": "p"}], "vms": vms}]}


def test_a_test_replica_names_the_replica_it_was_made_from():
    """Msvm_ReplicaSystemDependency links a replica (Antecedent) to its test VM (Dependent), as TestReplicaSystem
    leaves them (msvm-replicasystemdependency)."""
    sim = Simulator(_one_host([{"name": "web01", "mode": "replica"},
                               {"name": "web01 - Test", "mode": "test_replica", "state": "disabled",
                                "test_of": "web01"}]))
    replica, test = sim.vms()[0], sim.vms()[1]
    assert test["test_of"] == "web01" and replica["test_of"] is None
    query = ('ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="%s"} '
             'WHERE AssocClass = Msvm_ReplicaSystemDependency' % replica["id"])
    from hypervsim import wql  # pylint: disable=import-outside-toplevel
    assert [row.instance.get("ElementName") for row in wql.execute(query, sim.model)] == ["web01 - Test"]


@pytest.mark.parametrize("vms, words", [
    ([{"name": "t", "mode": "replica", "test_of": "x"}], "only a VM with mode test_replica"),
    ([{"name": "t", "mode": "test_replica", "state": "disabled", "test_of": "nope"}], "must name one Replica VM"),
    ([{"name": "web01", "mode": "replica"}, {"name": "a", "mode": "test_replica", "state": "disabled", "test_of": "web01"},
      {"name": "b", "mode": "test_replica", "state": "disabled", "test_of": "web01"}], "more than one test VM"),
])
def test_test_of_is_checked(vms, words):
    with pytest.raises(FleetError, match=words):
        fleet.parse_fleet(_one_host(vms))
