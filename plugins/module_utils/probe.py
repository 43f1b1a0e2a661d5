# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What became of a method call whose answer was lost, or that the host refused: the VM and the jobs affecting it.

A failover must be started exactly once. When the connection drops after the request went out, the host may or may
not have acted; sending the call again blindly could start a second failover. So the VM is read again, with the jobs
that affect it (Msvm_AffectedJobElement, hyperv-replica-wmi notes 2.5 and 4), and the caller decides from what it
sees: the work is done, a job of that kind is running or has just ended (follow it), or nothing happened (only
then may it call once more). The same reading turns a refusal caused by another run into the truth about the VM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils import jobs, wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim import CimClient, Reference


@dataclass
class Seen:
    """The VM's replication state now and the jobs of one kind that affect it (finished ones last seen first)."""

    state: Optional[int]
    running: List[jobs.Job] = field(default_factory=list)
    finished: List[jobs.Job] = field(default_factory=list)


def look(cim: CimClient, vm: Reference, job_type: Optional[int]) -> Seen:
    """Read the VM's ReplicationState and its jobs of ``job_type``. Raises WSManError when the host cannot say."""
    instance = cim.get(vm)
    state = instance.get("ReplicationState")
    keys = dict(vm.selectors)
    query = wql.associators("Msvm_ComputerSystem", keys, "Msvm_AffectedJobElement", "Msvm_ConcreteJob")
    seen = Seen(state=int(state) if state is not None else None)
    for job in (jobs.Job.from_instance(i) for i in cim.query(query)):
        if job_type is not None and job.job_type != job_type:
            continue
        (seen.finished if job.finished else seen.running).append(job)
    return seen
