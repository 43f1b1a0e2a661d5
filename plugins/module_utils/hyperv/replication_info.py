# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the replication_info module reads: each VM's replication, its settings and its recovery points.

Every class is read with one WQL query for all the VMs (chunked when a list of VMs is given), never one
request per VM, so the cost of a report does not grow with the number of VMs (hyperv-replica-wmi notes 2.5, 5, 6):

* Msvm_ComputerSystem: the VMs, their mode and power state, and with them (vm.py, relationships.py) their
  Msvm_ReplicationRelationship: state, health and times.
* Msvm_ReplicationSettingData: servers and interval; its VirtualSystemIdentifier is the VM GUID.
* Msvm_VirtualSystemSettingData of the three Replica types: the recovery points (recovery_points.points_by_vm).
* Msvm_ReplicaSystemDependency: each replica's test VM (vm.test_vms_of), read with the VMs when not listed already.
* Each VM's network adapters, their switch, test switch and failover TCP/IP settings (adapters.py), and the host's
  switches for their names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import recovery_points
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.adapters import adapter_view, read_adapters
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.relationships import by_vm, owner_of, queries
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import (
    HEALTH, LOOKUP_CHUNK, MODE_EXTENDED_REPLICA, MODE_NONE, MODE_REPLICA, REPLICATION_TYPES, VM, find_vms,
    replicated_vms, test_vms_of)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.switches import read_switches
from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import iso_utc


def _name(table: Dict[int, str], value: int) -> str:
    return table.get(value, "Unknown (%s)" % value)


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
    """One VM as replication_info reports it: the VM (its state, health and times are its relationship's where it has
    one, relationships.py; the deprecated Msvm_ComputerSystem copies otherwise: a Test Replica, a VM that is not
    replicated, a host older than 2012 R2), its settings and its recovery points."""

    vm: VM
    settings: Optional[Settings] = None
    points: Optional[List[recovery_points.RecoveryPoint]] = None
    test_vm: Optional[VM] = None
    # Each network adapter: its switch, its test switch and its failover TCP/IP settings (adapters.adapter_view).
    adapters: List[Dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        vm, settings = self.vm, self.settings
        result: Dict[str, Any] = {
            "name": vm.name, "id": vm.id, "power_state": vm.power_name, "mode": vm.mode_name,
            "state": vm.state_name, "state_code": vm.state, "health": _name(HEALTH, vm.health),
            "last_replication_time": iso_utc(vm.last_replication),
            "last_application_consistent_replication_time": iso_utc(vm.last_application_consistent),
            "last_replication_type": _name(REPLICATION_TYPES, vm.last_replication_type),
            "failed_over_type": _name(REPLICATION_TYPES, vm.failed_over_type),
            "primary_server": settings.primary_server if settings else None,
            "replica_server": settings.replica_server if settings else None,
            "replication_interval": settings.interval if settings else None,
            "test_vm": ({"name": self.test_vm.name, "id": self.test_vm.id, "power_state": self.test_vm.power_name}
                        if self.test_vm else None),
            "adapters": list(self.adapters),
        }
        if self.points is not None:
            result["recovery_points"] = [p.as_dict() for p in self.points]
        return result


def read_settings(cim: CimClient, vm_ids: Optional[List[str]]) -> Dict[str, Settings]:
    found = []
    for instance in cim.query_all(queries("Msvm_ReplicationSettingData", vm_ids, LOOKUP_CHUNK,
                                          lambda chunk: wql.any_equal("VirtualSystemIdentifier", chunk))):
        vm_id = str(instance.get("VirtualSystemIdentifier") or "").strip("{}").upper()
        found.append((vm_id, Settings.from_instance(instance)))
    return by_vm(found)


def read_info(cim: CimClient, selection: Optional[List[str]] = None, with_points: bool = True) -> List[VmInfo]:
    """The VMs asked for (names or GUIDs, in that order), or every replicated VM by name when ``selection`` is None.

    A VM that is not replicated, asked for by name, is reported with mode None and no settings; a name that
    matches no VM, or several, raises VmLookupError as the failover module does.
    """
    vms = replicated_vms(cim) if selection is None else find_vms(cim, selection)
    adapters = _adapters(cim, vms)
    replicated = [vm.id for vm in vms if vm.mode != MODE_NONE]
    if not replicated:
        return [VmInfo(vm=vm, points=[] if with_points else None, adapters=adapters.get(vm.id.upper(), []))
                for vm in vms]
    # All replicated VMs of the host: the classes unfiltered, one query each. A list: filtered, in chunks.
    wanted: Optional[List[str]] = None if selection is None else replicated
    settings = read_settings(cim, wanted)
    points = recovery_points.points_by_vm(cim, wanted) if with_points else {}
    replicas = [vm for vm in vms if vm.mode in (MODE_REPLICA, MODE_EXTENDED_REPLICA)]
    tests = test_vms_of(cim, replicas, known={vm.id: vm for vm in vms}, every=selection is None) if replicas else {}
    return [VmInfo(vm=vm, settings=settings.get(vm.id), points=points.get(vm.id, []) if with_points else None,
                   test_vm=tests.get(vm.id), adapters=adapters.get(vm.id.upper(), [])) for vm in vms]


def _adapters(cim: CimClient, vms: List[VM]) -> Dict[str, List[Dict[str, object]]]:
    """Each VM's adapters as reported (one query per class per 40 VMs, and one for the switches' names)."""
    if not vms:
        return {}
    names = {switch.id: switch.name for switch in read_switches(cim)}
    return {vm_id: [adapter_view(a, names) for a in found] for vm_id, found in read_adapters(cim, vms).items()}
