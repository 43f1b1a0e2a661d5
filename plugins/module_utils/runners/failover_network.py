# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover_network module's body: parameters in, the domain run, one Ansible result out."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.replica.plugins.module_utils.connection import Connection
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.adapters import Adapter, adapter_view
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.failover_network import (
    AdapterChange, FailoverNetworkRun, NetworkResult, normalized, parse_wishes)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter
from ansible_collections.hyperv.replica.plugins.module_utils.runners.common import on_host, summary
from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import Retry


def _adapter(run: FailoverNetworkRun, adapter: Adapter) -> Dict[str, Any]:
    """An adapter as the host holds it."""
    return adapter_view(adapter, {s.id: s.name for s in run.switches})


def _after(run: FailoverNetworkRun, result: NetworkResult, change: AdapterChange, check_mode: bool) -> Dict[str, Any]:
    """The adapter after the task: read back when it was changed, what would be set in check mode."""
    read: Optional[Adapter] = next((a for a in result.after_adapters or [] if a.nic_id == change.adapter.nic_id),
                                   None)
    entry = _adapter(run, read or change.adapter)
    if check_mode and not result.error:
        if change.failover_differs and change.failover is not None:
            entry["failover"] = normalized(change.failover).as_dict()
        if change.test_switch_differs:
            entry["test_switch"] = change.test_switch
    return entry


def _entry(run: FailoverNetworkRun, result: NetworkResult, check_mode: bool) -> Dict[str, Any]:
    adapters = []
    for change in result.changes:
        entry = _after(run, result, change, check_mode)
        entry["changed"] = result.changed and (change.failover_differs or change.test_switch_differs)
        adapters.append(entry)
    return {"name": result.vm.name, "id": result.vm.id, "changed": result.changed, "mode": result.vm.mode_name,
            "adapters": adapters, "error": result.error or None}


def _diff(run: FailoverNetworkRun, results: List[NetworkResult], entries: List[Dict[str, Any]]) -> Dict[str, Any]:
    before: Dict[str, Any] = {}
    after: Dict[str, Any] = {}
    for result, entry in zip(results, entries):
        key = "%s (%s)" % (result.vm.name, result.vm.id)
        before[key] = {c.adapter.name: {k: v for k, v in _adapter(run, c.adapter).items() if k != "name"}
                       for c in result.changes}
        after[key] = {a["name"]: {k: v for k, v in a.items() if k not in ("name", "changed")}
                      for a in entry["adapters"]}
    return {"before": before, "after": after}


def run_failover_network(module: AnsibleModule) -> None:
    params = module.params
    waiter = Waiter(timeout=params["wait_timeout"], interval=params["poll_interval"])

    def work(connection: Connection) -> Dict[str, Any]:
        wishes = parse_wishes(params["vms"])
        run = FailoverNetworkRun(connection.cim, waiter)
        results = run.run(wishes, module.check_mode, params["max_concurrent"])
        entries = [_entry(run, r, module.check_mode) for r in results]
        result: Dict[str, Any] = {
            "changed": any(r.changed for r in results), "vms": entries, "msg": summary(results, "changed"),
            "stats": dict(connection.stats(), polls=run.converge.polls, seconds=round(waiter.elapsed(), 3)),
        }
        for call in (c for r in results for c in r.calls if c.note):
            module.warn("VM %s: %s on it: %s" % (call.label, call.method.name, call.note))
        if module._diff:  # pylint: disable=protected-access
            result["diff"] = _diff(run, results, entries)
        return result

    result = on_host(module, work, params["max_concurrent"], Retry(attempts=None, budget=waiter.remaining))
    if any(vm["error"] for vm in result["vms"]):
        module.fail_json(**result)
    module.exit_json(**result)
