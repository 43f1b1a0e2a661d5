# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module that talks to a Hyper-V host does around its own work, in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Optional, Sequence, TypeVar

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.hyperv.replica.plugins.module_utils import timefmt
from ansible_collections.hyperv.replica.plugins.module_utils.connection import WINRM_IMPORT_ERROR, Connection
from ansible_collections.hyperv.replica.plugins.module_utils.errors import HypervError
from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import Retry

T = TypeVar("T")


def on_host(module: AnsibleModule, work: Callable[[Connection], T], max_concurrent: int = 1,
            retry: Optional[Retry] = None) -> T:
    """Open the connection the module's options describe, run ``work`` with it, and close it.

    Any HypervError, from the options, the lookups or the host, fails the task the same way: its message (after
    the host's endpoint when the host caused it), nothing changed, no VMs. Errors that ``work`` reports per VM are
    its own business: it returns them.
    """
    if WINRM_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("pywinrm"), exception=WINRM_IMPORT_ERROR)
    connection = None
    try:
        connection = Connection(module.params, max_concurrent, retry)
        return work(connection)
    except HypervError as exc:
        fail(module, connection.describe(exc) if connection else str(exc))
        raise  # fail_json does not return
    finally:
        if connection is not None:
            connection.close()


def fail(module: AnsibleModule, msg: str, **result: Any) -> None:
    """Fail the task before anything was changed."""
    module.fail_json(msg=msg, changed=False, vms=[], **result)


def summary(results: Sequence[Any], done: str) -> str:
    """The task's msg: one line however many VMs failed, the counts and the first error; each VM's own error is in
    vms[].error (a 10-VM drill once repeated 3.7 KB of errors here, and Ansible prints msg next to the vms).
    ``done`` says what a changed VM became ("failed over", "given a test VM")."""
    failed = [r for r in results if r.error]
    changed = sum(1 for r in results if r.changed and not r.error)
    counts = "%d %s, %d already were" % (changed, done, len(results) - len(failed) - changed)
    if not failed:
        return "%d of %d VMs %s" % (changed, len(results), counts.split(" ", 1)[1])
    head = "%d of %d VMs failed (%s)" % (len(failed), len(results), counts)
    if len(failed) == 1:
        return "%s: %s" % (head, failed[0].error)
    return "%s; the first: %s; the error of each VM is in vms[].error" % (head, failed[0].error)


def point_before(module: AnsibleModule) -> Optional[datetime]:
    """The recovery_point_before option as an aware time, or None; a time without a zone fails the task."""
    if not module.params.get("recovery_point_before"):
        return None
    try:
        return timefmt.parse_zoned_time(module.params["recovery_point_before"], "recovery_point_before")
    except ValueError as exc:
        fail(module, str(exc))
        raise  # fail_json does not return
