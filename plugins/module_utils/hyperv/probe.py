# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What became of a method call whose answer was lost, or that the host refused: the VM and the jobs affecting it.

A failover must be started exactly once. When the connection drops after the request went out, the host may or may
not have acted; sending the call again blindly could start a second failover. So the VM is read again, with the jobs
that affect it (Msvm_AffectedJobElement, hyperv-replica-wmi notes 2.5 and 4), and the caller decides from what it
sees and the method's table entry: the work is done (the VM is where the method leads), a job that did not exist
before the run affects the VM (follow it), or nothing happened (only then may it call once more). The same reading
turns a refusal caused by another run into the truth about the VM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import jobs
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VM, read_vms


@dataclass
class Seen:
    """The VM now (None if it is gone) and the jobs that affect it, running and finished."""

    vm: Optional[VM]
    running: List[jobs.Job] = field(default_factory=list)
    finished: List[jobs.Job] = field(default_factory=list)


def look(cim: CimClient, vm: VM) -> Seen:
    """Read the VM, as the lookups read it (its relationship's state), and every job that affects it. Raises
    WSManError when the host cannot say."""
    reference = vm.reference()
    seen = Seen(vm=read_vms(cim, [vm.id]).get(vm.id))
    if seen.vm is None:
        return seen  # gone (destroyed): ASSOCIATORS OF a VM that does not exist is a fault, and it has no jobs left
    query = wql.associators("Msvm_ComputerSystem", dict(reference.selectors), "Msvm_AffectedJobElement",
                            "Msvm_ConcreteJob")
    for job in (jobs.Job.from_instance(i) for i in cim.query(query)):
        (seen.finished if job.finished else seen.running).append(job)
    return seen
