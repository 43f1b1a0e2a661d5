# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether booting a recovered VM could put production's identity on production's network.

A failed-over replica boots with its primary's addresses and name unless it is given others, and the primary may
still run; a test VM is a second copy of the same machine. So, before one is started (vm_power, and the drill
through it), each of its adapters must be safe:
- a test VM's adapter: not connected, or on a switch that is not external (private or internal);
- a failed-over replica's adapter: not connected, on a switch that is not external, or with failover TCP/IP
  settings that give the guest static addresses of its own (DHCP alone is the default "nothing set", so it does
  not count).
A switch the host does not list, or whose kind cannot be told, counts as external. Other VMs (not replicated,
Primary) are not judged: starting them is ordinary work. A VM with an unsafe adapter is refused with what to set,
unless the operator names it in ``allow_unsafe_network``; the result says it was allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Tuple

from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.adapters import Adapter, failover_ip, read_adapters
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.switches import (
    EXTERNAL, UNKNOWN, read_switches, switch_kinds)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import (
    MODE_EXTENDED_REPLICA, MODE_REPLICA, VM, is_guid)

SAFE, UNSAFE, ALLOWED = "safe", "unsafe", "allowed"
MODE_TEST_REPLICA = 3


@dataclass
class Verdict:
    """``outcome`` safe, unsafe or allowed (unsafe, booted because the operator said so); ``reasons`` per adapter."""

    outcome: str
    reasons: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, object]:
        return {"outcome": self.outcome, "reasons": list(self.reasons)}


def judged(vm: VM) -> bool:
    """Whether the guard has a say: test VMs and Replica / Extended Replica VMs (which start only failed over)."""
    return vm.mode in (MODE_TEST_REPLICA, MODE_REPLICA, MODE_EXTENDED_REPLICA)


def _adapter_verdict(vm: VM, adapter: Adapter, kinds: Dict[str, str], names: Dict[str, str]) -> Tuple[bool, str]:
    """Whether this adapter is safe, and why (or why not)."""
    switch = adapter.switch_id
    if not switch:
        return True, "adapter %r is not connected" % adapter.name
    kind = kinds.get(switch, UNKNOWN)
    label = "switch %r" % names.get(switch, switch)
    if kind not in (EXTERNAL, UNKNOWN):
        return True, "adapter %r is on %s %s" % (adapter.name, kind, label)
    where = "on external %s" % label if kind == EXTERNAL else "on %s, which the host does not list as a known " \
        "switch" % label
    if vm.mode == MODE_TEST_REPLICA:
        return False, "adapter %r is %s (a test VM belongs on a private or internal switch)" % (adapter.name, where)
    settings = failover_ip(adapter.failover)
    if adapter.port is not None and settings.static:
        addresses = ", ".join(settings.ipv4 + settings.ipv6)
        return True, "adapter %r is %s with failover addresses %s" % (adapter.name, where, addresses)
    return False, "adapter %r is %s and has no failover TCP/IP settings" % (adapter.name, where)


def judge(vm: VM, adapters: List[Adapter], kinds: Dict[str, str], names: Dict[str, str], allowed: bool) -> Verdict:
    """Safe when every adapter is; the reasons are the unsafe adapters' when there are some, else every adapter's."""
    seen = [_adapter_verdict(vm, a, kinds, names) for a in adapters]
    unsafe = [why for ok, why in seen if not ok]
    if not unsafe:
        return Verdict(SAFE, [why for _ok, why in seen] or ["it has no network adapter"])
    return Verdict(ALLOWED if allowed else UNSAFE, unsafe)


def refusal(vm: VM, verdict: Verdict) -> str:
    """The message of a VM the guard will not boot: what it saw, and the three ways out."""
    fix = ("connect its adapters to a private or internal switch (a test VM takes the test switch: "
           "hyperv.replica.failover_network test_switch)" if vm.mode == MODE_TEST_REPLICA else
           "give its adapters failover TCP/IP settings (hyperv.replica.failover_network) or connect them to a private "
           "or internal switch")
    return ("VM %s was not started: booted now it could reach production with production's addresses and name: %s; "
            "%s, or name it in allow_unsafe_network to boot it anyway" % (vm.label, "; ".join(verdict.reasons), fix))


def is_allowed(vm: VM, allowed: Iterable[str]) -> bool:
    for item in allowed:
        text = str(item).strip()
        if (is_guid(text) and text.strip("{}").upper() == vm.id.upper()) or text.lower() == vm.name.lower():
            return True
    return False


def assess(cim: CimClient, vms: List[VM], allowed: Iterable[str]) -> Dict[str, Verdict]:
    """VM GUID (upper case) -> its Verdict, for the judged VMs among ``vms``: their adapters (one query per class per
    40 VMs), the switches (one query), and the kinds of the switches their unsafe-looking adapters are on."""
    allowed = list(allowed)
    targets = [vm for vm in vms if judged(vm)]
    if not targets:
        return {}
    adapters = read_adapters(cim, targets)
    switches = read_switches(cim)
    names = {s.id: s.name for s in switches}
    used = {a.switch_id for vm_adapters in adapters.values() for a in vm_adapters if a.switch_id}
    kinds = switch_kinds(cim, [s for s in switches if s.id in used])
    return {vm.id.upper(): judge(vm, adapters.get(vm.id.upper(), []), kinds, names, is_allowed(vm, allowed))
            for vm in targets}
