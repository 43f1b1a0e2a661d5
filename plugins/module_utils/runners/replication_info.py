# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replication_info module's body: parameters in, one read of the host, one Ansible result out."""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List, Tuple

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.replica.plugins.module_utils.connection import Connection
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.replication_info import read_info
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import NO_VM_SEEN, shows_no_vm
from ansible_collections.hyperv.replica.plugins.module_utils.runners.common import on_host


def _summary(vms: List[Dict[str, Any]], hidden: bool) -> str:
    if not vms:
        return "no replicated VMs; " + NO_VM_SEEN if hidden else "no replicated VMs"
    health = Counter(vm["health"] for vm in vms)
    by_health = ", ".join("%s %d" % (name, count) for name, count in sorted(health.items()))
    return "%d VMs; health: %s" % (len(vms), by_health)


def run_info(module: AnsibleModule) -> None:
    """Read-only: the same in check mode, and never ``changed``."""
    params = module.params

    def work(connection: Connection) -> Tuple[List[Dict[str, Any]], bool]:
        vms = [info.as_dict() for info in read_info(connection.cim, params["vms"], params["recovery_points"])]
        # No replicated VM on the whole host: say so when the account sees no VM at all (one more query).
        return vms, not vms and params["vms"] is None and shows_no_vm(connection.cim)

    vms, hidden = on_host(module, work)
    module.exit_json(changed=False, vms=vms, msg=_summary(vms, hidden))
