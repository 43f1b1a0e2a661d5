# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Setting each adapter's failover TCP/IP settings and test switch, changing only what differs.

Failover TCP/IP settings (what the guest applies when it starts after a failover or as a test VM) go through
Msvm_ReplicationService.SetFailoverNetworkAdapterSettings, with the adapter's Msvm_FailoverNetworkAdapterSettingData
as read and edited; the test switch is the connection's TestReplicaSwitchName, changed through
Msvm_VirtualSystemManagementService.ModifyResourceSettings with the connection as read and edited. Microsoft's own
client sends whole instances the same way (decompiled FailoverNetworkAdapterSettingView, VMDeviceSettingView).

The values are written as Set-VMNetworkAdapterFailoverConfiguration writes them (decompiled
VMNetworkAdapterFailoverSetting): IPv4 addresses then IPv6 ones in IPAddresses, a dotted mask per IPv4 address and a
prefix length per IPv6 one in Subnets (same index), the gateways that are set, the DNS servers in order,
DHCPEnabled, and ProtocolIFType 4096 (IPv4), 4097 (IPv6), 4098 (both) or 0 (none). Every input is checked, and every
adapter and switch name resolved, before anything is sent: a bad one fails the task with nothing changed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance
from ansible_collections.hyperv.replica.plugins.module_utils.errors import HypervError
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.adapters import (
    REPLICATED_MODES, Adapter, FailoverIp, failover_ip, normalized, read_adapters)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.converge import Converge, Plan, VmResult
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import (
    MODIFY_RESOURCE_SETTINGS, SET_FAILOVER_NETWORK_ADAPTER_SETTINGS)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.switches import Switch, named, read_switches
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import find_vms
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter

FAILOVER_KEYS = ("ipv4", "ipv6", "ipv4_gateway", "ipv6_gateway", "dns_servers", "dhcp")
PROTOCOLS = {(True, False): 4096, (False, True): 4097, (True, True): 4098, (False, False): 0}


class BadInput(HypervError, ValueError):
    """An option value no host could take, or a name that matches no adapter or switch: nothing was sent."""


# ---------------------------------------------------------------- the options

def _interface(text: str, version: int, where: str) -> str:
    if not isinstance(text, str) or "/" not in text:
        raise BadInput("%s: %r is not an address with its prefix length (such as %s)"
                       % (where, text, "192.168.60.11/24" if version == 4 else "fd00::11/64"))
    address, _slash, prefix = text.partition("/")
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        raise BadInput("%s: %r is not an IPv%d address" % (where, address, version)) from None
    if parsed.version != version:
        raise BadInput("%s: %s is an IPv%d address, not IPv%d" % (where, address, parsed.version, version))
    top = 32 if version == 4 else 128
    if not prefix.strip().isdigit() or not 1 <= int(prefix) <= top:
        raise BadInput("%s: the prefix length of %s must be a number from 1 to %d, not %r" % (where, text, top, prefix))
    return "%s/%d" % (parsed.compressed, int(prefix))


def _address(text: Any, versions: Tuple[int, ...], where: str) -> str:
    try:
        parsed = ipaddress.ip_address(str(text).strip())
    except ValueError:
        raise BadInput("%s: %r is not an IP address" % (where, text)) from None
    if parsed.version not in versions:
        raise BadInput("%s: %s is not an IPv%d address" % (where, text, versions[0]))
    return parsed.compressed


def parse_failover(raw: Dict[str, Any], where: str) -> FailoverIp:
    """The ``failover`` option of one adapter, checked: the whole setting (a key left out is empty)."""
    unknown = sorted(set(raw) - set(FAILOVER_KEYS))
    if unknown:
        raise BadInput("%s: unknown key(s) %s; the keys are %s" % (where, ", ".join(unknown), ", ".join(FAILOVER_KEYS)))
    ipv4 = [_interface(a, 4, where + ".ipv4") for a in raw.get("ipv4") or []]
    ipv6 = [_interface(a, 6, where + ".ipv6") for a in raw.get("ipv6") or []]
    gw4 = _address(raw["ipv4_gateway"], (4,), where + ".ipv4_gateway") if raw.get("ipv4_gateway") else ""
    gw6 = _address(raw["ipv6_gateway"], (6,), where + ".ipv6_gateway") if raw.get("ipv6_gateway") else ""
    dns = [_address(a, (4, 6), where + ".dns_servers") for a in raw.get("dns_servers") or []]
    dhcp = raw.get("dhcp")
    dhcp = not ipv4 if dhcp is None else bool(dhcp)
    if dhcp and ipv4:
        raise BadInput("%s: dhcp true and ipv4 addresses exclude each other: the guest takes DHCP on IPv4 after a "
                       "failover, or the addresses given" % where)
    if (gw4 and not ipv4) or (gw6 and not ipv6):
        raise BadInput("%s: a gateway needs an address of its family (Set-VMNetworkAdapterFailoverConfiguration "
                       "refuses it too)" % where)
    return FailoverIp(ipv4, ipv6, gw4, gw6, dns, dhcp)


def wmi_values(settings: FailoverIp) -> Dict[str, Any]:
    """The Msvm_FailoverNetworkAdapterSettingData properties for these settings."""
    v4 = [ipaddress.ip_interface(a) for a in settings.ipv4]
    v6 = [ipaddress.ip_interface(a) for a in settings.ipv6]
    return {
        "IPAddresses": [str(i.ip) for i in v4 + v6],
        "Subnets": [str(i.netmask) for i in v4] + [str(i.network.prefixlen) for i in v6],
        "DefaultGateways": [g for g in (settings.ipv4_gateway, settings.ipv6_gateway) if g],
        "DNSServers": list(settings.dns_servers), "DHCPEnabled": settings.dhcp,
        "ProtocolIFType": PROTOCOLS[(bool(v4), bool(v6))],
    }


@dataclass
class AdapterWish:
    name: Optional[str]
    failover: Optional[FailoverIp]
    test_switch: Optional[str]


@dataclass
class VmWish:
    vm: str
    adapters: List[AdapterWish]


def parse_wishes(raw_vms: List[Dict[str, Any]]) -> List[VmWish]:
    wishes = []
    for index, raw in enumerate(raw_vms):
        where = "vms[%d]" % index
        adapters = []
        for number, adapter in enumerate(raw.get("adapters") or []):
            at = "%s.adapters[%d]" % (where, number)
            failover = adapter.get("failover")
            test_switch = adapter.get("test_switch")
            adapters.append(AdapterWish(adapter.get("name") or None,
                                        parse_failover(failover, at + ".failover") if failover is not None else None,
                                        None if test_switch is None else str(test_switch)))
        if not adapters:
            raise BadInput("%s (%s): no adapters: name at least one adapter and what to set on it" % (where, raw["name"]))
        wishes.append(VmWish(raw["name"], adapters))
    return wishes


# ---------------------------------------------------------------- planning

@dataclass
class AdapterChange:
    """One adapter: as it is, and what the task sets on it (None: left as it is)."""

    adapter: Adapter
    failover: Optional[FailoverIp] = None
    test_switch: Optional[str] = None

    @property
    def current(self) -> FailoverIp:
        return normalized(failover_ip(self.adapter.failover))

    @property
    def failover_differs(self) -> bool:
        return self.failover is not None and normalized(self.failover) != self.current

    @property
    def test_switch_differs(self) -> bool:
        return self.test_switch is not None and self.test_switch.lower() != self.adapter.test_switch.lower()

    def settings(self) -> Instance:
        """The adapter's failover settings as read, with the task's values (plan_vm checked that both exist)."""
        current = self.adapter.failover or Instance("Msvm_FailoverNetworkAdapterSettingData", {})
        return Instance(current.class_name, dict(current, **wmi_values(self.failover or FailoverIp())))

    def connection(self) -> Instance:
        """The adapter's connection as read, with the task's test switch (plan_vm checked that both exist)."""
        current = self.adapter.connection or Instance("Msvm_EthernetPortAllocationSettingData", {})
        return Instance(current.class_name, dict(current, TestReplicaSwitchName=self.test_switch or ""))


def _pick(adapters: List[Adapter], wish: AdapterWish, label: str) -> Adapter:
    names = ", ".join(repr(a.name) for a in adapters) or "none"
    if wish.name is None:
        if len(adapters) != 1:
            raise BadInput("VM %s has %d network adapters (%s): name the adapter" % (label, len(adapters), names))
        return adapters[0]
    found = [a for a in adapters if a.name.lower() == wish.name.lower()]
    if not found:
        raise BadInput("VM %s has no network adapter named %r; its adapters: %s" % (label, wish.name, names))
    if len(found) > 1:
        raise BadInput("VM %s has %d network adapters named %r: rename them (Rename-VMNetworkAdapter) so that each "
                       "can be told apart" % (label, len(found), wish.name))
    return found[0]


def _switch_name(switches: List[Switch], wanted: str, label: str) -> str:
    if wanted == "":
        return ""
    found = named(switches, wanted)
    if not found:
        raise BadInput("VM %s: no virtual switch named %r on this host; its switches: %s" % (
            label, wanted, ", ".join(repr(s.name) for s in switches) or "none"))
    if len(found) > 1:
        raise BadInput("VM %s: %d virtual switches are named %r on this host: a test VM's adapter could land on "
                       "either; rename one (Rename-VMSwitch)" % (label, len(found), wanted))
    return found[0].name


@dataclass
class NetworkResult(VmResult):
    """One VM of a failover_network task: its adapters' changes, and the adapters as read after."""

    changes: List[AdapterChange] = field(default_factory=list)
    after_adapters: Optional[List[Adapter]] = None


def plan_vm(result: NetworkResult, wish: VmWish, adapters: List[Adapter], switches: List[Switch]) -> None:
    """Resolve each wished adapter and switch (BadInput when one does not resolve), keep the changes, and plan
    the calls for those that differ."""
    vm = result.vm
    for adapter_wish in wish.adapters:
        adapter = _pick(adapters, adapter_wish, vm.label)
        if any(c.adapter is adapter for c in result.changes):
            raise BadInput("VM %s: adapter %r is named twice" % (vm.label, adapter.name))
        test_switch = None if adapter_wish.test_switch is None else _switch_name(switches, adapter_wish.test_switch,
                                                                                 vm.label)
        change = AdapterChange(adapter, adapter_wish.failover, test_switch)
        if change.failover is not None:
            if vm.mode not in REPLICATED_MODES:
                raise BadInput("VM %s is not replicated (replication mode %s): failover TCP/IP settings exist only for "
                               "a Primary, Replica or Extended Replica VM" % (vm.label, vm.mode_name))
            if adapter.port is None or adapter.failover is None:
                raise BadInput("VM %s: adapter %r has no failover TCP/IP settings to set (only synthetic adapters of a "
                               "replicated VM have them)" % (vm.label, adapter.name))
        if change.test_switch is not None and adapter.connection is None:
            raise BadInput("VM %s: adapter %r has no connection settings to hold a test switch; connect it once "
                           "(Connect-VMNetworkAdapter) and run again" % (vm.label, adapter.name))
        result.changes.append(change)
    steps = []
    failovers = [c.settings() for c in result.changes if c.failover_differs]
    connections = [c.connection() for c in result.changes if c.test_switch_differs]
    if failovers:
        steps.append(SET_FAILOVER_NETWORK_ADAPTER_SETTINGS.step(NetworkSettings=failovers))
    if connections:
        steps.append(MODIFY_RESOURCE_SETTINGS.step(ResourceSettings=connections))
    result.plan = Plan.calling(*steps)


class FailoverNetworkRun:
    """One failover_network module run."""

    def __init__(self, cim: CimClient, waiter: Waiter) -> None:
        self.cim = cim
        self.converge = Converge(cim, waiter)
        self.switches: List[Switch] = []

    def run(self, wishes: List[VmWish], check_mode: bool, max_concurrent: int) -> List[NetworkResult]:
        vms = find_vms(self.cim, [w.vm for w in wishes])
        if len(vms) != len(wishes):
            raise BadInput("a VM is listed more than once in vms (by name or GUID): list each VM once, with all of its "
                           "adapters")
        self.switches = read_switches(self.cim)
        adapters = read_adapters(self.cim, vms)
        results = []
        for vm, wish in zip(vms, wishes):
            result = NetworkResult(vm=vm, plan=Plan())
            plan_vm(result, wish, adapters.get(vm.id.upper(), []), self.switches)
            results.append(result)
        self.converge.apply(results, max_concurrent, True, check_mode)
        changed = [r for r in results if r.changed and not check_mode]
        if changed:
            after = read_adapters(self.cim, [r.vm for r in changed])
            for result in changed:
                result.after_adapters = after.get(result.vm.id.upper(), [])
        return results
