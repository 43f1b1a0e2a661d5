# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vm_power module's body: parameters in, the domain run, one Ansible result out."""

from __future__ import annotations

from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.replica.plugins.module_utils.connection import Connection
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.power import RUNNING, PowerResult, PowerRun, Request
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter
from ansible_collections.hyperv.replica.plugins.module_utils.runners.common import on_host, summary
from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import Retry


def _diff(results: List[PowerResult], entries: List[Dict[str, Any]], desired: str) -> Dict[str, Any]:
    before, after = {}, {}
    for result, entry in zip(results, entries):
        key = "%s (%s)" % (result.vm.name, result.vm.id)
        before[key] = result.vm.power_name
        dry = result.call is not None and result.call.dry_run and result.changed
        after[key] = ("Running" if desired == RUNNING else "Off") if dry else entry["power_state"]
    return {"before": before, "after": after}


def run_vm_power(module: AnsibleModule) -> None:
    params = module.params
    request = Request(vms=params["vms"], desired=params["state"], wait_for=params["wait_for"],
                      shutdown=params["shutdown"], shutdown_timeout=params["shutdown_timeout"],
                      check_mode=module.check_mode, max_concurrent=params["max_concurrent"],
                      allow_unsafe_network=params["allow_unsafe_network"])
    waiter = Waiter(timeout=params["wait_timeout"], interval=params["poll_interval"])

    def work(connection: Connection) -> Dict[str, Any]:
        run = PowerRun(connection.cim, waiter)
        results = run.run(request)
        entries = [r.as_dict(waiter.timestamp) for r in results]
        result: Dict[str, Any] = {
            "changed": any(r.changed for r in results), "vms": entries,
            "msg": summary(results, "started" if request.desired == RUNNING else "stopped"),
            "stats": dict(connection.stats(), polls=run.polls, seconds=round(waiter.elapsed(), 3)),
        }
        for call in (c for r in results for c in r.calls if c.note):
            module.warn("VM %s: %s on it: %s" % (call.label, call.method.name, call.note))
        if module._diff:  # pylint: disable=protected-access
            result["diff"] = _diff(results, entries, request.desired)
        return result

    result = on_host(module, work, request.max_concurrent, Retry(attempts=None, budget=waiter.remaining))
    if any(vm["error"] for vm in result["vms"]):
        module.fail_json(**result)
    module.exit_json(**result)
