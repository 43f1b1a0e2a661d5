# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover module's body: parameters in, the domain run, one Ansible result out."""

from __future__ import annotations

from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.hyperv.replica.plugins.module_utils import connection, recovery_points
from ansible_collections.hyperv.replica.plugins.module_utils.replica import ReplicaRun, Request, VmResult
from ansible_collections.hyperv.replica.plugins.module_utils.retry import Retry
from ansible_collections.hyperv.replica.plugins.module_utils.vm import VmLookupError
from ansible_collections.hyperv.replica.plugins.module_utils.waiter import Waiter
from ansible_collections.hyperv.replica.plugins.module_utils.wsman import WSManError


def _diff(results: List[VmResult]) -> Dict[str, Any]:
    before = {"%s (%s)" % (r.vm.name, r.vm.id): r.vm.state_name for r in results}
    after = {"%s (%s)" % (r.vm.name, r.vm.id): r.as_dict()["state_after"] for r in results}
    return {"before": before, "after": after}


def _summary(results: List[VmResult], desired: str) -> str:
    failed = [r for r in results if r.error]
    if failed:
        return "%d of %d VMs failed: %s" % (len(failed), len(results), " | ".join(r.error for r in failed))
    changed = sum(1 for r in results if r.changed)
    return "%d of %d VMs %s, %d already were" % (changed, len(results), desired.replace("_", " "),
                                                 len(results) - changed)


def run_failover(module: AnsibleModule) -> None:
    if connection.WINRM_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("pywinrm"), exception=connection.WINRM_IMPORT_ERROR)
    params = module.params
    before = None
    if params.get("recovery_point_before"):
        try:
            before = recovery_points.parse_time(params["recovery_point_before"])
        except ValueError as exc:
            module.fail_json(msg=str(exc), changed=False, vms=[])
    request = Request(vms=params["vms"], desired=params["state"],
                      recovery_point=params["recovery_point"] or recovery_points.LATEST, wait=params["wait"],
                      check_mode=module.check_mode, recovery_point_before=before,
                      max_concurrent=params["max_concurrent"])
    host = connection.endpoint(params)
    waiter = Waiter(timeout=params["wait_timeout"], interval=params["poll_interval"])
    try:
        # Reads are retried within what is left of wait_timeout (retry.py).
        cim = connection.cim_client(params, request.max_concurrent, Retry(budget=waiter.remaining))
    except connection.ConnectionOptionsError as exc:
        module.fail_json(msg=str(exc), changed=False, vms=[])
    pool = connection.session_pool(cim)
    run = ReplicaRun(cim, waiter)
    try:
        results = run.converge(request)
    except VmLookupError as exc:
        module.fail_json(msg=str(exc), changed=False, vms=[])
    except WSManError as exc:
        module.fail_json(msg="%s: %s" % (host, exc), changed=False, vms=[])
    finally:
        pool.close()
    result: Dict[str, Any] = {
        "changed": any(r.changed for r in results),
        "vms": [r.as_dict(waiter.timestamp) for r in results],
        "msg": _summary(results, request.desired),
        "stats": {"requests": pool.requests, "sessions": pool.opened, "polls": run.polls, "retries": cim.retry.retried,
                  "seconds": round(waiter.elapsed(), 3)},
    }
    for note in (r for r in results if r.note):
        module.warn("VM %s: %s on it: %s" % (note.vm.label, note.plan.method, note.note))
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = _diff(results)
    if any(r.error for r in results):
        module.fail_json(**result)
    module.exit_json(**result)
