# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drill's pre-check: is a VM, as replication_info reports it, fit to be failed over for a drill?

It runs on what replication_info already returned (no request of its own), so the role can check every VM of a
host before failing over any. A VM that fails it is left alone and reported; the others go on. The checks are
the ones a Windows admin makes with Get-VMReplication before a test: the VM is a Replica, it is Replicating, its
health is not Critical, it is off (a running Replica cannot be failed over) and its last replication is recent.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import human_duration, parse_time

REPLICA_MODES = ("Replica", "Extended Replica")
_STATE_ADVICE = {
    "Recovered": "it is already failed over: revert it (state=reverted) or commit it before a drill",
    "Committed": "its failover was committed: reverse replication before it can take part in a drill",
    "Suspended": "resume replication (Resume-VMReplication) first",
    "Failover in progress": "a failover is running on it: wait for it and revert it",
}


def _problems(vm: Dict[str, Any], now: datetime, max_age_minutes: float) -> List[str]:
    problems = []
    mode = vm.get("mode")
    if mode not in REPLICA_MODES:
        problems.append("replication mode is %s: a drill fails over Replica VMs on the replica server" % mode)
    state = vm.get("state")
    if state != "Replicating":
        advice = _STATE_ADVICE.get(state or "", "bring replication back to Replicating first")
        problems.append("replication state is %s, not Replicating: %s" % (state, advice))
    if vm.get("health") == "Critical":
        problems.append("replication health is Critical: check Get-VMReplication / Measure-VMReplication and "
                        "resume or resynchronize replication")
    if vm.get("power_state") != "Off":
        problems.append("the VM is %s: a Replica VM must be off to fail over" % vm.get("power_state"))
    last = parse_time(vm.get("last_replication_time"), strict=True)
    if last is None:
        problems.append("it has never replicated")
    elif (now - last).total_seconds() > max_age_minutes * 60:
        problems.append("last replication was %s ago (allowed: %s)" % (
            human_duration((now - last).total_seconds()), human_duration(max_age_minutes * 60)))
    return problems


def precheck(vm: Dict[str, Any], now: datetime, max_age_minutes: float) -> Dict[str, Any]:
    """The pre-check entry of one VM (the report's ``precheck`` plus its name and id)."""
    problems = _problems(vm, now, max_age_minutes)
    return {
        "name": vm.get("name"), "id": vm.get("id"), "passed": not problems, "problems": problems,
        "mode": vm.get("mode"), "state": vm.get("state"), "health": vm.get("health"),
        "power_state": vm.get("power_state"), "last_replication_time": vm.get("last_replication_time"),
    }


def precheck_all(vms: Iterable[Dict[str, Any]], max_age_minutes: float, replica_only: bool = False,
                 now: Optional[datetime] = None) -> List[Dict[str, Any]]:
    """Pre-check every VM; with ``replica_only`` (no VMs were named) the host's Primary VMs are not drill VMs.

    ``now`` is the controller's time: replication times are the host's, so the two clocks should agree (NTP).
    """
    now = now or datetime.now(timezone.utc)
    return [precheck(vm, now, max_age_minutes) for vm in vms
            if not replica_only or vm.get("mode") in REPLICA_MODES]
