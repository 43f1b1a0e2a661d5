"""A VM's guest on the simulated host: heartbeat and addresses once it has booted, the graceful shutdown and its
refusals (hyperv guest-power notes 2), read through the classes and methods Windows uses."""

import re

import pytest

VM = "0F000000-0000-4000-8000-000000000001"
KEYS = [("CreationClassName", "Msvm_ShutdownComponent"), ("DeviceID", f"Microsoft:{VM}\\9F8233AC-BE49-4C79-8EE3-E7E1985B2077"),
        ("SystemCreationClassName", "Msvm_ComputerSystem"), ("SystemName", VM)]


def one(guest="normal", power="off", **extra):
    return [dict({"name": "app01", "id": VM, "mode": "replica", "state": "recovered", "power": power, "guest": guest,
                  "boot_seconds": 5, "shutdown_seconds": 3, "addresses": ["192.168.60.11", "fe80::11"]}, **extra)]


def component(client, cls):
    (item,) = client.query(f"SELECT * FROM {cls} WHERE SystemName = '{VM}'")
    return item


def heartbeat(client):
    item = component(client, "Msvm_HeartbeatComponent")
    return [int(c.text) for c in item if c.tag.endswith("}OperationalStatus")]


def addresses(client):
    items = [c.text for c in component(client, "Msvm_KvpExchangeComponent")
             if c.tag.endswith("}GuestIntrinsicExchangeItems") and c.text]
    found = {}
    for text in items:
        name = re.search(r'NAME="Name" TYPE="string"><VALUE>([^<]*)<', text).group(1)
        data = re.search(r'NAME="Data" TYPE="string"><VALUE>([^<]*)<', text).group(1)
        found[name] = data
    return found.get("NetworkAddressIPv4"), found.get("NetworkAddressIPv6")


def power(client):
    return next(v["power"] for v in client.sim.vms() if v["id"] == VM)


def start(client):
    resp = client.invoke("Msvm_ComputerSystem", "RequestStateChange",
                         [("CreationClassName", "Msvm_ComputerSystem"), ("Name", VM)],
                         "<p:RequestedState>2</p:RequestedState>")
    assert "<p:ReturnValue>4096</p:ReturnValue>" in resp.text, resp.text


def shutdown(client, force=False):
    resp = client.invoke("Msvm_ShutdownComponent", "InitiateShutdown", KEYS,
                         f"<p:Force>{str(force).lower()}</p:Force><p:Reason>DR drill</p:Reason>")
    assert resp.status == 200, resp.text
    return int(re.search(r"<p:ReturnValue>(\d+)</p:ReturnValue>", resp.text).group(1))


def test_a_started_guest_answers_after_its_boot_with_its_addresses(vms_client, clock):
    client = vms_client(one())
    assert heartbeat(client) == [12] and addresses(client) == (None, None)
    start(client)
    clock.advance(11)                       # the start job (10 s) ends: running, still booting
    assert power(client) == 2 and heartbeat(client) == [12]
    clock.advance(5)
    assert heartbeat(client) == [2, 2] and addresses(client) == ("192.168.60.11", "fe80::11")
    # The VM's components hang off it by Msvm_SystemDevice.
    parts = client.query(f'ASSOCIATORS OF {{Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="{VM}"}} '
                         "WHERE AssocClass = Msvm_SystemDevice")
    kinds = sorted(p.tag.rsplit("}", 1)[1] for p in parts)
    assert kinds == ["Msvm_HeartbeatComponent", "Msvm_KvpExchangeComponent", "Msvm_ShutdownComponent"]


def test_a_silent_guest_never_answers_and_cannot_be_shut_down(vms_client, clock):
    client = vms_client(one(guest="silent", power="running"))
    clock.advance(60)
    assert heartbeat(client) == [12] and addresses(client) == (None, None)
    assert shutdown(client) == 32780


def test_a_guest_shutdown_turns_the_vm_off_later(vms_client, clock):
    client = vms_client(one(power="running"))
    assert shutdown(client) == 0 and power(client) == 2
    assert shutdown(client) == 32782        # already in progress
    clock.advance(3)
    assert power(client) == 3 and heartbeat(client) == [12]
    assert shutdown(client) == 32775        # nothing to shut down


@pytest.mark.parametrize("guest, first, forced", [("locked", 32781, 0), ("ignores_shutdown", 0, 32782)])
def test_guests_that_do_not_go_down(vms_client, clock, guest, first, forced):
    client = vms_client(one(guest=guest, power="running"))
    assert shutdown(client) == first
    assert shutdown(client, force=True) == forced
    clock.advance(60)
    assert power(client) == (3 if guest == "locked" else 2)


def test_a_guest_is_checked_in_the_fleet_and_can_be_changed(vms_client, clock):
    with pytest.raises(ValueError, match="guest: expected one of"):
        vms_client(one(guest="chatty"))
    client = vms_client(one(power="running"))
    client.sim.set_vm("app01", guest="silent")
    assert heartbeat(client) == [12] and shutdown(client) == 32780
