# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recovery points: the Replica-type Msvm_VirtualSystemSettingData of a VM, and choosing one.

They hang off the VM through Msvm_SnapshotOfVirtualSystem (hyperv-replica-wmi notes, section 5);
other snapshot types (the active settings, ordinary checkpoints) are not recovery points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance, Reference
from ansible_collections.hyperv.replica.plugins.module_utils.errors import HypervError
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import LOOKUP_CHUNK, VM
from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import iso_utc

LATEST = "latest"
_NEVER = datetime.min.replace(tzinfo=timezone.utc)
LATEST_APPLICATION_CONSISTENT = "latest_application_consistent"

# VirtualSystemType -> (our name, FailedOverReplicationType Windows records for a failover to it).
TYPES = {
    "Microsoft:Hyper-V:Snapshot:Replica:Standard": ("standard", 1),
    "Microsoft:Hyper-V:Snapshot:Replica:ApplicationConsistent": ("application_consistent", 2),
    "Microsoft:Hyper-V:Snapshot:Replica:PlannedFailover": ("planned_failover", 3),
}


class RecoveryPointError(HypervError):
    """The requested point does not exist for this VM."""


@dataclass
class RecoveryPoint:
    id: str
    name: str
    type: str
    created: Optional[datetime]
    vm_id: str = ""

    def reference(self) -> Reference:
        return Reference.to("Msvm_VirtualSystemSettingData", InstanceID=self.id)

    def as_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "name": self.name, "type": self.type, "created": iso_utc(self.created)}

    def describe(self) -> str:
        return "%s [%s, %s, %s]" % (self.name, self.id, self.type, iso_utc(self.created) or "?")

    @classmethod
    def from_instance(cls, instance: Instance) -> Optional["RecoveryPoint"]:
        kind = TYPES.get(str(instance.get("VirtualSystemType") or ""))
        if not kind:
            return None
        created = instance.get("CreationTime")
        return cls(id=str(instance.get("InstanceID") or ""), name=str(instance.get("ElementName") or ""),
                   type=kind[0], created=created if isinstance(created, datetime) else None,
                   vm_id=str(instance.get("VirtualSystemIdentifier") or "").strip("{}").upper())


def newest_first(points: Iterable[RecoveryPoint]) -> List[RecoveryPoint]:
    return sorted(points, key=lambda p: (p.created or _NEVER, p.name), reverse=True)


def list_recovery_points(cim: CimClient, vm: VM) -> List[RecoveryPoint]:
    """One VM's recovery points, newest first, over the association (one request per VM; see points_by_vm)."""
    query = wql.associators("Msvm_ComputerSystem", {"CreationClassName": "Msvm_ComputerSystem", "Name": vm.id},
                            "Msvm_SnapshotOfVirtualSystem", "Msvm_VirtualSystemSettingData")
    points = [p for p in (RecoveryPoint.from_instance(i) for i in cim.query(query)) if p]
    return newest_first(points)


def _replica_types() -> str:
    return wql.any_equal("VirtualSystemType", sorted(TYPES))


def points_by_vm(cim: CimClient, vm_ids: Optional[Iterable[str]] = None) -> Dict[str, List[RecoveryPoint]]:
    """Recovery points of many VMs at once, by VM GUID (upper case), each list newest first.

    One WQL query on Msvm_VirtualSystemSettingData filtered by the three Replica VirtualSystemTypes (and by
    VirtualSystemIdentifier, in chunks, when ``vm_ids`` is given) instead of an ASSOCIATORS OF query per VM:
    VirtualSystemIdentifier is the VM's GUID (notes section 5), so the association adds nothing but requests.
    ``vm_ids=None`` reads every VM's points. A VM without points is absent from the answer.
    """
    if vm_ids is None:
        queries = [wql.select("Msvm_VirtualSystemSettingData", _replica_types())]
    else:
        ids = sorted({i.strip("{}").upper() for i in vm_ids})
        queries = [wql.select("Msvm_VirtualSystemSettingData", "%s AND %s" % (
            _replica_types(), wql.any_equal("VirtualSystemIdentifier", chunk)))
            for chunk in wql.chunks(ids, LOOKUP_CHUNK)]
    found: Dict[str, List[RecoveryPoint]] = {}
    for point in (RecoveryPoint.from_instance(i) for i in cim.query_all(queries)):
        if point:
            found.setdefault(point.vm_id, []).append(point)
    return {vm_id: newest_first(points) for vm_id, points in found.items()}


def find_point(cim: CimClient, choice: str) -> Optional[RecoveryPoint]:
    """The recovery point of any VM whose InstanceID or name is ``choice``: only to explain an error."""
    where = "%s AND (%s OR %s)" % (_replica_types(), wql.any_equal("InstanceID", [choice]),
                                   wql.any_equal("ElementName", [choice]))
    points = [p for p in (RecoveryPoint.from_instance(i) for i in cim.query(
        wql.select("Msvm_VirtualSystemSettingData", where))) if p]
    return points[0] if points else None


def _listing(points: List[RecoveryPoint]) -> str:
    return "; ".join(p.describe() for p in points) or "none"


def choose(points: List[RecoveryPoint], vm: VM, choice: str, before: Optional[datetime] = None,
           owner: str = "") -> RecoveryPoint:
    """The point to fail over to; ``points`` newest first. Errors list what the VM has.

    ``before`` picks the newest point taken at or before it; otherwise ``choice`` is
    ``latest_application_consistent``, an InstanceID, or an exact name. ``owner`` names the VM that does have a
    point of that id or name, when the caller looked it up, to say so.
    """
    if before is not None:
        matches = [p for p in points if p.created and p.created <= before]
        what = "no recovery point taken at or before %s" % iso_utc(before)
    elif choice == LATEST_APPLICATION_CONSISTENT:
        matches = [p for p in points if p.type == "application_consistent"]
        what = "no application-consistent recovery point"
    else:
        wanted = choice.strip().lower()
        matches = [p for p in points if p.id.lower() == wanted or p.name == choice]
        what = "no recovery point with id or name '%s'" % choice
        if owner:
            what += " (that is a recovery point of VM %s)" % owner
    if matches:
        return matches[0]
    raise RecoveryPointError("VM %s has %s: choose one of its points (%s), or recovery_point=latest"
                             % (vm.label, what, _listing(points)))
