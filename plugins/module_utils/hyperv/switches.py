# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's virtual switches, and what each one reaches: external, internal or private.

Msvm_VirtualEthernetSwitch has its GUID in Name and its display name in ElementName (msvm-virtualethernetswitch).
Its kind is not a property; Microsoft's own client (decompiled ``VMSwitch``) works it out from the switch's ports:
ASSOCIATORS OF the switch by Msvm_SystemDevice gives its Msvm_EthernetSwitchPort instances, ASSOCIATORS OF each port
by Msvm_ElementSettingData its Msvm_EthernetPortAllocationSettingData, whose HostResource[0] names what the port
connects to: the host's own Msvm_ComputerSystem (an internal port), anything else (Msvm_ExternalEthernetPort, a
Wi-Fi port) an external one, nothing or a switch a VM's port. External wins over internal; neither is private.
That costs one query per port, so kinds are read only for the switches a decision needs (network_guard.py).
A switch the host does not list has no kind here: network_guard.py counts it ``unknown``, never safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterable, List

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient

EXTERNAL, INTERNAL, PRIVATE, UNKNOWN = "external", "internal", "private", "unknown"
SWITCH_CLASS = "Msvm_VirtualEthernetSwitch"
# The Name key of an object path (not CreationClassName, which ends with the same letters).
_NAME_KEY = re.compile(r'[.,]\s*Name\s*=\s*"([^"]*)"', re.IGNORECASE)


@dataclass(frozen=True)
class Switch:
    id: str      # Name: the switch's GUID, upper case
    name: str    # ElementName: the display name operators use


def read_switches(cim: CimClient) -> List[Switch]:
    """Every virtual switch of the host (one query)."""
    return [Switch(str(row.get("Name") or "").upper(), str(row.get("ElementName") or ""))
            for row in cim.query(wql.select(SWITCH_CLASS))]


def named(switches: Iterable[Switch], name: str) -> List[Switch]:
    """The switches with this display name, whatever its case (Hyper-V allows two with the same name)."""
    return [switch for switch in switches if switch.name.lower() == name.lower()]


def switch_id_in(path: str) -> str:
    """The GUID of the switch an object path names (HostResource[0] of a VM's connection), or "" if it names none."""
    if SWITCH_CLASS.lower() not in path.lower():
        return ""
    match = _NAME_KEY.search(path)
    return match.group(1).upper() if match else ""


def _kind_of_resource(path: str) -> str:
    """What a port's HostResource[0] makes it: the host (internal), a NIC (external), or a VM's port ("")."""
    low = path.lower()
    if not low or SWITCH_CLASS.lower() in low:
        return ""
    return INTERNAL if ":msvm_computersystem." in low else EXTERNAL


def switch_kinds(cim: CimClient, switches: Iterable[Switch]) -> Dict[str, str]:
    """Switch GUID -> external | internal | private, read as Microsoft's client reads it (see the module doc)."""
    kinds: Dict[str, str] = {}
    for switch in switches:
        path = {"CreationClassName": SWITCH_CLASS, "Name": switch.id}
        ports = cim.query(wql.associators(SWITCH_CLASS, path, "Msvm_SystemDevice", "Msvm_EthernetSwitchPort"))
        queries = [wql.associators("Msvm_EthernetSwitchPort", {
            "CreationClassName": str(port.get("CreationClassName") or ""), "DeviceID": str(port.get("DeviceID") or ""),
            "SystemCreationClassName": str(port.get("SystemCreationClassName") or ""),
            "SystemName": str(port.get("SystemName") or "")}, "Msvm_ElementSettingData",
            "Msvm_EthernetPortAllocationSettingData") for port in ports]
        found = set()
        for settings in cim.query_all(queries):
            resource = settings.get("HostResource") or []
            found.add(_kind_of_resource(str(resource[0]) if resource else ""))
        kinds[switch.id] = EXTERNAL if EXTERNAL in found else INTERNAL if INTERNAL in found else PRIVATE
    return kinds
