# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Msvm_ReplicationRelationship: where a VM's replication state is read from, as Microsoft's own client reads it.

``Msvm_ComputerSystem.ReplicationState`` is deprecated since Windows 8.1 / 2012 R2; the relationship carries the
authoritative state, health and times (hyperv-replica-wmi notes 2.3, 6.1). The Hyper-V PowerShell cmdlets decide from
the relationship whose InstanceID ends in 0 (``Microsoft:<VM GUID>\\HVR\\0``, the VM's own replication), not from the
extended one (``\\HVR\\1``, a replica replicating on), which they read only to prepare a planned failover of an
extended replica (decompiled ``VMReplicationBase`` / ``VMComputerSystemBaseView``). The InstanceID already names the
VM, so the class is queried directly, for many VMs at once, rather than walked per VM from
Msvm_SystemReplicationRelationship.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance
from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import cim_time

# Microsoft:<VM GUID>\HVR (Windows 8) or Microsoft:<VM GUID>\HVR\<n>, n = 0 primary/simple, 1 extended (notes 6.1, 6.2).
_HVR_ID = re.compile(r"^Microsoft:\{?([0-9A-Fa-f-]{36})\}?\\HVR(?:\\(\d+))?$", re.IGNORECASE)


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


def by_vm(items: Iterable[Tuple[str, Any]]) -> Dict[str, Any]:
    """VM GUID -> the item of its own relationship (number 0), else of the lowest number seen.

    A replica that replicates on to an extended replica has two; the VM's own state is that of the first.
    """
    chosen: Dict[str, Any] = {}
    for vm_id, item in items:
        if vm_id and (vm_id not in chosen or item.number < chosen[vm_id].number):
            chosen[vm_id] = item
    return chosen


def queries(class_name: str, vm_ids: Optional[List[str]], chunk: int, condition: Any) -> List[str]:
    """One unfiltered query when every VM is wanted (None); else one per ``chunk`` VMs, ``condition(ids)`` filtering."""
    if vm_ids is None:
        return [wql.select(class_name)]
    return [wql.select(class_name, condition(part)) for part in wql.chunks(sorted(vm_ids), chunk)]


def _their_ids(vm_ids: List[str]) -> str:
    # LIKE on the documented InstanceID shape, Microsoft:<GUID>\HVR\<n>: a GUID has no LIKE wildcard in it
    # (% _ [ ]) and is of fixed length, so the prefix matches that VM's relationships only.
    return "(" + " OR ".join("%s LIKE %s" % (wql.prop("InstanceID"), wql.literal("Microsoft:%s%%" % vm_id))
                             for vm_id in vm_ids) + ")"


def read_relationships(cim: CimClient, vm_ids: Optional[List[str]], chunk: int) -> Dict[str, Relationship]:
    """VM GUID -> its own relationship, for the VMs given (every VM of the host for None)."""
    if vm_ids is not None and not vm_ids:
        return {}
    found = []
    for instance in cim.query_all(queries("Msvm_ReplicationRelationship", vm_ids, chunk, _their_ids)):
        relationship = Relationship.from_instance(instance)
        found.append((owner_of(relationship.id)[0], relationship))
    return by_vm(found)
