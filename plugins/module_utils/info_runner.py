# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replication_info module's body: parameters in, one read of the host, one Ansible result out."""

from __future__ import annotations

from collections import Counter
from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.hyperv.replica.plugins.module_utils import connection
from ansible_collections.hyperv.replica.plugins.module_utils.replication_info import read_info
from ansible_collections.hyperv.replica.plugins.module_utils.vm import VmLookupError
from ansible_collections.hyperv.replica.plugins.module_utils.wsman import WSManError


def _summary(vms: List[Dict[str, Any]]) -> str:
    if not vms:
        return "no replicated VMs"
    health = Counter(vm["health"] for vm in vms)
    by_health = ", ".join("%s %d" % (name, count) for name, count in sorted(health.items()))
    return "%d VMs; health: %s" % (len(vms), by_health)


def run_info(module: AnsibleModule) -> None:
    """Read-only: the same in check mode, and never ``changed``."""
    if connection.WINRM_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("pywinrm"), exception=connection.WINRM_IMPORT_ERROR)
    params = module.params
    host = connection.endpoint(params)
    try:
        cim = connection.cim_client(params)
        infos = read_info(cim, params["vms"], params["recovery_points"])
    except (VmLookupError, connection.ConnectionOptionsError) as exc:
        module.fail_json(msg=str(exc), changed=False, vms=[])
    except ValueError as exc:  # a VM name no WQL query can carry (a control character)
        module.fail_json(msg="vms: %s" % exc, changed=False, vms=[])
    except WSManError as exc:
        module.fail_json(msg="%s: %s" % (host, exc), changed=False, vms=[])
    vms = [info.as_dict() for info in infos]
    module.exit_json(changed=False, vms=vms, msg=_summary(vms))
