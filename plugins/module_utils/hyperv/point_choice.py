# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Choosing each VM's recovery point for a failover or a test failover, the same way for both.

The options (``recovery_point``, ``recovery_point_before``) are read from a request that has them (failover.Request,
test_failover.Request); each result gets its point (``point``, ``recovery_point``) and its last step the
``SnapshotSettingData`` input, or a ``problem`` naming the points the VM has (and which VM has a point given by
another VM's id or name).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import recovery_points
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VM, read_vms

# What a failover to the latest point in time (SnapshotSettingData NULL) reports as its recovery point.
LATEST_POINT = {"id": None, "name": "latest", "type": "latest", "created": None}


class PointOptions:
    """What a request with the recovery point options (failover.Request, test_failover.Request) can say of them."""

    recovery_point: str
    # The newest point taken at or before this time (aware); excludes a recovery_point other than latest.
    recovery_point_before: Optional[datetime]

    @property
    def picks_a_point(self) -> bool:
        """Whether a recovery point must be read from the host (anything but the latest point in time)."""
        return self.recovery_point_before is not None or self.recovery_point != recovery_points.LATEST

    @property
    def names_a_point(self) -> bool:
        """Whether recovery_point is a point's InstanceID or name (not latest / latest_application_consistent)."""
        return self.recovery_point_before is None and self.recovery_point not in (
            recovery_points.LATEST, recovery_points.LATEST_APPLICATION_CONSISTENT)


class PointChooser:
    """The points of one run: one query for every VM's points, and an owner looked up once per unknown id."""

    def __init__(self, cim: CimClient) -> None:
        self.cim = cim
        # Recovery point id or name -> label of the VM that has it ("" for none), looked up once per run.
        self._owners: Dict[str, str] = {}

    def choose(self, failing_over: Sequence[Any], request: PointOptions) -> None:
        """Pick each VM's recovery point before anything starts (in check mode too: a wrong point is the same
        mistake there). The points of all these VMs come in one query, not one per VM."""
        if not failing_over:
            return
        if not request.picks_a_point:
            for result in failing_over:
                result.recovery_point = dict(LATEST_POINT)
            return
        by_vm = recovery_points.points_by_vm(self.cim, [r.vm.id for r in failing_over])
        for result in failing_over:
            try:
                point = self._choose(by_vm.get(result.vm.id, []), result.vm, request, [r.vm for r in failing_over])
            except recovery_points.RecoveryPointError as exc:
                result.problem = str(exc)
                continue
            result.point = point
            result.recovery_point = point.as_dict()
            result.plan.complete(SnapshotSettingData=point.reference())

    def _choose(self, points: List[recovery_points.RecoveryPoint], vm: VM, request: PointOptions,
                known: List[VM]) -> recovery_points.RecoveryPoint:
        try:
            return recovery_points.choose(points, vm, request.recovery_point, request.recovery_point_before)
        except recovery_points.RecoveryPointError:
            if not request.names_a_point:
                raise
            # An id or name that is another VM's point is the usual slip when copying ids around: say whose it is.
            owner = self._owner_of(request.recovery_point, vm, known)
            return recovery_points.choose(points, vm, request.recovery_point, owner=owner)  # raises, with the owner

    def _owner_of(self, choice: str, vm: VM, known: List[VM]) -> str:
        """The label of the VM that has a point with this id or name, "" if none: looked up once per run, on the
        error path only (two queries at most)."""
        if choice not in self._owners:
            self._owners[choice] = self._find_owner(choice, known)
        owner = self._owners[choice]
        return "" if owner in ("", vm.label, vm.id) else owner

    def _find_owner(self, choice: str, known: List[VM]) -> str:
        try:
            found = recovery_points.find_point(self.cim, choice)
        except ValueError:  # a value no WQL literal can carry: it cannot be anyone's point either
            return ""
        if found is None or not found.vm_id:
            return ""
        owner = next((other for other in known if other.id == found.vm_id), None)
        if owner is None:
            owner = read_vms(self.cim, [found.vm_id]).get(found.vm_id)
        return owner.label if owner else found.vm_id
