# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drill_precheck filter: the dr_drill role's pre-check, on what replication_info returned."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.hyperv.replica.plugins.module_utils.report.precheck import precheck_all


def drill_precheck(vms, max_age_minutes=60, replica_only=False):
    if not isinstance(vms, list) or not all(isinstance(vm, dict) for vm in vms):
        raise AnsibleFilterError("drill_precheck expects the vms list of hyperv.replica.replication_info, got %s"
                                 % type(vms).__name__)
    try:
        max_age = float(max_age_minutes)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("drill_precheck: max_age_minutes must be a number, got %r" % (max_age_minutes,)) from exc
    try:
        return precheck_all(vms, max_age, replica_only=bool(replica_only))
    except ValueError as exc:  # a time replication_info would never give
        raise AnsibleFilterError("drill_precheck: %s" % exc) from exc


class FilterModule:  # pylint: disable=too-few-public-methods
    def filters(self):
        return {"drill_precheck": drill_precheck}
