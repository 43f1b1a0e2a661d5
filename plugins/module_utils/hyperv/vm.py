# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Virtual machines (Msvm_ComputerSystem): finding them by name or GUID, and naming their states.

Numbers are the WMI ones (hyperv-replica-wmi notes 2.2-2.4), not PowerShell's, which are off by one.
Caption/Description are localized on real hosts, so VMs are told from the host object by their GUID Name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance, Reference
from ansible_collections.hyperv.replica.plugins.module_utils.errors import HypervError
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.relationships import Relationship, read_relationships
from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import cim_time

REPLICATION_STATES = {
    0: "Disabled", 1: "Ready for replication", 2: "Waiting to complete initial replication", 3: "Replicating",
    4: "Synced replication complete", 5: "Recovered", 6: "Committed", 7: "Suspended", 8: "Critical",
    9: "Waiting to start resynchronization", 10: "Resynchronizing", 11: "Resynchronization suspended",
    12: "Failover in progress", 13: "Failback in progress", 14: "Failback complete",
    15: "Disk update in progress", 16: "Disk update critical", 17: "Unknown",
    18: "Repurpose replication in progress", 19: "Prepared for sync replication",
    20: "Prepared for group reverse replication", 21: "Firedrill in progress",
}
REPLICATION_MODES = {0: "None", 1: "Primary", 2: "Replica", 3: "Test Replica", 4: "Extended Replica"}
POWER_STATES = {
    0: "Unknown", 1: "Other", 2: "Running", 3: "Off", 4: "Stopping", 5: "Not Applicable", 6: "Saved",
    7: "In Test", 8: "Deferred", 9: "Paused", 10: "Starting", 11: "Reset",
}
HEALTH = {0: "Not applicable", 1: "Normal", 2: "Warning", 3: "Critical"}
# FailedOverReplicationType and LastReplicationType (notes 2.4): the kind of point a failover used / last received.
REPLICATION_TYPES = {0: "None", 1: "Regular", 2: "Application consistent", 3: "Planned"}

# Mode and state numbers used by the decisions in replica.py.
MODE_NONE, MODE_PRIMARY, MODE_REPLICA, MODE_TEST_REPLICA, MODE_EXTENDED_REPLICA = 0, 1, 2, 3, 4
REPLICATING, SYNCED_COMPLETE, RECOVERED, COMMITTED = 3, 4, 5, 6
POWER_RUNNING, POWER_OFF = 2, 3

_GUID = re.compile(r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$")
# Conditions per lookup query: a few hundred names fit one request, and Windows caps the envelope.
LOOKUP_CHUNK = 40


class VmLookupError(HypervError):
    """Names that match no VM, or more than one."""


def is_guid(text: str) -> bool:
    return bool(_GUID.match(text.strip()))


def _name(table: Dict[int, str], value: Optional[int]) -> str:
    return table.get(value, "Unknown (%s)" % value) if value is not None else "Unknown"


@dataclass
class VM:  # pylint: disable=too-many-instance-attributes
    id: str
    name: str
    mode: int
    state: int
    power: int
    health: int
    failed_over_type: int = 0
    last_replication_type: int = 0
    last_replication: Optional[datetime] = None
    last_application_consistent: Optional[datetime] = None
    # The VM's own Msvm_ReplicationRelationship, when it has one: the state, health and times above are then its.
    relationship: Optional[Relationship] = field(default=None, repr=False, compare=False)

    @property
    def mode_name(self) -> str:
        return _name(REPLICATION_MODES, self.mode)

    @property
    def state_name(self) -> str:
        return _name(REPLICATION_STATES, self.state)

    @property
    def power_name(self) -> str:
        return _name(POWER_STATES, self.power)

    @property
    def label(self) -> str:
        """How messages name a VM: its display name, and the GUID that makes it unique."""
        return "'%s' (%s)" % (self.name, self.id)

    def reference(self) -> Reference:
        return Reference.to("Msvm_ComputerSystem", CreationClassName="Msvm_ComputerSystem", Name=self.id)

    def take(self, relationship: Relationship) -> None:
        """Decide from the relationship from now on, as Microsoft's client does (relationships.py)."""
        self.relationship = relationship
        self.state, self.health = relationship.state, relationship.health
        self.failed_over_type, self.last_replication_type = (relationship.failed_over_type,
                                                             relationship.last_replication_type)
        self.last_replication = relationship.last_replication
        self.last_application_consistent = relationship.last_application_consistent

    @classmethod
    def from_instance(cls, instance: Instance) -> "VM":
        # The deprecated copies on Msvm_ComputerSystem, still maintained by Windows: what a VM without a
        # relationship (not replicated, a Test Replica, a host before 2012 R2) is decided from.
        return cls(id=str(instance.get("Name") or "").upper(), name=str(instance.get("ElementName") or ""),
                   mode=int(instance.get("ReplicationMode") or 0), state=int(instance.get("ReplicationState") or 0),
                   power=int(instance.get("EnabledState") or 0), health=int(instance.get("ReplicationHealth") or 0),
                   failed_over_type=int(instance.get("FailedOverReplicationType") or 0),
                   last_replication_type=int(instance.get("LastReplicationType") or 0),
                   last_replication=cim_time(instance.get("LastReplicationTime")),
                   last_application_consistent=cim_time(instance.get("LastApplicationConsistentReplicationTime")))


def _with_relationships(cim: CimClient, vms: List[VM], every: bool = False) -> List[VM]:
    """The VMs, each replicated one deciding from its own relationship: one more query for all of them (in chunks),
    or for the whole host when ``every`` VM of it is wanted."""
    replicated = [vm.id for vm in vms if vm.mode != MODE_NONE]
    if replicated:
        found = read_relationships(cim, None if every else replicated, LOOKUP_CHUNK)
        for vm in vms:
            if vm.id in found:
                vm.take(found[vm.id])
    return vms


def _query_vms(cim: CimClient, prop: str, values: List[str]) -> List[VM]:
    queries = [wql.select("Msvm_ComputerSystem", wql.any_equal(prop, chunk)) for chunk in wql.chunks(values, LOOKUP_CHUNK)]
    return [VM.from_instance(i) for i in cim.query_all(queries) if is_guid(str(i.get("Name") or ""))]


def replicated_vms(cim: CimClient) -> List[VM]:
    """Every VM with replication enabled (any ReplicationMode but None), in one query, ordered by name.

    The host's own Msvm_ComputerSystem has a NULL ReplicationMode; it is dropped by its non-GUID Name too, in
    case a host compares NULL differently.
    """
    query = wql.select("Msvm_ComputerSystem", "%s <> 0" % wql.prop("ReplicationMode"))
    vms = [VM.from_instance(i) for i in cim.query(query) if is_guid(str(i.get("Name") or ""))]
    vms = sorted((vm for vm in vms if vm.mode != MODE_NONE), key=lambda vm: (vm.name.lower(), vm.id))
    return _with_relationships(cim, vms, every=True)


def _guid_key(text: str) -> str:
    """GUIDs compare without braces and case, as Windows does."""
    return text.strip().strip("{}").upper()


def read_vms(cim: CimClient, ids: Iterable[str]) -> Dict[str, VM]:
    """Current VMs by GUID (upper case)."""
    wanted = sorted({_guid_key(i) for i in ids})
    return {vm.id: vm for vm in _with_relationships(cim, _query_vms(cim, "Name", wanted))} if wanted else {}


# An account outside the host's Hyper-V Administrators and Administrators groups authenticates and then sees no
# Hyper-V instance at all: WMI filters them out instead of refusing (microsoft/devhome#2476, containers/libhvee#224).
NO_VM_SEEN = ("the host shows no VM at all to this account, which usually means the account lacks the rights to see "
              "them: make it a member of the host's Hyper-V Administrators (or Administrators) group")


def shows_no_vm(cim: CimClient) -> bool:
    """Whether the host shows this account no VM at all (one query, on the error path only)."""
    rows = cim.query(wql.select("Msvm_ComputerSystem"))
    return not any(is_guid(str(row.get("Name") or "")) for row in rows)


def find_vms(cim: CimClient, requested: Iterable[str]) -> List[VM]:
    """Resolve names and GUIDs to VMs, in the order asked, each VM once.

    One query for all GUIDs and one for all names (chunked), never one per VM. Names compare
    case-insensitively, as WQL does on Windows. Raises VmLookupError naming every problem at once.
    """
    asked = [str(r).strip() for r in requested]
    unusable = []
    for item in asked:
        try:
            wql.literal(item)
        except ValueError as exc:
            unusable.append(str(exc))
    if unusable:
        # Before any query: such a name cannot be sent, and no VM has one.
        raise VmLookupError("no VM can have these names: %s" % "; ".join(unusable))
    guids = [_guid_key(a) for a in asked if is_guid(a)]
    names = [a for a in asked if not is_guid(a)]
    by_id = {vm.id: vm for vm in _query_vms(cim, "Name", sorted(set(guids)))} if guids else {}
    by_name: Dict[str, List[VM]] = {}
    for vm in (_query_vms(cim, "ElementName", sorted(set(names))) if names else []):
        by_name.setdefault(vm.name.lower(), []).append(vm)

    result: Dict[str, VM] = {}
    missing: List[str] = []
    ambiguous: List[str] = []
    for item in asked:
        matches = [by_id[_guid_key(item)]] if _guid_key(item) in by_id else by_name.get(item.lower(), [])
        if not matches:
            missing.append(item)
        elif len(matches) > 1:
            ambiguous.append("'%s' matches %d VMs (%s): name them by GUID" % (
                item, len(matches), ", ".join(sorted(vm.id for vm in matches))))
        else:
            result.setdefault(matches[0].id, matches[0])
    problems = []
    if missing:
        problems.append("no VM named or with GUID %s on this host (asked for: %s)" % (
            ", ".join("'%s'" % m for m in missing), ", ".join("'%s'" % a for a in asked)))
        if not result and not ambiguous and shows_no_vm(cim):
            problems.append(NO_VM_SEEN)
    problems.extend(ambiguous)
    if problems:
        raise VmLookupError("; ".join(problems))
    return _with_relationships(cim, list(result.values()))


def test_vms_of(cim: CimClient, replicas: Iterable[VM], known: Optional[Dict[str, VM]] = None,
                every: bool = False) -> Dict[str, VM]:
    """Replica GUID -> its test VM, as Msvm_ReplicaSystemDependency links them (Antecedent the replica, Dependent the
    test VM; test failover's only link: the name "<replica> - Test" proves nothing). One query per LOOKUP_CHUNK
    replicas (one for the whole host with ``every``), then one read of the test VMs not already ``known``."""
    replicas = list(replicas)
    if every:
        queries = [wql.select("Msvm_ReplicaSystemDependency")]
    else:
        paths = [wql.object_path("Msvm_ComputerSystem", {"CreationClassName": "Msvm_ComputerSystem", "Name": vm.id})
                 for vm in replicas]
        queries = [wql.select("Msvm_ReplicaSystemDependency", "(" + " OR ".join(
            "%s = %s" % (wql.prop("Antecedent"), wql.literal(path)) for path in chunk) + ")")
            for chunk in wql.chunks(sorted(set(paths)), LOOKUP_CHUNK)]
    links: Dict[str, str] = {}
    wanted = {vm.id for vm in replicas}
    for row in cim.query_all(queries) if queries else []:
        replica, test = _vm_id(row.get("Antecedent")), _vm_id(row.get("Dependent"))
        if replica and test and (not every or replica in wanted):
            links.setdefault(replica, test)  # Stop-VMFailover takes the first; a cluster may show a stale second
    found = dict(known or {})
    missing = [test for test in links.values() if test not in found]
    if missing:
        found.update(read_vms(cim, missing))
    return {replica: found[test] for replica, test in links.items() if test in found}


def _vm_id(reference: Any) -> str:
    if not isinstance(reference, Reference):
        return ""
    return str(reference.selector("Name") or "").strip("{}").upper()
