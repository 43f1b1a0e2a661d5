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
from typing import Any, Dict, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim import CimClient, Instance, Reference
from ansible_collections.hyperv.replica.plugins.module_utils.vm import VM

LATEST = "latest"
_NEVER = datetime.min.replace(tzinfo=timezone.utc)
LATEST_APPLICATION_CONSISTENT = "latest_application_consistent"

# VirtualSystemType -> (our name, FailedOverReplicationType Windows records for a failover to it).
TYPES = {
    "Microsoft:Hyper-V:Snapshot:Replica:Standard": ("standard", 1),
    "Microsoft:Hyper-V:Snapshot:Replica:ApplicationConsistent": ("application_consistent", 2),
    "Microsoft:Hyper-V:Snapshot:Replica:PlannedFailover": ("planned_failover", 3),
}


class RecoveryPointError(Exception):
    """The requested point does not exist for this VM."""


@dataclass
class RecoveryPoint:
    id: str
    name: str
    type: str
    created: Optional[datetime]

    def reference(self) -> Reference:
        return Reference.to("Msvm_VirtualSystemSettingData", InstanceID=self.id)

    def as_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "name": self.name, "type": self.type,
                "created": self.created.isoformat() if self.created else None}

    @classmethod
    def from_instance(cls, instance: Instance) -> Optional["RecoveryPoint"]:
        kind = TYPES.get(str(instance.get("VirtualSystemType") or ""))
        if not kind:
            return None
        created = instance.get("CreationTime")
        return cls(id=str(instance.get("InstanceID") or ""), name=str(instance.get("ElementName") or ""),
                   type=kind[0], created=created if isinstance(created, datetime) else None)


def list_recovery_points(cim: CimClient, vm: VM) -> List[RecoveryPoint]:
    """The VM's recovery points, newest first."""
    query = wql.associators("Msvm_ComputerSystem", {"CreationClassName": "Msvm_ComputerSystem", "Name": vm.id},
                            "Msvm_SnapshotOfVirtualSystem", "Msvm_VirtualSystemSettingData")
    points = [p for p in (RecoveryPoint.from_instance(i) for i in cim.query(query)) if p]
    return sorted(points, key=lambda p: p.created or _NEVER, reverse=True)


def choose(points: List[RecoveryPoint], vm: VM, choice: str) -> RecoveryPoint:
    """``latest_application_consistent``, an InstanceID, or an exact name; errors list what exists."""
    if choice == LATEST_APPLICATION_CONSISTENT:
        matches = [p for p in points if p.type == "application_consistent"]
    else:
        wanted = choice.strip().lower()
        matches = [p for p in points if p.id.lower() == wanted or p.name == choice]
    if matches:
        return matches[0]
    what = "no application-consistent recovery point" if choice == LATEST_APPLICATION_CONSISTENT \
        else "no recovery point with id or name '%s'" % choice
    listing = "; ".join("%s [%s, %s, %s]" % (p.name, p.id, p.type, p.created.isoformat() if p.created else "?")
                        for p in points) or "none"
    raise RecoveryPointError("VM %s has %s: choose one of its points (%s), or recovery_point=latest"
                             % (vm.label, what, listing))
