"""replication_info against the simulator in-process: what each VM reports, and that the number of requests does
not grow with the number of VMs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.relationships import Relationship, by_vm, owner_of
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.replication_info import Settings, VmInfo, read_info
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VM, VmLookupError
from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import cim_time
from ansible_collections.hyperv.replica.tests.unit.plugins import simhost
from ansible_collections.hyperv.replica.tests.unit.plugins.simhost import vm


@pytest.fixture
def host():
    hosts = simhost.Hosts()
    yield hosts.start
    hosts.stop()


def info(sim, selection=None, with_points=True):
    return [i.as_dict() for i in read_info(simhost.cim_client(sim), selection, with_points)]


def by_name(results):
    return {r["name"]: r for r in results}


FLEET = [
    vm("web01", recovery_points=[{"type": "standard", "created": "-1h", "name": "web01-std-1h"},
                                 {"type": "application_consistent", "created": "-4h", "name": "web01-app-4h"},
                                 {"type": "standard", "created": "-30m", "name": "web01-std-30m"}]),
    vm("sql01", state="recovered", failed_over_type="application_consistent", health="warning",
       replication_interval=30, recovery_points=[{"type": "planned", "created": "-10m", "name": "sql01-planned"}]),
    vm("app01", mode="primary", power="running", partner="HV-REPLICA09", replication_interval=900),
    vm("ext01", mode="extended_replica", state="suspended", health="critical", last_replication="-2d"),
    vm("plain01", mode="none", state="disabled", power="running"),
]


def test_every_replicated_vm_by_name_with_its_replication(host):
    sim = host(FLEET)
    results = info(sim)
    # Sorted by name; the VM that is not replicated is left out, and the host object never shows.
    assert [r["name"] for r in results] == ["app01", "ext01", "sql01", "web01"]
    vms = by_name(results)
    ids = {v["name"]: v["id"] for v in sim.vms()}
    assert all(vms[name]["id"] == ids[name] for name in vms)
    assert [(vms[n]["mode"], vms[n]["state"], vms[n]["state_code"], vms[n]["health"], vms[n]["power_state"])
            for n in ("app01", "ext01", "sql01", "web01")] == [
        ("Primary", "Replicating", 3, "Normal", "Running"),
        ("Extended Replica", "Suspended", 7, "Critical", "Off"),
        ("Replica", "Recovered", 5, "Warning", "Off"),
        ("Replica", "Replicating", 3, "Normal", "Off")]
    assert vms["sql01"]["failed_over_type"] == "Application consistent"
    assert vms["web01"]["failed_over_type"] == "None"
    assert (vms["app01"]["primary_server"], vms["app01"]["replica_server"]) == (
        "HV1.contoso.local", "HV-REPLICA09.contoso.local")
    assert vms["web01"]["replica_server"] == "HV1.contoso.local"
    assert [vms[n]["replication_interval"] for n in ("app01", "sql01", "web01")] == [900, 30, 300]


def test_times_are_iso_utc_and_never_is_null(host):
    sim = host([vm("old", last_replication="-2d"), vm("new", last_replication="never"),
                vm("app", recovery_points=[{"type": "application_consistent", "created": "-3h"}])])
    vms = by_name(info(sim))
    old = datetime.fromisoformat(vms["old"]["last_replication_time"])
    assert old.utcoffset() == timedelta(0)
    assert vms["new"]["last_replication_time"] is None
    assert vms["old"]["last_application_consistent_replication_time"] is None
    app_time = datetime.fromisoformat(vms["app"]["last_application_consistent_replication_time"])
    assert app_time == datetime.fromisoformat(vms["app"]["recovery_points"][0]["created"])


def test_recovery_points_newest_first_and_only_the_vms_own(host):
    sim = host(FLEET)
    vms = by_name(info(sim))
    web = vms["web01"]["recovery_points"]
    assert [p["name"] for p in web] == ["web01-std-30m", "web01-std-1h", "web01-app-4h"]
    assert [p["type"] for p in web] == ["standard", "standard", "application_consistent"]
    assert all(p["id"].startswith("Microsoft:") for p in web)
    created = [datetime.fromisoformat(p["created"]) for p in web]
    assert created == sorted(created, reverse=True)
    assert [(p["name"], p["type"]) for p in vms["sql01"]["recovery_points"]] == [("sql01-planned", "planned_failover")]
    assert vms["app01"]["recovery_points"] == []
    # The points are the simulator's, and the active settings (not a recovery point) are not among them.
    owned = {v["name"]: set(v["recovery_points"]) for v in sim.vms()}
    assert {p["id"] for p in web} == owned["web01"]


def test_recovery_points_false_leaves_the_key_out_and_does_not_read_them(host):
    sim = host(FLEET)
    results = info(sim, with_points=False)
    assert all("recovery_points" not in r for r in results)
    assert "Msvm_VirtualSystemSettingData" not in simhost.requests_by_class(sim)


def test_a_subset_in_the_order_asked_by_name_or_guid(host):
    sim = host(FLEET)
    sql_id = next(v["id"] for v in sim.vms() if v["name"] == "sql01")
    results = info(sim, ["WEB01", "{%s}" % sql_id.lower(), "plain01"])
    assert [r["name"] for r in results] == ["web01", "sql01", "plain01"]
    plain = results[2]
    assert (plain["mode"], plain["state"], plain["health"], plain["primary_server"], plain["recovery_points"]) == (
        "None", "Disabled", "Not applicable", None, [])
    assert results[1]["state"] == "Recovered" and len(results[0]["recovery_points"]) == 3


def test_only_vms_that_are_not_replicated(host):
    sim = host(FLEET)
    sim.reset_counters()
    (plain,) = info(sim, ["plain01"])
    assert plain["mode"] == "None" and plain["recovery_points"] == []
    # Nothing to read beyond the VM itself and its network adapters.
    assert simhost.requests_by_class(sim).keys() == {
        "Msvm_ComputerSystem", "Msvm_VirtualEthernetSwitch", "Msvm_SyntheticEthernetPortSettingData",
        "Msvm_EthernetPortAllocationSettingData", "Msvm_FailoverNetworkAdapterSettingData"}
    (adapter,) = plain["adapters"]
    assert adapter["name"] == "Network Adapter" and adapter["switch"] == "Production"


def test_unknown_and_ambiguous_names_fail_together(host):
    sim = host([vm("dup"), vm("dup"), vm("x")])
    with pytest.raises(VmLookupError) as failure:
        info(sim, ["dup", "ghost", "x"])
    assert "'ghost'" in str(failure.value) and "matches 2 VMs" in str(failure.value)


def test_no_replicated_vm_at_all(host):
    sim = host([vm("plain01", mode="none", state="disabled")])
    assert info(sim) == []
    assert info(sim, []) == []


def test_state_follows_a_failover(host):
    sim = host([vm("a")])
    sim.set_vm("a", state="recovered", failed_over_type="planned")
    (a,) = info(sim)
    assert (a["state"], a["state_code"], a["failed_over_type"]) == ("Recovered", 5, "Planned")


def test_reads_only(host):
    sim = host(FLEET)
    info(sim)
    assert not [k for k in sim.counters() if k.startswith("Invoke")]
    assert {r["operation"] for r in sim.requests()} <= {"Enumerate", "Pull", "Release"}


def _fleet_of(count):
    kinds = [dict(), dict(state="recovered"), dict(mode="primary", power="running"), dict(health="warning")]
    return [vm("vm%03d" % i, recovery_points=[{"type": "standard", "created": "-1h"},
                                              {"type": "application_consistent", "created": "-4h"}], **kinds[i % 4])
            for i in range(count)] + [vm("plain", mode="none", state="disabled")]


@pytest.mark.parametrize("with_points", [False, True])
def test_requests_do_not_grow_with_the_number_of_vms(host, with_points):
    counts = {}
    for count in (5, 40):
        sim = host(_fleet_of(count))
        sim.reset_counters()
        sim.clear_requests()
        results = info(sim, with_points=with_points)
        assert len(results) == count
        counts[count] = (sim.counters()["total"], simhost.requests_by_class(sim))
    print("requests for 5 and 40 VMs (recovery_points=%s): %s" % (with_points, counts))
    # The VM list: one query for all VMs (an Enumerate answered with one VM, and a Pull for the rest).
    assert counts[5][1]["Msvm_ComputerSystem"] == counts[40][1]["Msvm_ComputerSystem"] == 2
    assert counts[5][1] == counts[40][1]
    # Each replica's test VM: one query on Msvm_ReplicaSystemDependency for the host (no test VM: no Pull).
    assert counts[5][1]["Msvm_ReplicaSystemDependency"] == 1
    # The adapters: one query per class (adapters, connections, failover settings) per 40 VMs, and the switches.
    assert all(counts[5][1][cls] == 2 for cls in ("Msvm_SyntheticEthernetPortSettingData",
                                                  "Msvm_EthernetPortAllocationSettingData",
                                                  "Msvm_FailoverNetworkAdapterSettingData", "Msvm_VirtualEthernetSwitch"))
    assert counts[5][0] == counts[40][0] == (17 if with_points else 15)


def test_each_vm_reports_its_adapters_switches_and_failover_settings(host):
    sim = host([vm("app01", adapters=[{"switch": "Production", "test_switch": "Isolated", "failover": {
        "ip_addresses": ["192.168.60.11", "fd00::11"], "subnets": ["255.255.255.0", "64"],
        "gateways": ["192.168.60.1"], "dns_servers": ["192.168.60.10"], "dhcp": False}}, {"name": "Backup"}],
        recovery_points=[{"type": "standard", "created": "-1h"}])])
    (app,) = info(sim)
    assert app["adapters"] == [
        {"name": "Network Adapter", "switch": "Production", "test_switch": "Isolated",
         "failover": {"ipv4": ["192.168.60.11/24"], "ipv6": ["fd00::11/64"], "ipv4_gateway": "192.168.60.1",
                      "ipv6_gateway": "", "dns_servers": ["192.168.60.10"], "dhcp": False}},
        {"name": "Backup", "switch": "", "test_switch": "",
         "failover": {"ipv4": [], "ipv6": [], "ipv4_gateway": "", "ipv6_gateway": "", "dns_servers": [],
                      "dhcp": True}}]


@pytest.mark.parametrize("named", [False, True])
def test_each_replica_reports_its_test_vm_found_by_its_link_not_its_name(host, named):
    sim = host([vm("web01"), vm("sql01"), vm("web01 - Test", mode="test_replica", state="disabled", test_of="web01"),
                vm("sql01 - Test", mode="none", state="disabled")])
    reports = {r["name"]: r for r in info(sim, ["web01", "sql01"] if named else None)}
    test = next(v for v in sim.vms() if v["name"] == "web01 - Test")
    assert reports["web01"]["test_vm"] == {"name": "web01 - Test", "id": test["id"], "power_state": "Off"}
    assert reports["sql01"]["test_vm"] is None


def test_a_subset_costs_the_same_for_5_and_40_names(host):
    counts = {}
    for count in (5, 40):
        sim = host(_fleet_of(60))
        sim.reset_counters()
        results = info(sim, ["vm%03d" % i for i in range(count)])
        assert len(results) == count
        counts[count] = sim.counters()["total"]
    assert counts[5] == counts[40]


# ---- pieces without the simulator


def test_owner_of_instance_ids():
    guid = "5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D"
    assert owner_of("Microsoft:%s\\HVR\\0" % guid.lower()) == (guid, 0)
    assert owner_of("Microsoft:%s\\HVR\\1" % guid) == (guid, 1)
    assert owner_of("Microsoft:%s\\HVR" % guid) == (guid, 0)  # Windows 8
    assert owner_of("Microsoft:%s" % guid) == ("", 0)


def _vm(**extra):
    return VM(id="5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D", name="web01", mode=2, state=3, power=3, health=1, **extra)


def test_the_relationship_wins_over_the_deprecated_computer_system_copy():
    when = datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)
    rel = Relationship(id="x", number=0, state=5, health=2, failed_over_type=2, last_replication_type=2,
                       last_replication=when, last_application_consistent=None, last_apply=when)
    machine = _vm(last_replication=when - timedelta(hours=1))
    machine.take(rel)
    result = VmInfo(vm=machine).as_dict()
    assert (result["state"], result["state_code"], result["health"], result["failed_over_type"]) == (
        "Recovered", 5, "Warning", "Application consistent")
    assert result["last_replication_time"] == "2026-11-21T10:00:00+00:00"
    fallback = VmInfo(vm=_vm(last_replication=when, failed_over_type=1)).as_dict()
    assert (fallback["state"], fallback["health"], fallback["failed_over_type"]) == ("Replicating", "Normal", "Regular")
    assert fallback["last_replication_time"] == "2026-11-21T10:00:00+00:00"
    assert "recovery_points" not in fallback


def test_unknown_codes_are_named_as_such():
    assert VmInfo(vm=VM(id="A", name="a", mode=9, state=42, power=77, health=8)).as_dict()["state"] == "Unknown (42)"


def test_primary_and_replica_servers_as_get_vmreplication_names_them():
    from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance
    full = Settings.from_instance(Instance("Msvm_ReplicationSettingData", {
        "InstanceID": "Microsoft:5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D\\HVR\\1",
        "PrimaryHostSystem": "node2.contoso.com",
        "PrimaryConnectionPoint": "hvbroker.contoso.com", "RecoveryConnectionPoint": "replica-cap.contoso.com",
        "RecoveryHostSystem": "node7.contoso.com", "ReplicationInterval": 300}))
    assert (full.number, full.primary_server, full.replica_server, full.interval) == (
        1, "node2.contoso.com", "replica-cap.contoso.com", 300)
    sparse = Settings.from_instance(Instance("Msvm_ReplicationSettingData", {
        "PrimaryHostSystem": "", "PrimaryConnectionPoint": "hv1", "RecoveryHostSystem": "hv2",
        "ReplicationInterval": None}))
    assert (sparse.primary_server, sparse.replica_server, sparse.interval) == ("hv1", "hv2", None)


def test_the_primary_relationship_is_preferred_over_the_extended_one():
    first = Relationship(id="a", number=1, state=3, health=1, failed_over_type=0, last_replication_type=1,
                         last_replication=None, last_application_consistent=None, last_apply=None)
    primary = Relationship(id="b", number=0, state=7, health=2, failed_over_type=0, last_replication_type=1,
                           last_replication=None, last_application_consistent=None, last_apply=None)
    chosen = by_vm([("VM", first), ("VM", primary), ("", first)])
    assert chosen == {"VM": primary}


def test_never_is_not_a_time():
    assert cim_time(datetime(1601, 1, 1, tzinfo=timezone.utc)) is None
    assert cim_time(None) is None and cim_time("2026") is None


class _Host:
    """A CIM client answering the lookup queries: one replica whose deprecated Msvm_ComputerSystem copy says
    Replicating, while its own relationship (\\HVR\\0) says Recovered and its extended one (\\HVR\\1) Suspended."""

    GUID = "5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D"

    def __init__(self):
        self.queries = []

    def query_all(self, wqls):
        return [row for wql in wqls for row in self.query(wql)]

    def query(self, wql):
        from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance
        self.queries.append(wql)
        if "FROM Msvm_ComputerSystem" in wql:
            return [Instance("Msvm_ComputerSystem", {"Name": self.GUID, "ElementName": "web01", "ReplicationMode": 2,
                                                     "ReplicationState": 3, "EnabledState": 3})]
        return [Instance("Msvm_ReplicationRelationship", {"InstanceID": "Microsoft:%s\\HVR\\%d" % (self.GUID, n),
                                                          "ReplicationState": state, "ReplicationHealth": 1})
                for n, state in ((1, 7), (0, 5))]


def test_lookups_decide_from_the_vms_own_relationship_not_the_deprecated_copy():
    """Microsoft's client reads Msvm_ReplicationRelationship \\HVR\\0 (decompiled VMReplicationBase): so do the
    lookups, with one more query for all the VMs, never one per VM."""
    from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import find_vms
    host = _Host()
    (found,) = find_vms(host, ["web01"])
    assert (found.state, found.state_name) == (5, "Recovered") and found.relationship.number == 0
    assert [q.split(" WHERE")[0] for q in host.queries] == [
        "SELECT * FROM Msvm_ComputerSystem", "SELECT * FROM Msvm_ReplicationRelationship"]
    assert "LIKE 'Microsoft:%s%%'" % _Host.GUID in host.queries[1]
