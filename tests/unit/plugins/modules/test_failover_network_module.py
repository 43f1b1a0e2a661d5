"""The failover_network module against the simulator: set, idempotent rerun, check mode and diff, every bad input
refused before anything is sent, and the envelope of both methods pinned."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.cim.schema import V2_URI
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import parameter
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.adapters import read_adapters
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.failover_network import (
    AdapterChange, parse_failover)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import find_vms
from ansible_collections.hyperv.replica.plugins.modules import failover_network
from ansible_collections.hyperv.replica.tests.unit.plugins import simhost
from ansible_collections.hyperv.replica.tests.unit.plugins.modules.modrun import run
from ansible_collections.hyperv.replica.tests.unit.plugins.simhost import vm

SWITCHES = [{"name": "Production", "kind": "external"}, {"name": "Isolated", "kind": "private"},
            {"name": "Lab", "kind": "internal"}, {"name": "Twin", "kind": "private"},
            {"name": "twin", "kind": "internal"}]
FAILOVER = {"ipv4": ["192.168.60.11/24"], "ipv4_gateway": "192.168.60.1", "dns_servers": ["192.168.60.10"],
            "ipv6": ["fd00:0:0::11/64"]}


@pytest.fixture
def hosts():
    started = simhost.Hosts()
    yield started
    started.stop()


def start(hosts, **extra):
    vms = [vm("app01", adapters=[{"name": "Network Adapter", "switch": "Production"}]),
           vm("two01", adapters=[{"name": "Front"}, {"name": "Back"}]),
           vm("dup01", adapters=[{"name": "Twin NIC"}, {"name": "TWIN NIC"}]),
           vm("plain01", mode="none", state="disabled", power="running"),
           vm("web01", mode="primary", power="running")]
    return hosts.start(vms, switches=SWITCHES, **extra)


def task(sim, vms, check_mode=False, **options):
    return run(failover_network, dict(simhost.params(sim), vms=vms, poll_interval=0.01, **options),
               check_mode=check_mode)


def calls(sim):
    found = sim.counters()
    return found.get("Invoke:SetFailoverNetworkAdapterSettings", 0), found.get("Invoke:ModifyResourceSettings", 0)


def test_set_then_rerun_changes_nothing(hosts):
    sim = start(hosts)
    wanted = [{"name": "app01", "adapters": [{"failover": FAILOVER, "test_switch": "isolated"}]}]
    done = task(sim, wanted)
    assert not done.failed and done.result["changed"] is True, done.result
    (adapter,) = done.result["vms"][0]["adapters"]
    assert adapter == {"name": "Network Adapter", "switch": "Production", "test_switch": "Isolated", "changed": True,
                       "failover": {"ipv4": ["192.168.60.11/24"], "ipv6": ["fd00::11/64"],
                                    "ipv4_gateway": "192.168.60.1", "ipv6_gateway": "",
                                    "dns_servers": ["192.168.60.10"], "dhcp": False}}
    assert calls(sim) == (1, 1)
    again = task(sim, wanted)
    assert again.result["changed"] is False and calls(sim) == (1, 1)
    # An adapter or a setting left out stays as it is.
    task(sim, [{"name": "app01", "adapters": [{"test_switch": ""}]}])
    (kept,) = task(sim, [{"name": "app01", "adapters": [{"test_switch": ""}]}]).result["vms"][0]["adapters"]
    assert kept["test_switch"] == "" and kept["failover"]["ipv4"] == ["192.168.60.11/24"]


def test_check_mode_and_diff_send_nothing(hosts):
    sim = start(hosts)
    done = task(sim, [{"name": "app01", "adapters": [{"failover": FAILOVER, "test_switch": "Lab"}]}], check_mode=True,
                _ansible_diff=True)
    assert done.result["changed"] and calls(sim) == (0, 0)
    key = next(iter(done.result["diff"]["before"]))
    before, after = done.result["diff"]["before"][key], done.result["diff"]["after"][key]
    assert before["Network Adapter"]["test_switch"] == "" and after["Network Adapter"]["test_switch"] == "Lab"
    assert before["Network Adapter"]["failover"]["dhcp"] is True
    assert after["Network Adapter"]["failover"]["ipv4"] == ["192.168.60.11/24"]


@pytest.mark.parametrize("vms, words", [
    ([{"name": "app01", "adapters": [{"failover": {"ipv4": ["192.168.60.300/24"]}}]}], "is not an IPv4 address"),
    ([{"name": "app01", "adapters": [{"failover": {"ipv4": ["192.168.60.11"]}}]}], "with its prefix length"),
    ([{"name": "app01", "adapters": [{"failover": {"ipv4": ["192.168.60.11/33"]}}]}], "from 1 to 32"),
    ([{"name": "app01", "adapters": [{"failover": {"ipv6": ["fd00::1/129"]}}]}], "from 1 to 128"),
    ([{"name": "app01", "adapters": [{"failover": {"ipv4": ["fd00::1/64"]}}]}], "is an IPv6 address, not IPv4"),
    ([{"name": "app01", "adapters": [{"failover": {"ipv4_gateway": "192.168.60.1"}}]}], "needs an address"),
    ([{"name": "app01", "adapters": [{"failover": {"dns_servers": ["dns01"]}}]}], "is not an IP address"),
    ([{"name": "app01", "adapters": [{"failover": {"dhcp": True, "ipv4": ["10.0.0.1/8"]}}]}], "exclude each other"),
    ([{"name": "app01", "adapters": [{"failover": {"mask": "255.0.0.0"}}]}], "unknown key(s) mask"),
    ([{"name": "app01", "adapters": [{"name": "Nope", "test_switch": ""}]}], "no network adapter named 'Nope'"),
    ([{"name": "two01", "adapters": [{"test_switch": ""}]}], "has 2 network adapters ('Front', 'Back'): name"),
    ([{"name": "dup01", "adapters": [{"name": "twin nic", "test_switch": ""}]}], "2 network adapters named 'twin nic'"),
    ([{"name": "app01", "adapters": [{"test_switch": "Lab2"}]}], "no virtual switch named 'Lab2'"),
    ([{"name": "app01", "adapters": [{"test_switch": "TWIN"}]}], "2 virtual switches are named 'TWIN'"),
    ([{"name": "plain01", "adapters": [{"failover": {}}]}], "is not replicated"),
    ([{"name": "app01", "adapters": [{"test_switch": ""}]}, {"name": "APP01", "adapters": [{"test_switch": ""}]}],
     "more than once"),
    ([{"name": "ghost01", "adapters": [{"test_switch": ""}]}], "no VM named"),
])
def test_bad_input_fails_before_anything_is_sent(hosts, vms, words):
    sim = start(hosts)
    # A good VM first: nothing is sent for it either.
    good = [{"name": "web01", "adapters": [{"test_switch": "Isolated"}]}]
    done = task(sim, good + vms)
    assert done.failed and words in done.result["msg"], done.result["msg"]
    assert calls(sim) == (0, 0) and done.result["changed"] is False


def test_the_envelopes_carry_whole_instances_typed_as_the_mof_says(hosts):
    """What is sent, element by element: each instance as read, edited, as CIM-XML text in the parameter."""
    sim = start(hosts)
    cim = simhost.cim_client(sim)
    (app,) = find_vms(cim, ["app01"])
    (adapter,) = read_adapters(cim, [app])[app.id.upper()]
    change = AdapterChange(adapter, parse_failover(FAILOVER, "failover"), "Isolated")
    failover = ET.tostring(parameter(V2_URI + "/Msvm_ReplicationService", "NetworkSettings", change.settings()),
                           encoding="unicode")
    assert failover.startswith('<ns0:NetworkSettings xmlns:ns0="%s/Msvm_ReplicationService">'
                               '&lt;INSTANCE CLASSNAME="Msvm_FailoverNetworkAdapterSettingData"&gt;' % V2_URI), failover
    for piece in ('&lt;PROPERTY NAME="InstanceID" TYPE="string"&gt;&lt;VALUE&gt;Microsoft:FailoverNetworkSetting\\',
                  '&lt;PROPERTY.ARRAY NAME="Subnets" TYPE="string"&gt;&lt;VALUE.ARRAY&gt;&lt;VALUE&gt;255.255.255.0'
                  '&lt;/VALUE&gt;&lt;VALUE&gt;64&lt;/VALUE&gt;',
                  '&lt;PROPERTY.ARRAY NAME="IPAddresses" TYPE="string"&gt;&lt;VALUE.ARRAY&gt;&lt;VALUE&gt;'
                  '192.168.60.11&lt;/VALUE&gt;&lt;VALUE&gt;fd00::11&lt;/VALUE&gt;',
                  '&lt;PROPERTY NAME="DHCPEnabled" TYPE="boolean"&gt;&lt;VALUE&gt;FALSE',
                  '&lt;PROPERTY NAME="ProtocolIFType" TYPE="uint16"&gt;&lt;VALUE&gt;4098'):
        assert piece in failover, failover
    modify = ET.tostring(parameter(V2_URI + "/Msvm_VirtualSystemManagementService", "ResourceSettings",
                                   change.connection()), encoding="unicode")
    for piece in ('&lt;PROPERTY NAME="Weight" TYPE="uint32"&gt;', '&lt;PROPERTY NAME="EnabledState" TYPE="uint16"&gt;',
                  '&lt;PROPERTY.ARRAY NAME="HostResource" TYPE="string"&gt;',
                  '&lt;PROPERTY NAME="TestReplicaSwitchName" TYPE="string"&gt;&lt;VALUE&gt;Isolated'):
        assert piece in modify, modify
