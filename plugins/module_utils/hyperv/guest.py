# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a VM's guest says: its heartbeat and its addresses, for many VMs with one query per class.

Read from the guest integration components (hyperv guest-power notes 2), each keyed by its VM's GUID in SystemName:
Msvm_HeartbeatComponent.OperationalStatus[0] (2 OK, 12 No Contact, 13 Lost Communication, 15 Paused; a VM with no
component, or one not running, reads as No Contact, as Microsoft's sample treats it), and
Msvm_KvpExchangeComponent.GuestIntrinsicExchangeItems, embedded Msvm_KvpExchangeDataItem instances whose
NetworkAddressIPv4 and NetworkAddressIPv6 hold semicolon-separated lists. The guest writes those items: they are
parsed with the guarded parser and an item that cannot be read is skipped, never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import parse_embedded
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import LOOKUP_CHUNK
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import WSManProtocolError

HEARTBEAT_OK, NO_CONTACT = 2, 12
HEARTBEAT = {2: "OK", 3: "Degraded", 6: "Error", 7: "Non-Recoverable Error", 12: "No Contact",
             13: "Lost Communication", 15: "Paused"}
ADDRESS_ITEMS = ("NetworkAddressIPv4", "NetworkAddressIPv6")


@dataclass
class Guest:
    """One VM's guest as last read: its heartbeat status code and the addresses it reports (IPv4 first)."""

    heartbeat: int = NO_CONTACT
    addresses: List[str] = field(default_factory=list)

    @property
    def heartbeat_name(self) -> str:
        return HEARTBEAT.get(self.heartbeat, "Unknown (%s)" % self.heartbeat)

    @property
    def answers(self) -> bool:
        return self.heartbeat == HEARTBEAT_OK


def _queries(cls: str, vm_ids: List[str]) -> List[str]:
    return [wql.select(cls, wql.any_equal("SystemName", chunk)) for chunk in wql.chunks(vm_ids, LOOKUP_CHUNK)]


def addresses_of(items: Iterable[str]) -> List[str]:
    """The addresses in a GuestIntrinsicExchangeItems array, IPv4 then IPv6, each once."""
    found: Dict[str, str] = {}
    for text in items:
        try:
            item = parse_embedded(text) if isinstance(text, str) else None
        except WSManProtocolError:
            continue
        if item is not None and item.get("Name") in ADDRESS_ITEMS:
            found[str(item["Name"])] = str(item.get("Data") or "")
    result: List[str] = []
    for name in ADDRESS_ITEMS:
        for address in found.get(name, "").split(";"):
            if address.strip() and address.strip() not in result:
                result.append(address.strip())
    return result


def read_guests(cim: CimClient, vm_ids: Iterable[str], addresses: bool = True) -> Dict[str, Guest]:
    """VM GUID (upper case) -> its Guest: one query per class per LOOKUP_CHUNK VMs, the classes read together."""
    ids = sorted({vm_id.strip("{}").upper() for vm_id in vm_ids})
    guests = {vm_id: Guest() for vm_id in ids}
    if not ids:
        return guests
    heartbeats = _queries("Msvm_HeartbeatComponent", ids)
    kvps = _queries("Msvm_KvpExchangeComponent", ids) if addresses else []
    for row in cim.query_all(heartbeats + kvps):
        guest = guests.get(str(row.get("SystemName") or "").strip("{}").upper())
        if guest is None:
            continue
        if row.class_name == "Msvm_HeartbeatComponent":
            status = row.get("OperationalStatus") or []
            guest.heartbeat = status[0] if status and isinstance(status[0], int) else NO_CONTACT
        else:
            guest.addresses = addresses_of(row.get("GuestIntrinsicExchangeItems") or [])
    return guests
