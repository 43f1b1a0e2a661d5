# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover module's body: parameters in, the domain run, one Ansible result out."""

from __future__ import annotations

from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.replica.plugins.module_utils.connection import Connection
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import recovery_points
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.failover import FailoverResult, FailoverRun, Request
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import TURN_OFF
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter
from ansible_collections.hyperv.replica.plugins.module_utils.runners.common import on_host, point_before, summary
from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import Retry


def _diff(results: List[FailoverResult]) -> Dict[str, Any]:
    before = {"%s (%s)" % (r.vm.name, r.vm.id): r.vm.state_name for r in results}
    after = {"%s (%s)" % (r.vm.name, r.vm.id): r.state_after() + (" (turned off)" if r.prepared_by(TURN_OFF) else "")
             for r in results}
    return {"before": before, "after": after}


def _request(module: AnsibleModule) -> Request:
    params = module.params
    before = point_before(module)
    return Request(vms=params["vms"], desired=params["state"],
                   recovery_point=params["recovery_point"] or recovery_points.LATEST, wait=params["wait"],
                   check_mode=module.check_mode, recovery_point_before=before, max_concurrent=params["max_concurrent"],
                   resume_replication=params["resume_replication"])


def run_failover(module: AnsibleModule) -> None:
    request = _request(module)
    waiter = Waiter(timeout=module.params["wait_timeout"], interval=module.params["poll_interval"])

    def work(connection: Connection) -> Dict[str, Any]:
        run = FailoverRun(connection.cim, waiter)
        results = run.run(request)
        result: Dict[str, Any] = {
            "changed": any(r.changed for r in results),
            "vms": [r.as_dict(waiter.timestamp) for r in results],
            "msg": summary(results, request.desired.replace("_", " ")),
            "stats": dict(connection.stats(), polls=run.polls, seconds=round(waiter.elapsed(), 3)),
        }
        for call in (r.call for r in results if r.call and r.call.note):
            module.warn("VM %s: %s on it: %s" % (call.label, call.method.name, call.note))
        if module._diff:  # pylint: disable=protected-access
            result["diff"] = _diff(results)
        return result

    # Reads, and calls whose answer was lost, are tried again for as long as wait_timeout lasts (retry.py).
    result = on_host(module, work, request.max_concurrent, Retry(attempts=None, budget=waiter.remaining))
    if any(vm["error"] for vm in result["vms"]):
        module.fail_json(**result)
    module.exit_json(**result)
