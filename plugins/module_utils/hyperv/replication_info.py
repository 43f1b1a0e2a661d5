# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the replication_info module reads: each VM's replication, its settings and its recovery points.

Every class is read with one WQL query for all the VMs (chunked when a list of VMs is given), never one
request per VM, so the cost of a report does not grow with the number of VMs (hyperv-replica-wmi notes 2.5, 5, 6):

* Msvm_ComputerSystem: the VMs, their mode and power state (and the deprecated replication copies).
* Msvm_ReplicationRelationship: state, health and times. Windows reaches it from the VM through
  Msvm_SystemReplicationRelationship, but its InstanceID (``Microsoft:<VM GUID>\\HVR\\<0|1>``) already names the
  VM, so the class is queried directly rather than walked per VM.
* Msvm_ReplicationSettingData: servers and interval; its VirtualSystemIdentifier is the VM GUID.
* Msvm_VirtualSystemSettingData of the three Replica types: the recovery points (recovery_points.points_by_vm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import recovery_points
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import (
    HEALTH, LOOKUP_CHUNK, MODE_NONE, REPLICATION_STATES, REPLICATION_TYPES, VM, find_vms, replicated_vms)
from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import cim_time, iso_utc

# Microsoft:<VM GUID>\HVR (Windows 8) or Microsoft:<VM GUID>\HVR\<n>, n = 0 primary/simple, 1 extended (notes 6.1, 6.2).
_HVR_ID = re.compile(r"^Microsoft:\{?([0-9A-Fa-f-]{36})\}?\\HVR(?:\\(\d+))?$", re.IGNORECASE)


def _name(table: Dict[int, str], value: int) -> str:
    return table.get(value, "Unknown (%s)" % value)


def owner_of(instance_id: str) -> Tuple[str, int]:
    """(VM GUID upper case, relationship number) from an HVR InstanceID; ("", 0) when it has another shape."""
    match = _HVR_ID.match(instance_id.strip())
    if not match:
        return "", 0
    return match.group(1).upper(), int(match.group(2) or 0)


@dataclass
class Relationship:  # pylint: disable=too-many-instance-attributes
    """One Msvm_ReplicationRelationship: the authoritative state since 2012 R2 (notes 2.3, 6.1)."""

    id: str
    number: int
    state: int
    health: int
    failed_over_type: int
    last_replication_type: int
    last_replication: Optional[datetime]
    last_application_consistent: Optional[datetime]
    last_apply: Optional[datetime]

    @classmethod
    def from_instance(cls, instance: Instance) -> "Relationship":
        instance_id = str(instance.get("InstanceID") or "")
        return cls(id=instance_id, number=owner_of(instance_id)[1],
                   state=int(instance.get("ReplicationState") or 0),
                   health=int(instance.get("ReplicationHealth") or 0),
                   failed_over_type=int(instance.get("FailedOverReplicationType") or 0),
                   last_replication_type=int(instance.get("LastReplicationType") or 0),
                   last_replication=cim_time(instance.get("LastReplicationTime")),
                   last_application_consistent=cim_time(instance.get("LastApplicationConsistentReplicationTime")),
                   last_apply=cim_time(instance.get("LastApplyTime")))


@dataclass
class Settings:
    """The parts of Msvm_ReplicationSettingData an operator asks about (notes 6.2)."""

    number: int
    primary_server: Optional[str]
    replica_server: Optional[str]
    interval: Optional[int]

    @classmethod
    def from_instance(cls, instance: Instance) -> "Settings":
        def text(*props: str) -> Optional[str]:
            return next((str(instance[p]) for p in props if instance.get(p)), None)

        # As Get-VMReplication reports them: PrimaryServer is PrimaryHostSystem (else the connection point),
        # ReplicaServer is RecoveryConnectionPoint (a cluster's broker name), else the host running the replica.
        interval = instance.get("ReplicationInterval")
        return cls(number=owner_of(str(instance.get("InstanceID") or ""))[1],
                   primary_server=text("PrimaryHostSystem", "PrimaryConnectionPoint"),
                   replica_server=text("RecoveryConnectionPoint", "RecoveryHostSystem"),
                   interval=interval if isinstance(interval, int) else None)


@dataclass
class VmInfo:
    """One VM as replication_info reports it."""

    vm: VM
    relationship: Optional[Relationship] = None
    settings: Optional[Settings] = None
    points: Optional[List[recovery_points.RecoveryPoint]] = None

    def as_dict(self) -> Dict[str, Any]:
        rel, vm, settings = self.relationship, self.vm, self.settings
        # The relationship where it exists; the deprecated Msvm_ComputerSystem copies otherwise (a Test Replica,
        # a VM that is not replicated, or a host older than 2012 R2).
        state = rel.state if rel else vm.state
        result: Dict[str, Any] = {
            "name": vm.name, "id": vm.id, "power_state": vm.power_name, "mode": vm.mode_name,
            "state": _name(REPLICATION_STATES, state), "state_code": state,
            "health": _name(HEALTH, rel.health if rel else vm.health),
            "last_replication_time": iso_utc(rel.last_replication if rel else vm.last_replication),
            "last_application_consistent_replication_time": iso_utc(
                rel.last_application_consistent if rel else vm.last_application_consistent),
            "last_replication_type": _name(REPLICATION_TYPES,
                                           rel.last_replication_type if rel else vm.last_replication_type),
            "failed_over_type": _name(REPLICATION_TYPES, rel.failed_over_type if rel else vm.failed_over_type),
            "primary_server": settings.primary_server if settings else None,
            "replica_server": settings.replica_server if settings else None,
            "replication_interval": settings.interval if settings else None,
        }
        if self.points is not None:
            result["recovery_points"] = [p.as_dict() for p in self.points]
        return result


def _by_vm(items: Iterable[Tuple[str, Any]]) -> Dict[str, Any]:
    """VM GUID -> the item of its primary (number 0) relationship, else of the lowest number seen.

    A replica that replicates on to an extended replica has two; the VM's own state is that of the first.
    """
    chosen: Dict[str, Any] = {}
    for vm_id, item in items:
        if vm_id and (vm_id not in chosen or item.number < chosen[vm_id].number):
            chosen[vm_id] = item
    return chosen


def _queries(class_name: str, vm_ids: Optional[List[str]], condition: Callable[[List[str]], str]) -> List[str]:
    """One unfiltered query when every VM is wanted; else one per chunk of VMs, ``condition(chunk)`` filtering."""
    if vm_ids is None:
        return [wql.select(class_name)]
    return [wql.select(class_name, condition(chunk)) for chunk in wql.chunks(sorted(vm_ids), LOOKUP_CHUNK)]


def read_relationships(cim: CimClient, vm_ids: Optional[List[str]]) -> Dict[str, Relationship]:
    def condition(chunk: List[str]) -> str:
        # LIKE on the documented InstanceID shape, Microsoft:<GUID>\HVR\<n>: a GUID has no LIKE wildcard in it
        # (% _ [ ]) and is of fixed length, so the prefix matches that VM's relationships only.
        return "(" + " OR ".join("%s LIKE %s" % (wql.prop("InstanceID"), wql.literal("Microsoft:%s%%" % vm_id))
                                 for vm_id in chunk) + ")"

    found = []
    for instance in cim.query_all(_queries("Msvm_ReplicationRelationship", vm_ids, condition)):
        relationship = Relationship.from_instance(instance)
        found.append((owner_of(relationship.id)[0], relationship))
    return _by_vm(found)


def read_settings(cim: CimClient, vm_ids: Optional[List[str]]) -> Dict[str, Settings]:
    found = []
    for instance in cim.query_all(_queries("Msvm_ReplicationSettingData", vm_ids,
                                           lambda chunk: wql.any_equal("VirtualSystemIdentifier", chunk))):
        vm_id = str(instance.get("VirtualSystemIdentifier") or "").strip("{}").upper()
        found.append((vm_id, Settings.from_instance(instance)))
    return _by_vm(found)


def read_info(cim: CimClient, selection: Optional[List[str]] = None, with_points: bool = True) -> List[VmInfo]:
    """The VMs asked for (names or GUIDs, in that order), or every replicated VM by name when ``selection`` is None.

    A VM that is not replicated, asked for by name, is reported with mode None and no settings; a name that
    matches no VM, or several, raises VmLookupError as the failover module does.
    """
    vms = replicated_vms(cim) if selection is None else find_vms(cim, selection)
    replicated = [vm.id for vm in vms if vm.mode != MODE_NONE]
    if not replicated:
        return [VmInfo(vm=vm, points=[] if with_points else None) for vm in vms]
    # All replicated VMs of the host: the classes unfiltered, one query each. A list: filtered, in chunks.
    wanted: Optional[List[str]] = None if selection is None else replicated
    relationships = read_relationships(cim, wanted)
    settings = read_settings(cim, wanted)
    points = recovery_points.points_by_vm(cim, wanted) if with_points else {}
    return [VmInfo(vm=vm, relationship=relationships.get(vm.id), settings=settings.get(vm.id),
                   points=points.get(vm.id, []) if with_points else None) for vm in vms]
