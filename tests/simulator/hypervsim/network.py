"""Virtual switches, VM network adapters, failover TCP/IP settings and the test switch (methods.py keys the two
handlers at the end).

Sources (MicrosoftDocs/win32 `desktop-src/HyperV_v2/` unless said otherwise; hyperv guest-power notes 3):
- msvm-virtualethernetswitch: Name is the switch's GUID, ElementName its display name. Whether a switch is external,
  internal or private is not a property: Microsoft's client (decompiled `VMSwitch`, `VMInternalOrExternalNetworkAdapter`)
  reads the switch's ports (Msvm_SystemDevice from the switch to Msvm_EthernetSwitchPort), each port's
  Msvm_EthernetPortAllocationSettingData (Msvm_ElementSettingData), and the class in its HostResource[0]: the host's
  Msvm_ComputerSystem is an internal port, any other class (Msvm_ExternalEthernetPort) an external one, none a VM's
  port. External wins over internal; neither is private. The simulator shows exactly those instances. [infer] A
  VM's switch port exists while the VM runs; Msvm_ExternalEthernetPort itself is named in HostResource, not modelled.
- An adapter is a Msvm_SyntheticEthernetPortSettingData ("Microsoft:<VM>\\<NIC>", ElementName "Network Adapter") and
  its connection, a Msvm_EthernetPortAllocationSettingData ("Microsoft:<VM>\\<NIC>\\C"; Parent the adapter's path;
  HostResource [the switch's path] and EnabledState 2 when connected, none and 3 when not; TestReplicaSwitchName the
  display name of the switch a test VM's adapter is connected to). InstanceID shapes from public WMI dumps [3p]; a
  recovery point holds a copy of each adapter under its own GUID [infer], which a client must not take for the VM's.
- msvm-failovernetworkadaptersettingdata: one per synthetic adapter of a replicated VM (PowerShell shows it for
  Primary, Replica and Extended Replica only), InstanceID "Microsoft:FailoverNetworkSetting\\<VM>\\<NIC>" [3p], linked
  to the adapter by Msvm_EthernetPortFailoverSettingDataComponent (msvm-ethernetportfailoversettingdatacomponent).
  Nothing set reads as DHCPEnabled true, ProtocolIFType 0 and empty arrays (decompiled
  `VMNetworkAdapterFailoverSetting`, what Set- leaves after clearing everything).
- Microsoft's 2012 team blog "Inject IP address into the VM during failover": a replica's adapters are not connected by
  default; the failover TCP/IP settings are applied by the guest's KVP integration service when the failed-over VM
  starts, and a test failover's VM is connected to the test switch and gets them too. So a guest that answers reports
  its failover addresses after a failover or as a test VM; a silent guest (no integration services) applies nothing.
"""

import ipaddress
import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .cim import CimRef, Instance
from .invocation import INVALID_PARAMETER, INVALID_STATE, Invocation, MethodResult
from .schema import (ELEMENT_SETTING_DATA, ETHERNET_PORT_ALLOCATION, ETHERNET_SWITCH_PORT, FAILOVER_NETWORK_SETTING,
                     FAILOVER_SETTING_COMPONENT, SYNTHETIC_ETHERNET_PORT, SYSTEM_DEVICE, VIRTUAL_ETHERNET_SWITCH)

if TYPE_CHECKING:
    from .hyperv import HyperVHost, VirtualMachine

KINDS = ("external", "internal", "private")
REPLICATED_MODES = (1, 2, 4)
FAILED_OVER = (5, 6)                 # Recovered, Committed
TEST_REPLICA = 3
CONNECTED, NOT_CONNECTED = 2, 3
# ModifyResourceSettings answers with the DMTF codes its page lists (1 Not Supported, 4 Invalid Parameter).
MRS_NOT_SUPPORTED, MRS_INVALID_PARAMETER = 1, 4
IPV4, IPV6, BOTH, UNKNOWN = 4096, 4097, 4098, 0


@dataclass(frozen=True)
class Switch:
    name: str
    id: str
    kind: str


@dataclass
class FailoverIp:
    """Msvm_FailoverNetworkAdapterSettingData's values; the default is "nothing set"."""

    ip_addresses: list[str] = field(default_factory=list)
    subnets: list[str] = field(default_factory=list)
    gateways: list[str] = field(default_factory=list)
    dns_servers: list[str] = field(default_factory=list)
    dhcp: bool = True

    @property
    def protocol(self) -> int:
        families = {ipaddress.ip_address(a).version for a in self.ip_addresses if _is_address(a)}
        return {frozenset({4}): IPV4, frozenset({6}): IPV6, frozenset({4, 6}): BOTH}.get(frozenset(families), UNKNOWN)


@dataclass
class Adapter:
    id: str                  # the adapter's GUID (the <NIC> of its InstanceIDs)
    name: str
    mac: str
    switch: str = ""         # the id of the switch it is connected to; "" not connected
    test_switch: str = ""    # TestReplicaSwitchName, a display name as given
    failover: FailoverIp = field(default_factory=FailoverIp)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def default_switches(host: str) -> list[Switch]:
    """What a fleet host has unless it says otherwise: a production network, a host-only one and an isolated one."""
    return [Switch(name, str(uuid.uuid5(uuid.NAMESPACE_URL, f"hypervsim/{host}/switch/{name}")).upper(), kind)
            for name, kind in (("Production", "external"), ("HostOnly", "internal"), ("Isolated", "private"))]


def new_adapter(vm_id: str, index: int, name: str = "Network Adapter") -> Adapter:
    guid = uuid.uuid5(uuid.UUID(vm_id), f"nic/{index}")
    mac = "00155D" + guid.hex[:6].upper()
    return Adapter(id=str(guid).upper(), name=name, mac=mac)


def test_copy(host: "HyperVHost", replica: "VirtualMachine", test_id: str) -> list[Adapter]:
    """The test VM's adapters: the replica's, each connected to its test switch (none when the name is empty or no
    switch has it [infer]), with the failover settings the guest will apply."""
    result = []
    for index, adapter in enumerate(replica.adapters):
        switch = host.switch_named(adapter.test_switch) if adapter.test_switch else None
        copy = new_adapter(test_id, index, adapter.name)
        result.append(replace(copy, switch=switch.id if switch else "", failover=replace(adapter.failover)))
    return result


# ---------------------------------------------------------------- what the guest reports

def guest_addresses(vm: "VirtualMachine") -> list[str]:
    """The addresses a booted guest reports: after a failover, or as a test VM, the static addresses of the
    failover settings when any adapter has some; its own addresses otherwise (DHCP at the recovery site is not
    modelled: the guest keeps reporting its own)."""
    injected = vm.mode == TEST_REPLICA or (vm.mode in (2, 4) and vm.state in FAILED_OVER)
    static = [address for adapter in vm.adapters for address in adapter.failover.ip_addresses] if injected else []
    return static or list(vm.addresses)


# ---------------------------------------------------------------- instances

def switch_path(host: "HyperVHost", switch: Switch) -> str:
    return (f'\\\\{host.name}\\root\\virtualization\\v2:Msvm_VirtualEthernetSwitch.'
            f'CreationClassName="Msvm_VirtualEthernetSwitch",Name="{switch.id}"')


def _quoted_path(host: "HyperVHost", cls: str, instance_id: str) -> str:
    escaped = instance_id.replace("\\", "\\\\")
    return f'\\\\{host.name}\\root\\virtualization\\v2:{cls}.InstanceID="{escaped}"'


def switch_instance(switch: Switch) -> Instance:
    return Instance(VIRTUAL_ETHERNET_SWITCH, {
        "CreationClassName": "Msvm_VirtualEthernetSwitch", "Name": switch.id, "ElementName": switch.name,
        "Caption": "Virtual Switch", "Description": "Microsoft Virtual Switch", "EnabledState": 2,
        "EnabledDefault": 2, "RequestedState": 12, "HealthState": 5, "OperationalStatus": [2],
        "StatusDescriptions": ["OK"], "Status": "OK", "MaxVMQOffloads": 0, "MaxChimneyOffloads": 0,
    })


def _port(switch: Switch, port_id: str, name: str) -> Instance:
    return Instance(ETHERNET_SWITCH_PORT, {
        "CreationClassName": "Msvm_EthernetSwitchPort", "DeviceID": f"Microsoft:{port_id}",
        "SystemCreationClassName": "Msvm_VirtualEthernetSwitch", "SystemName": switch.id, "ElementName": name,
        "Name": port_id, "EnabledState": 2, "HealthState": 5, "OperationalStatus": [2],
    })


def _host_side(host: "HyperVHost", switch: Switch) -> tuple[Instance, Instance] | None:
    """The switch's own port and its settings: HostResource the host (internal) or a physical NIC (external)."""
    if switch.kind == "private":
        return None
    port_id = str(uuid.uuid5(uuid.UUID(switch.id), "host-port")).upper()
    if switch.kind == "internal":
        resource = (f'\\\\{host.name}\\root\\virtualization\\v2:Msvm_ComputerSystem.'
                    f'CreationClassName="Msvm_ComputerSystem",Name="{host.name}"')
    else:
        resource = (f'\\\\{host.name}\\root\\virtualization\\v2:Msvm_ExternalEthernetPort.'
                    f'CreationClassName="Msvm_ExternalEthernetPort",DeviceID="{{{port_id}}}",'
                    f'SystemCreationClassName="Msvm_ComputerSystem",SystemName="{host.name}"')
    settings = Instance(ETHERNET_PORT_ALLOCATION, {
        "InstanceID": f"Microsoft:{switch.id}\\{port_id}", "ElementName": f"{switch.name} port",
        "ResourceType": 33, "ResourceSubType": "Microsoft:Hyper-V:Ethernet Connection", "EnabledState": 2,
        "HostResource": [resource], "Address": "", "AutomaticAllocation": True, "AutomaticDeallocation": True,
    })
    return _port(switch, port_id, f"{switch.name} port"), settings


def adapter_instance(vm_id: str, adapter: Adapter, owner: str | None = None) -> Instance:
    return Instance(SYNTHETIC_ETHERNET_PORT, {
        "InstanceID": f"Microsoft:{owner or vm_id}\\{adapter.id}", "ElementName": adapter.name,
        "Caption": "Virtual Ethernet Port", "Description": "Microsoft Virtual Network Adapter", "ResourceType": 10,
        "ResourceSubType": "Microsoft:Hyper-V:Synthetic Ethernet Port", "Address": adapter.mac,
        "StaticMacAddress": False, "VirtualSystemIdentifiers": [f"{{{adapter.id.lower()}}}"],
        "AutomaticAllocation": True, "AutomaticDeallocation": True, "VirtualQuantity": 1,
    })


def connection_instance(host: "HyperVHost", vm_id: str, adapter: Adapter, owner: str | None = None) -> Instance:
    switch = host.switch_by_id(adapter.switch) if adapter.switch else None
    port_id = f"Microsoft:{owner or vm_id}\\{adapter.id}"
    return Instance(ETHERNET_PORT_ALLOCATION, {
        "InstanceID": f"{port_id}\\C", "ElementName": "Dynamic Ethernet Switch Port", "Caption": "Ethernet Switch Port",
        "Description": "Ethernet Switch Port Settings", "ResourceType": 33,
        "ResourceSubType": "Microsoft:Hyper-V:Ethernet Connection", "Parent": _quoted_path(
            host, "Msvm_SyntheticEthernetPortSettingData", port_id),
        "HostResource": [switch_path(host, switch)] if switch else [], "Address": "",
        "EnabledState": CONNECTED if switch else NOT_CONNECTED, "AutomaticAllocation": True,
        "AutomaticDeallocation": True, "TestReplicaSwitchName": adapter.test_switch, "TestReplicaPoolID": "",
        "PoolID": "", "Weight": 0, "Limit": 1, "Reservation": 1, "VirtualQuantity": 1, "ConsumerVisibility": 3,
        "MappingBehavior": 0, "AllocationUnits": "count", "VirtualQuantityUnits": "count",
        "RequiredFeatures": [], "RequiredFeatureHints": [], "Connection": [""],
    })


def failover_instance(vm_id: str, adapter: Adapter) -> Instance:
    settings = adapter.failover
    return Instance(FAILOVER_NETWORK_SETTING, {
        "InstanceID": f"Microsoft:FailoverNetworkSetting\\{vm_id}\\{adapter.id}", "ProtocolIFType": settings.protocol,
        "DHCPEnabled": settings.dhcp, "IPAddresses": list(settings.ip_addresses), "Subnets": list(settings.subnets),
        "DefaultGateways": list(settings.gateways), "DNSServers": list(settings.dns_servers),
    })


def switch_instances(host: "HyperVHost") -> list[Instance]:
    return [switch_instance(switch) for switch in host.switches]


def port_instances(host: "HyperVHost") -> list[tuple[Switch, Instance, Instance]]:
    """Every switch port with its switch and its settings: each switch's own port, and one per connected adapter of
    a running VM."""
    result = []
    for switch in host.switches:
        own = _host_side(host, switch)
        if own is not None:
            result.append((switch, own[0], own[1]))
    for vm in host.vms:
        if vm.power not in (2, 9):
            continue
        for adapter in vm.adapters:
            switch = host.switch_by_id(adapter.switch) if adapter.switch else None
            if switch is not None:
                port = _port(switch, str(uuid.uuid5(uuid.UUID(adapter.id), "port")).upper(), "Dynamic Ethernet Switch Port")
                result.append((switch, port, connection_instance(host, vm.id, adapter)))
    return result


def settings_instances(host: "HyperVHost") -> list[Instance]:
    """Adapters (realized and each recovery point's copy), their connections, and the switches' own port settings."""
    result: list[Instance] = []
    for vm in host.vms:
        for adapter in vm.adapters:
            result.append(adapter_instance(vm.id, adapter))
            result.append(connection_instance(host, vm.id, adapter))
            for point in vm.recovery_points:
                owner = point.instance_id.split(":", 1)[1]
                result.append(adapter_instance(vm.id, adapter, owner))
                result.append(connection_instance(host, vm.id, adapter, owner))
    result.extend(settings for _switch, _port_, settings in port_instances(host) if not settings.get("Parent"))
    return result


def failover_instances(host: "HyperVHost") -> list[Instance]:
    return [failover_instance(vm.id, adapter) for vm in host.vms if vm.mode in REPLICATED_MODES
            for adapter in vm.adapters]


def links(host: "HyperVHost") -> list[Instance]:
    """Switch -> port (Msvm_SystemDevice), port -> its settings (Msvm_ElementSettingData), adapter -> its failover
    settings (Msvm_EthernetPortFailoverSettingDataComponent)."""
    result = []
    for switch, port, settings in port_instances(host):
        result.append(Instance(SYSTEM_DEVICE, {"GroupComponent": CimRef.make(VIRTUAL_ETHERNET_SWITCH.name, {
            "CreationClassName": VIRTUAL_ETHERNET_SWITCH.name, "Name": switch.id}), "PartComponent": port.ref()}))
        result.append(Instance(ELEMENT_SETTING_DATA, {"ManagedElement": port.ref(), "SettingData": settings.ref(),
                                                      "IsCurrent": 1, "IsDefault": 2, "IsNext": 2}))
    for vm in host.vms:
        if vm.mode in REPLICATED_MODES:
            for adapter in vm.adapters:
                result.append(Instance(FAILOVER_SETTING_COMPONENT, {
                    "GroupComponent": adapter_instance(vm.id, adapter).ref(),
                    "PartComponent": failover_instance(vm.id, adapter).ref()}))
    return result


# ---------------------------------------------------------------- methods

def _adapter_of(vm: "VirtualMachine", instance_id: str, prefix: str, suffix: str = "") -> Adapter | None:
    for adapter in vm.adapters:
        if instance_id.lower() == f"{prefix}{vm.id}\\{adapter.id}{suffix}".lower():
            return adapter
    return None


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _failover_from(properties: dict[str, Any]) -> FailoverIp | None:
    """The settings an instance asks for; None when they cannot be (the page requires IPAddresses and DHCPEnabled;
    [infer] an address that does not parse, a subnet per address missing, or more than five gateways are refused)."""
    if "IPAddresses" not in properties or not isinstance(properties.get("DHCPEnabled"), bool):
        return None
    names = ("IPAddresses", "Subnets", "DefaultGateways", "DNSServers")
    values = {name: _strings(properties.get(name)) for name in names}
    if any(v is None for v in values.values()):
        return None
    addresses, subnets = values["IPAddresses"] or [], values["Subnets"] or []
    gateways, dns = values["DefaultGateways"] or [], values["DNSServers"] or []
    if len(subnets) != len(addresses) or len(gateways) > 5:
        return None
    if not all(_is_address(a) for a in addresses + gateways + dns):
        return None
    return FailoverIp(addresses, subnets, gateways, dns, properties["DHCPEnabled"])


def set_failover_network_adapter_settings(inv: Invocation) -> MethodResult:
    """Msvm_ReplicationService.SetFailoverNetworkAdapterSettings: each embedded instance (its InstanceID names the
    adapter) replaces that adapter's settings, all or none. Only a replicated VM has them (32775 otherwise [infer]);
    an instance of another VM's adapter, or settings that cannot be, 32773. 0 at once [infer: the page allows 4096
    and Microsoft's client takes either]."""
    from .replica import vm_from_ref  # pylint: disable=import-outside-toplevel

    vm = vm_from_ref(inv.host, inv.params.get("ComputerSystem"))
    if vm.mode not in REPLICATED_MODES:
        return MethodResult(INVALID_STATE)
    changes = []
    for embedded in inv.params.get("NetworkSettings") or []:
        adapter = _adapter_of(vm, str(embedded.properties.get("InstanceID") or ""), "Microsoft:FailoverNetworkSetting\\")
        settings = _failover_from(embedded.properties)
        if adapter is None or settings is None:
            return MethodResult(INVALID_PARAMETER)
        changes.append((adapter, settings))
    if not changes:
        return MethodResult(INVALID_PARAMETER)
    for adapter, settings in changes:
        adapter.failover = settings
    return MethodResult(0)


def modify_resource_settings(inv: Invocation) -> MethodResult:
    """Msvm_VirtualSystemManagementService.ModifyResourceSettings for an adapter's connection: its
    TestReplicaSwitchName is stored as given (the host does not check the name: Microsoft's client does not either,
    and a test VM whose name matches no switch is left not connected [infer]). Every property must carry its class's
    CIM type (4 Invalid Parameter otherwise [infer]: WMI refuses an instance it cannot convert); an instance of any
    other setting is 1 Not Supported here (the simulator models no other). 0 at once with the resulting settings."""
    host = inv.host
    changes, resulting = [], []
    for embedded in inv.params.get("ResourceSettings") or []:
        if embedded.class_name.lower() != ETHERNET_PORT_ALLOCATION.name.lower():
            return MethodResult(MRS_NOT_SUPPORTED)
        if not _types_match(embedded):
            return MethodResult(MRS_INVALID_PARAMETER)
        instance_id = str(embedded.properties.get("InstanceID") or "")
        found = next(((vm, a) for vm in host.vms for a in vm.adapters
                      if _adapter_of(vm, instance_id, "Microsoft:", "\\C") is a), None)
        if found is None:
            return MethodResult(MRS_INVALID_PARAMETER)
        test_switch = embedded.properties.get("TestReplicaSwitchName")
        changes.append((found[1], "" if test_switch is None else str(test_switch)))
        resulting.append(CimRef.make(ETHERNET_PORT_ALLOCATION.name, {"InstanceID": instance_id}))
    if not changes:
        return MethodResult(MRS_INVALID_PARAMETER)
    for adapter, test_switch in changes:
        adapter.test_switch = test_switch
    return MethodResult(0, {"ResultingResourceSettings": resulting})


def _types_match(embedded: Any) -> bool:
    for name, cimtype in embedded.types.items():
        prop = ETHERNET_PORT_ALLOCATION.prop(name)
        if prop is None or prop.cimtype != cimtype or prop.array != (name in embedded.arrays):
            return False
    return True
