"""Switches, adapters, failover TCP/IP settings and the test switch on the simulated host, read and changed through
the classes and methods Windows uses (hyperv guest-power notes 3; network.py's sources)."""

import re
from xml.sax.saxutils import escape

VM = "0F000000-0000-4000-8000-000000000001"
PRIMARY = "0F000000-0000-4000-8000-000000000002"
SWITCHES = [{"name": "Production", "kind": "external"}, {"name": "Lab", "kind": "internal"},
            {"name": "Isolated", "kind": "private"}]
MANAGEMENT = [("CreationClassName", "Msvm_VirtualSystemManagementService"), ("Name", "vmms"),
              ("SystemCreationClassName", "Msvm_ComputerSystem"), ("SystemName", "HV-TEST01")]


def fleet(**replica):
    return [dict({"name": "app01", "id": VM, "mode": "replica", "state": "replicating",
                  "addresses": ["10.0.0.11", "fe80::11"], "boot_seconds": 1,
                  "adapters": [{"name": "Network Adapter", "switch": "Production", "test_switch": "Isolated"}]},
                 **replica),
            {"name": "web01", "id": PRIMARY, "mode": "primary", "power": "running"}]


def values(item, name):
    return [c.text or "" for c in item if c.tag.endswith("}" + name) and c.get(
        "{http://www.w3.org/2001/XMLSchema-instance}nil") != "true"]


def failover_xml(instance_id, addresses, subnets, gateways=(), dns=(), dhcp=False):
    def array(name, items):
        inner = "".join(f"<VALUE>{escape(v)}</VALUE>" for v in items)
        return f'<PROPERTY.ARRAY NAME="{name}" TYPE="string"><VALUE.ARRAY>{inner}</VALUE.ARRAY></PROPERTY.ARRAY>'
    text = (f'<INSTANCE CLASSNAME="Msvm_FailoverNetworkAdapterSettingData">'
            f'<PROPERTY NAME="InstanceID" TYPE="string"><VALUE>{escape(instance_id)}</VALUE></PROPERTY>'
            f'<PROPERTY NAME="DHCPEnabled" TYPE="boolean"><VALUE>{"TRUE" if dhcp else "FALSE"}</VALUE></PROPERTY>'
            + array("IPAddresses", addresses) + array("Subnets", subnets) + array("DefaultGateways", gateways)
            + array("DNSServers", dns) + "</INSTANCE>")
    return f"<p:NetworkSettings>{escape(text)}</p:NetworkSettings>"


def code(resp):
    assert resp.status == 200, resp.text
    return int(re.search(r"<p:ReturnValue>(\d+)</p:ReturnValue>", resp.text).group(1))


def start(client, vm_id):
    resp = client.invoke("Msvm_ComputerSystem", "RequestStateChange",
                         [("CreationClassName", "Msvm_ComputerSystem"), ("Name", vm_id)],
                         "<p:RequestedState>2</p:RequestedState>")
    assert code(resp) == 4096


def adapter_id(client):
    (adapter,) = client.query(f"SELECT * FROM Msvm_SyntheticEthernetPortSettingData WHERE InstanceID LIKE 'Microsoft:{VM}%'")
    return client.prop(adapter, "InstanceID").split("\\")[1]


def kind_of(client, switch_name):
    """Microsoft's client's way: the switch's ports, each port's settings, the class in HostResource[0]."""
    (switch,) = [s for s in client.query("SELECT * FROM Msvm_VirtualEthernetSwitch")
                 if client.prop(s, "ElementName") == switch_name]
    path = f'Msvm_VirtualEthernetSwitch.CreationClassName="Msvm_VirtualEthernetSwitch",Name="{client.prop(switch, "Name")}"'
    kinds = set()
    for port in client.query(f"ASSOCIATORS OF {{{path}}} WHERE AssocClass = Msvm_SystemDevice "
                             "ResultClass = Msvm_EthernetSwitchPort"):
        port_path = ("Msvm_EthernetSwitchPort.CreationClassName=\"Msvm_EthernetSwitchPort\",DeviceID=\"%s\","
                     "SystemCreationClassName=\"Msvm_VirtualEthernetSwitch\",SystemName=\"%s\""
                     % (client.prop(port, "DeviceID"), client.prop(port, "SystemName")))
        for settings in client.query(f"ASSOCIATORS OF {{{port_path}}} WHERE AssocClass = Msvm_ElementSettingData "
                                     "ResultClass = Msvm_EthernetPortAllocationSettingData"):
            resource = values(settings, "HostResource")
            if resource and "Msvm_VirtualEthernetSwitch" not in resource[0]:
                kinds.add("internal" if ":Msvm_ComputerSystem." in resource[0] else "external")
    return "external" if "external" in kinds else "internal" if kinds else "private"


def test_switch_kinds_follow_from_their_ports_as_microsofts_client_reads_them(vms_client):
    client = vms_client(fleet(), switches=SWITCHES)
    assert [kind_of(client, s["name"]) for s in SWITCHES] == ["external", "internal", "private"]


def test_a_vms_adapters_are_its_own_not_its_recovery_points_copies(vms_client):
    client = vms_client(fleet(recovery_points=[{"type": "standard", "created": "-1h"}]), switches=SWITCHES)
    every = client.query("SELECT * FROM Msvm_SyntheticEthernetPortSettingData")
    own = client.query(f"SELECT * FROM Msvm_SyntheticEthernetPortSettingData WHERE InstanceID LIKE 'Microsoft:{VM}%'")
    assert len(every) == 3 and len(own) == 1          # the replica's, its point's copy, and web01's
    (connection,) = client.query(f"SELECT * FROM Msvm_EthernetPortAllocationSettingData WHERE InstanceID = "
                                 f"'Microsoft:{VM}\\\\{adapter_id(client)}\\\\C'")
    assert values(connection, "TestReplicaSwitchName") == ["Isolated"]
    assert "Msvm_VirtualEthernetSwitch" in values(connection, "HostResource")[0]


def test_failover_settings_are_set_and_the_failed_over_guest_reports_them(vms_client, clock):
    client = vms_client(fleet(), switches=SWITCHES)
    instance_id = f"Microsoft:FailoverNetworkSetting\\{VM}\\{adapter_id(client)}"
    (before,) = client.query(f"SELECT * FROM Msvm_FailoverNetworkAdapterSettingData WHERE InstanceID = "
                             f"'{instance_id.replace(chr(92), chr(92) * 2)}'")
    assert values(before, "DHCPEnabled") == ["true"] and values(before, "IPAddresses") == []
    resp = client.invoke("Msvm_ReplicationService", "SetFailoverNetworkAdapterSettings", client.service_selectors(),
                         client.vm_ref(VM) + failover_xml(instance_id, ["192.168.60.11"], ["255.255.255.0"],
                                                          ["192.168.60.1"], ["192.168.60.10"]))
    assert code(resp) == 0
    (after,) = client.query(f"SELECT * FROM Msvm_FailoverNetworkAdapterSettingData WHERE InstanceID = "
                            f"'{instance_id.replace(chr(92), chr(92) * 2)}'")
    assert values(after, "IPAddresses") == ["192.168.60.11"] and values(after, "ProtocolIFType") == ["4096"]
    # After a failover the booted guest reports the failover address, not its own.
    client.sim.set_vm("app01", state=5)
    start(client, VM)
    clock.advance(30)
    (kvp,) = client.query(f"SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName = '{VM}'")
    assert any("192.168.60.11" in item and "NetworkAddressIPv4" in item
               for item in values(kvp, "GuestIntrinsicExchangeItems"))


def test_failover_settings_refusals(vms_client):
    client = vms_client(fleet(), switches=SWITCHES)
    good = f"Microsoft:FailoverNetworkSetting\\{VM}\\{adapter_id(client)}"

    def call(vm, body):
        return code(client.invoke("Msvm_ReplicationService", "SetFailoverNetworkAdapterSettings",
                                  client.service_selectors(), client.vm_ref(vm) + body))
    assert call(PRIMARY, failover_xml(good, ["192.168.60.11"], ["255.255.255.0"])) == 32773   # another VM's adapter
    assert call(VM, failover_xml(good, ["192.168.60.11"], [])) == 32773                        # no subnet
    assert call(VM, failover_xml(good, ["not-an-ip"], ["255.255.255.0"])) == 32773
    assert call(VM, "") == 32773


def test_the_test_switch_is_modified_with_typed_properties_only(vms_client):
    client = vms_client(fleet(), switches=SWITCHES)
    instance_id = f"Microsoft:{VM}\\{adapter_id(client)}\\C"

    def modify(type_of_enabled="uint16"):
        text = ('<INSTANCE CLASSNAME="Msvm_EthernetPortAllocationSettingData">'
                f'<PROPERTY NAME="InstanceID" TYPE="string"><VALUE>{escape(instance_id)}</VALUE></PROPERTY>'
                f'<PROPERTY NAME="EnabledState" TYPE="{type_of_enabled}"><VALUE>2</VALUE></PROPERTY>'
                '<PROPERTY NAME="TestReplicaSwitchName" TYPE="string"><VALUE>Lab</VALUE></PROPERTY></INSTANCE>')
        return client.invoke("Msvm_VirtualSystemManagementService", "ModifyResourceSettings", MANAGEMENT,
                             f"<p:ResourceSettings>{escape(text)}</p:ResourceSettings>")

    assert code(modify("string")) == 4                 # a uint16 sent as a string: WMI cannot take it
    resp = modify()
    assert code(resp) == 0 and "ResultingResourceSettings" in resp.text
    (connection,) = client.query(f"SELECT * FROM Msvm_EthernetPortAllocationSettingData WHERE InstanceID LIKE "
                                 f"'Microsoft:{VM}%'")
    assert values(connection, "TestReplicaSwitchName") == ["Lab"]


def test_a_test_vm_is_connected_to_the_test_switch_and_gets_the_failover_address(vms_client, clock):
    client = vms_client(fleet(adapters=[{"switch": "Production", "test_switch": "Isolated",
                                         "failover": {"ip_addresses": ["192.168.60.11"],
                                                      "subnets": ["255.255.255.0"]}}]), switches=SWITCHES)
    resp = client.invoke("Msvm_ReplicationService", "TestReplicaSystem", client.service_selectors(), client.vm_ref(VM))
    assert code(resp) == 4096
    clock.advance(30)
    (test,) = [v for v in client.sim.vms() if v["mode"] == "test_replica"]
    (connection,) = client.query(f"SELECT * FROM Msvm_EthernetPortAllocationSettingData WHERE InstanceID LIKE "
                                 f"'Microsoft:{test['id']}%'")
    isolated = next(s for s in client.query("SELECT * FROM Msvm_VirtualEthernetSwitch")
                    if client.prop(s, "ElementName") == "Isolated")
    assert client.prop(isolated, "Name") in values(connection, "HostResource")[0]
    start(client, test["id"])
    clock.advance(30)
    (kvp,) = client.query(f"SELECT * FROM Msvm_KvpExchangeComponent WHERE SystemName = '{test['id']}'")
    assert any("192.168.60.11" in item for item in values(kvp, "GuestIntrinsicExchangeItems"))
