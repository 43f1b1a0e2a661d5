# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's network adapters as the host holds them: the adapter, its connection, and its failover TCP/IP settings.

hyperv guest-power notes 3 and MicrosoftDocs/win32 ``desktop-src/HyperV_v2/``: an adapter is a
Msvm_SyntheticEthernetPortSettingData (InstanceID "Microsoft:<VM GUID>\\<NIC GUID>", ElementName its name); its
connection a Msvm_EthernetPortAllocationSettingData ("...\\<NIC GUID>\\C", Parent the adapter's path, HostResource[0]
the switch's path when connected, TestReplicaSwitchName); a replicated VM's adapter has one
Msvm_FailoverNetworkAdapterSettingData (msvm-ethernetportfailoversettingdatacomponent links them). Recovery points
hold copies of the adapters under their own GUIDs, so rows are taken only when their InstanceID starts with the VM's
GUID: one query per class per LOOKUP_CHUNK VMs. The failover settings are matched to their adapter by the
"<VM GUID>\\<NIC GUID>" their InstanceID ends with; one that cannot be matched so is read through the association.
A connection whose Parent is no synthetic adapter (a legacy adapter) is kept: the guard must see every way out.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.switches import switch_id_in
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import LOOKUP_CHUNK, VM

PORT_CLASS = "Msvm_SyntheticEthernetPortSettingData"
CONNECTION_CLASS = "Msvm_EthernetPortAllocationSettingData"
FAILOVER_CLASS = "Msvm_FailoverNetworkAdapterSettingData"
FAILOVER_LINK = "Msvm_EthernetPortFailoverSettingDataComponent"
# Failover settings exist for the adapters of Primary, Replica and Extended Replica VMs (PowerShell shows them for
# those modes only, decompiled VMNetworkAdapter.FailoverSetting).
REPLICATED_MODES = (1, 2, 4)


@dataclass
class Adapter:
    """One network adapter of a VM. ``port`` is None for a connection whose adapter is not a synthetic one."""

    vm_id: str
    nic_id: str
    port: Optional[Instance] = None
    connection: Optional[Instance] = None
    failover: Optional[Instance] = None

    @property
    def name(self) -> str:
        if self.port is not None:
            return str(self.port.get("ElementName") or "")
        return "Legacy Network Adapter"

    @property
    def switch_id(self) -> str:
        """The GUID of the switch it is connected to; "" when it is not connected."""
        if self.connection is None or self.connection.get("EnabledState") == 3:
            return ""
        resource = self.connection.get("HostResource") or []
        return switch_id_in(str(resource[0])) if resource else ""

    @property
    def test_switch(self) -> str:
        return str((self.connection or {}).get("TestReplicaSwitchName") or "")


@dataclass
class FailoverIp:
    """Failover TCP/IP settings as the module's option spells them (addresses with their prefix length)."""

    ipv4: List[str] = field(default_factory=list)
    ipv6: List[str] = field(default_factory=list)
    ipv4_gateway: str = ""
    ipv6_gateway: str = ""
    dns_servers: List[str] = field(default_factory=list)
    dhcp: bool = True

    def as_dict(self) -> Dict[str, object]:
        return {"ipv4": list(self.ipv4), "ipv6": list(self.ipv6), "ipv4_gateway": self.ipv4_gateway,
                "ipv6_gateway": self.ipv6_gateway, "dns_servers": list(self.dns_servers), "dhcp": self.dhcp}

    @property
    def static(self) -> bool:
        """Whether it gives the guest addresses of its own after a failover."""
        return bool(self.ipv4 or self.ipv6)


def _strings(value: object) -> List[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _prefix(subnet: str, version: int) -> Optional[int]:
    """A subnet as Windows stores it (a dotted mask for IPv4, a prefix length for IPv6) as a prefix length."""
    try:
        if version == 4 and "." in subnet:
            return ipaddress.IPv4Network("0.0.0.0/" + subnet).prefixlen
        return int(subnet)
    except ValueError:
        return None


def failover_ip(instance: Optional[Instance]) -> FailoverIp:
    """The settings of a Msvm_FailoverNetworkAdapterSettingData (None: nothing set): each address with the subnet at
    the same index, split by family; the first gateway of each family (as Get-VMNetworkAdapterFailoverConfiguration
    reads them back)."""
    if instance is None:
        return FailoverIp()
    result = FailoverIp(dhcp=bool(instance.get("DHCPEnabled", True)))
    subnets = _strings(instance.get("Subnets"))
    for index, address in enumerate(_strings(instance.get("IPAddresses"))):
        try:
            version = ipaddress.ip_address(address).version
        except ValueError:
            continue
        prefix = _prefix(subnets[index], version) if index < len(subnets) else None
        text = address if prefix is None else "%s/%d" % (address, prefix)
        (result.ipv4 if version == 4 else result.ipv6).append(text)
    for gateway in _strings(instance.get("DefaultGateways")):
        try:
            version = ipaddress.ip_address(gateway).version
        except ValueError:
            continue
        if version == 4 and not result.ipv4_gateway:
            result.ipv4_gateway = gateway
        elif version == 6 and not result.ipv6_gateway:
            result.ipv6_gateway = gateway
    result.dns_servers = _strings(instance.get("DNSServers"))
    return result


def normalized(settings: FailoverIp) -> FailoverIp:
    """The same settings written one way, so that what the host holds compares with what the task asks."""
    def interface(text: str) -> str:
        try:
            return ipaddress.ip_interface(text).with_prefixlen if "/" in text else ipaddress.ip_address(text).compressed
        except ValueError:
            return text
    return FailoverIp([interface(a) for a in settings.ipv4], [interface(a) for a in settings.ipv6],
                      interface(settings.ipv4_gateway) if settings.ipv4_gateway else "",
                      interface(settings.ipv6_gateway) if settings.ipv6_gateway else "",
                      [interface(a) for a in settings.dns_servers], settings.dhcp)


def adapter_view(adapter: Adapter, switch_names: Dict[str, str]) -> Dict[str, object]:
    """An adapter as the modules report it: its name, the switch it is on, its test switch, its failover settings."""
    switch = adapter.switch_id
    return {"name": adapter.name, "switch": switch_names.get(switch, switch) if switch else "",
            "test_switch": adapter.test_switch, "failover": normalized(failover_ip(adapter.failover)).as_dict()}


# How the InstanceIDs of a VM's adapters and connections, and of their failover settings, begin (before the VM GUID).
PREFIX, FAILOVER_PREFIX = "Microsoft:", "Microsoft:FailoverNetworkSetting\\"


def _owner(instance_id: str) -> Tuple[str, str]:
    """(VM GUID, adapter GUID), upper case, of "Microsoft:<VM>\\<NIC>[\\C]" or
    "Microsoft:FailoverNetworkSetting\\<VM>\\<NIC>"; ("", "") for any other shape."""
    text = instance_id[len(FAILOVER_PREFIX):] if instance_id.upper().startswith(FAILOVER_PREFIX.upper()) else \
        instance_id[len(PREFIX):] if instance_id.upper().startswith(PREFIX.upper()) else ""
    parts = text.split("\\")
    return (parts[0].upper(), parts[1].upper()) if len(parts) >= 2 else ("", "")


def read_adapters(cim: CimClient, vms: Iterable[VM]) -> Dict[str, List[Adapter]]:
    """VM GUID (upper case) -> its adapters, in the order the host lists them."""
    vms = list(vms)
    ids = sorted({vm.id.strip("{}").upper() for vm in vms})
    replicated = {vm.id.strip("{}").upper() for vm in vms if vm.mode in REPLICATED_MODES}
    found: Dict[str, Dict[str, Adapter]] = {vm_id: {} for vm_id in ids}
    if not ids:
        return {}
    queries = [wql.select(cls, wql.any_starting("InstanceID", [prefix + vm_id + "\\" for vm_id in chunk]))
               for cls, prefix in ((PORT_CLASS, PREFIX), (CONNECTION_CLASS, PREFIX), (FAILOVER_CLASS, FAILOVER_PREFIX))
               for chunk in wql.chunks(ids, LOOKUP_CHUNK)]
    for row in sorted(cim.query_all(queries), key=lambda r: r.class_name != PORT_CLASS):
        vm_id, nic = _owner(str(row.get("InstanceID") or ""))
        if vm_id not in found or not nic:
            continue  # a recovery point's copy, or an InstanceID of another shape
        adapter = found[vm_id].setdefault(nic, Adapter(vm_id, nic))
        if row.class_name == PORT_CLASS:
            adapter.port = row
        elif row.class_name == CONNECTION_CLASS:
            adapter.connection = row
        else:
            adapter.failover = row
    _associated_failover(cim, [a for vm_id, adapters in found.items() if vm_id in replicated
                               for a in adapters.values()])
    return {vm_id: list(adapters.values()) for vm_id, adapters in found.items()}


def _associated_failover(cim: CimClient, adapters: List[Adapter]) -> None:
    """The failover settings of the replicated VMs' synthetic adapters whose InstanceID did not name them, by the
    association (one query each: none at all when the InstanceIDs have the shape the notes give)."""
    for adapter in adapters:
        if adapter.port is None or adapter.failover is not None:
            continue
        rows = cim.query(wql.associators(PORT_CLASS, {"InstanceID": str(adapter.port.get("InstanceID") or "")},
                                         FAILOVER_LINK, FAILOVER_CLASS))
        adapter.failover = rows[0] if rows else None
