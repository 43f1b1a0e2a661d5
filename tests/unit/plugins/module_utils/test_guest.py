"""Reading guests: heartbeat and addresses for many VMs with one query per class, and KVP items the guest wrote read
with suspicion."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import parse_embedded
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.guest import addresses_of, read_guests
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import WSManProtocolError
from ansible_collections.hyperv.replica.tests.unit.plugins import simhost
from ansible_collections.hyperv.replica.tests.unit.plugins.simhost import vm


@pytest.fixture
def host():
    hosts = simhost.Hosts()
    yield hosts.start
    hosts.stop()


def ids(sim):
    return {v["name"]: v["id"] for v in sim.vms()}


def test_heartbeat_and_addresses_of_running_silent_and_off_guests(host):
    sim = host([vm("web01", state="recovered", power="running", addresses=["192.168.60.11", "fe80::11"]),
                vm("mute01", state="recovered", power="running", guest="silent"),
                vm("off01", state="recovered")])
    names = ids(sim)
    guests = read_guests(simhost.cim_client(sim), names.values())
    web, mute, off = (guests[names[n]] for n in ("web01", "mute01", "off01"))
    assert (web.heartbeat_name, web.answers, web.addresses) == ("OK", True, ["192.168.60.11", "fe80::11"])
    assert (mute.heartbeat_name, mute.addresses) == ("No Contact", [])
    assert (off.heartbeat_name, off.addresses) == ("No Contact", [])


def test_one_query_per_class_whatever_the_number_of_vms(host):
    counts = {}
    for count in (5, 40):
        sim = host([vm("vm%02d" % i, state="recovered", power="running") for i in range(count)])
        sim.reset_counters()
        guests = read_guests(simhost.cim_client(sim), ids(sim).values())
        assert all(g.answers and len(g.addresses) == 2 for g in guests.values())
        counters = sim.counters()
        counts[count] = (counters["Enumerate Msvm_HeartbeatComponent"], counters["Enumerate Msvm_KvpExchangeComponent"])
    assert counts[5] == counts[40] == (1, 1)


def item(name, data):
    return ('<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>%s</VALUE>'
            '</PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE>%s</VALUE></PROPERTY>'
            '<PROPERTY NAME="Source" TYPE="uint16"><VALUE>2</VALUE></PROPERTY></INSTANCE>' % (data, name))


def test_kvp_items_written_by_a_guest_are_read_with_suspicion():
    hostile = ['<!DOCTYPE x [<!ENTITY e "10.6.6.6">]>' + item("NetworkAddressIPv4", "&e;"), "<INSTANCE", "not xml",
               '<PROPERTY NAME="Data"/>', item("NetworkAddressIPv6", "fe80::1;;fe80::1; "),
               item("NetworkAddressIPv4", "10.0.0.5;10.0.0.6"), item("OSName", "Windows")]
    assert addresses_of(hostile) == ["10.0.0.5", "10.0.0.6", "fe80::1"]
    assert parse_embedded(item("Source", "x"))["Source"] == 2
    with pytest.raises(WSManProtocolError):
        parse_embedded('<PROPERTY NAME="Data"/>')
