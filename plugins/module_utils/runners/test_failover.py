# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test_failover module's body: parameters in, the domain run, one Ansible result out."""

from __future__ import annotations

from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.replica.plugins.module_utils.connection import Connection
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import recovery_points
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.test_failover import (
    PRESENT, Request, TestFailoverResult, TestFailoverRun)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter
from ansible_collections.hyperv.replica.plugins.module_utils.runners.common import on_host, point_before, summary
from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import Retry


def _describe(result: TestFailoverResult, test: Any) -> str:
    if test is None:
        return "no test VM"
    return "test VM %s (%s, %s)" % (test["name"], test["id"], test["power_state"])


def _diff(results: List[TestFailoverResult], entries: List[Dict[str, Any]], desired: str) -> Dict[str, Any]:
    before, after = {}, {}
    for result, entry in zip(results, entries):
        key = "%s (%s)" % (result.vm.name, result.vm.id)
        found = result.test_vm
        before[key] = _describe(result, {"name": found.name, "id": found.id, "power_state": found.power_name}
                                if found else None)
        after[key] = _describe(result, entry["test_vm"])
        dry = result.call is not None and result.call.dry_run
        if result.changed and dry and desired == PRESENT:
            after[key] = "a test VM (would be created)"
        elif result.changed and dry:
            after[key] = "no test VM (would be removed)"
    return {"before": before, "after": after}


def _request(module: AnsibleModule) -> Request:
    params = module.params
    before = point_before(module)
    return Request(vms=params["vms"], desired=params["state"],
                   recovery_point=params["recovery_point"] or recovery_points.LATEST, recovery_point_before=before,
                   wait=params["wait"], check_mode=module.check_mode, max_concurrent=params["max_concurrent"])


def run_test_failover(module: AnsibleModule) -> None:
    request = _request(module)
    waiter = Waiter(timeout=module.params["wait_timeout"], interval=module.params["poll_interval"])

    def work(connection: Connection) -> Dict[str, Any]:
        run = TestFailoverRun(connection.cim, waiter)
        results = run.run(request)
        entries = [r.as_dict(waiter.timestamp) for r in results]
        result: Dict[str, Any] = {
            "changed": any(r.changed for r in results), "vms": entries,
            "msg": summary(results, "given a test VM" if request.desired == PRESENT else "rid of their test VM"),
            "stats": dict(connection.stats(), polls=run.polls, seconds=round(waiter.elapsed(), 3)),
        }
        for call in (c for r in results for c in r.calls if c.note):
            module.warn("VM %s: %s on it: %s" % (call.label, call.method.name, call.note))
        if module._diff:  # pylint: disable=protected-access
            result["diff"] = _diff(results, entries, request.desired)
        return result

    # Reads, and calls whose answer was lost, are tried again for as long as wait_timeout lasts (retry.py).
    result = on_host(module, work, request.max_concurrent, Retry(attempts=None, budget=waiter.remaining))
    if any(vm["error"] for vm in result["vms"]):
        module.fail_json(**result)
    module.exit_json(**result)
