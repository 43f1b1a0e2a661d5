#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: failover
short_description: Fail over or revert Hyper-V Replica VMs
version_added: 0.1.0
description:
  - Fails over Replica virtual machines to a recovery point (C(Msvm_ReplicationService.InitiateFailover)),
    or reverts a failover (C(RevertFailover)), on a Hyper-V replica server, through WMI over WinRM.
  - Idempotent from each VM's replication state, and decided as C(Start-VMFailover) and C(Stop-VMFailover) decide
    (the table in C(docs/failover-decisions.md)). O(state=failed_over) starts a failover on a Replica VM that is
    off and C(Replicating) or C(Disk update in progress), and leaves a C(Recovered) one alone; O(state=reverted)
    reverts a C(Recovered) VM (or one left C(Failover in progress)) and leaves a C(Replicating) one alone.
  - O(state=reverted) turns a C(Running) or C(Paused) failed-over VM off first (a hard turn-off,
    C(RequestStateChange) 3), as C(Stop-VMFailover) does, since the revert discards what it wrote; RV(vms[].turned_off)
    says so, in check mode too. A saved VM is reverted as it is, as the cmdlet does.
  - A VM where the operation is impossible (a Primary VM, a VM that is not replicated, a C(Committed) failover,
    a running VM to fail over, replication suspended or in error) fails with a message that names the VM, its state
    and what to do. The other VMs of the task are still handled and every VM is reported.
  - Every name in O(vms) is resolved before anything is started; an unknown or ambiguous name fails the task
    and changes nothing.
  - This is the same operation as C(Start-VMFailover) / C(Stop-VMFailover) on the replica server. It does not
    commit a failover (C(Complete-VMFailover)) and does not start the VMs; the only power change it makes is turning
    off a VM it is asked to revert.
  - Under network faults, reads are retried (see RV(stats.retries)), but a failover or revert call is never sent
    twice blindly. When its answer is lost, the VM and the jobs affecting it are read again, and the module follows
    the job the host started, or calls once more only when the VM shows no trace of the first call. A call refused
    because another run works on the VM says so.
  - Target the Hyper-V host itself when the inventory describes it as a WinRM host (C(ansible_connection=winrm)
    or C(psrp)). The module then takes that connection's settings and runs on the controller, with no C(delegate_to)
    and no credentials in the task. Otherwise use C(delegate_to=localhost) with the connection options.
author:
  - hyperv.replica maintainers (@hyperv-replica)
options:
  vms:
    description:
      - The VMs, by name (C(ElementName), compared without regard to case) or by VM GUID.
      - A name that two VMs share is an error that lists both GUIDs; name those VMs by GUID.
    type: list
    elements: str
    required: true
    aliases: [name]
  state:
    description:
      - V(failed_over) fails the VMs over; V(reverted) reverts their failover, back to C(Replicating).
    type: str
    choices: [failed_over, reverted]
    required: true
  recovery_point:
    description:
      - The recovery point to fail over to, with O(state=failed_over).
      - V(latest) is the latest point in time (the most recent replicated changes).
      - V(latest_application_consistent) is each VM's newest application-consistent (VSS) point.
      - Anything else is the C(InstanceID) or the exact name of a recovery point of the VM; a VM that has no
        such point fails with a list of the points it has (and, for another VM's point, which VM has it).
      - Cannot be used together with O(recovery_point_before).
      - M(hyperv.replica.replication_info) lists each VM's recovery points.
    type: str
    default: latest
  recovery_point_before:
    description:
      - Fail each VM over to its newest recovery point taken at or before this time, with O(state=failed_over).
      - An ISO 8601 time with a zone, for example V(2026-11-21T10:00:00Z) or V(2026-11-21T11:00:00+01:00). A
        time without a zone is an error, since the controller and the host may be in different zones.
      - A VM with no point that old fails with a list of the points it has.
      - Cannot be used together with O(recovery_point).
    type: str
  wait:
    description:
      - Wait for the failover or revert jobs to finish. With V(false) the module returns once the host has
        accepted the operations, with their job ids.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for all jobs of the task together. A VM whose job is still running then is reported as
        still in progress, with its job id and percentage, and the job is left running.
    type: int
    default: 900
  poll_interval:
    description:
      - Seconds between two polls of the jobs. One poll reads all jobs of the task, with one WQL query per 50
        jobs, so its cost does not depend on the number of VMs.
      - After a poll in which no job finished or changed state, the next pause is 1.5 times longer, up to 4 times
        O(poll_interval); a change brings it back to O(poll_interval). A job's percentage alone is not a change.
    type: float
    default: 1.0
  max_concurrent:
    description:
      - How many requests are in flight at once, each on its own WinRM connection. A connection is authenticated
        once and kept open for the task, and is opened only when all open ones are busy, so at most this many are
        open at once; a connection that breaks is closed and replaced.
      - The C(InitiateFailover) or C(RevertFailover) calls use them all. Looking the VMs up, polling the jobs and
        reading the VMs back use one connection, or several when they take more than one query (over 40 VMs, or
        over 50 jobs per poll), whose queries then run together.
      - The calls return as soon as the host has started a job, so the task takes about as long as its slowest
        job, not the sum of them. A loop of one-VM tasks takes the sum.
      - Windows serves at most C(MaxConnections) requests at once for all clients together (300 by default, in
        C(winrm get winrm/config/service)), hence the limit of 100.
    type: int
    default: 8
  resume_replication:
    description:
      - With O(state=failed_over), resume the replication of a C(Suspended) or C(Resynchronizing) replica
        (C(RequestReplicationStateChange) 3) before failing it over, as C(Start-VMFailover) does.
      - Off by default, so that such a VM fails with a message instead, since a drill should not hide why
        replication was paused. RV(vms[].resumed_replication) says when it was resumed.
    type: bool
    default: false
    version_added: 0.1.0
extends_documentation_fragment:
  - hyperv.replica.connection
  # Before ansible.builtin's attribute fragments: of two fragments that set the same attribute, the first one wins.
  - hyperv.replica.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Reports which VMs would change and the state they would reach; nothing is started.
  diff_mode:
    support: full
    details: Shows each VM's replication state before and after.
  platform:
    platforms: posix
    description: Runs on the controller (or wherever it is delegated) and manages a Windows Hyper-V host over WinRM.
seealso:
  - name: Msvm_ReplicationService class
    description: The WMI class whose InitiateFailover and RevertFailover methods this module calls.
    link: https://learn.microsoft.com/en-us/windows/win32/hyperv_v2/msvm-replicationservice
'''

EXAMPLES = r'''
# Target the host: the inventory describes the Hyper-V host as a WinRM host, for example
#   hv-replica01.contoso.com ansible_connection=winrm ansible_user=CONTOSO\drill ansible_password=...
#   ansible_winrm_transport=ntlm ansible_winrm_scheme=https
# and the module takes its connection from there; it runs on the controller.
- name: Fail over two Replica VMs of the play's Hyper-V hosts
  hyperv.replica.failover:
    vms: [web01, sql01]
    state: failed_over

- name: Fail over three Replica VMs to their latest recovery point
  hyperv.replica.failover:
    hostname: hv-replica01.contoso.com
    username: CONTOSO\hvadmin
    password: "{{ vault_hyperv_password }}"
    vms: [web01, web02, sql01]
    state: failed_over
  delegate_to: localhost

- name: Fail over to the newest application-consistent point, over HTTPS with a private CA
  hyperv.replica.failover:
    hostname: hv-replica01.contoso.com
    ca_path: /etc/pki/contoso-ca.pem
    vms: [sql01]
    state: failed_over
    recovery_point: latest_application_consistent
    wait_timeout: 1800
  delegate_to: localhost

- name: Fail over to the newest point taken at or before the incident
  hyperv.replica.failover:
    hostname: hv-replica01.contoso.com
    vms: [web01, sql01]
    state: failed_over
    recovery_point_before: "2026-11-21T09:45:00Z"
  delegate_to: localhost

- name: Fail over every VM of a tier in one task (not a loop), 16 calls at a time
  hyperv.replica.failover:
    hostname: hv-replica01.contoso.com
    vms: "{{ groups['tier2_vms'] }}"
    state: failed_over
    max_concurrent: 16
  delegate_to: localhost

- name: Revert the drill
  hyperv.replica.failover:
    hostname: hv-replica01.contoso.com
    vms: [web01, web02, sql01]
    state: reverted
  delegate_to: localhost

- name: Connection options once for every module of the collection
  module_defaults:
    group/hyperv.replica.hyperv:
      hostname: hv-replica01.contoso.com
      username: CONTOSO\hvadmin
      password: "{{ vault_hyperv_password }}"
  block:
    - name: Fail over by VM GUID
      hyperv.replica.failover:
        vms: [5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D]
        state: failed_over
      delegate_to: localhost
'''

RETURN = r'''
vms:
  description: One entry per VM, in the order asked, whether it changed, stayed or failed.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The VM's display name.
      type: str
      sample: web01
    id:
      description: The VM's GUID.
      type: str
      sample: 5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D
    changed:
      description: Whether an operation was started on this VM.
      type: bool
    operation:
      description: The WMI method the VM needed (V(InitiateFailover) or V(RevertFailover)), or null.
      type: str
    state_before:
      description: Replication state before the task, by name (for example V(Replicating)).
      type: str
      sample: Replicating
    state_after:
      description: Replication state read back from the host after the task (in check mode, the state it would reach).
      type: str
      sample: Recovered
    mode:
      description: Replication mode (V(Primary), V(Replica), V(Extended Replica), V(Test Replica), V(None)).
      type: str
    power_state:
      description: Power state before the task (V(Off), V(Running), ...).
      type: str
    recovery_point:
      description:
        - The recovery point chosen for the failover (also in check mode), or null when the VM is not failed over.
        - V(type) is V(standard), V(application_consistent), V(planned_failover), or V(latest) for the latest
          point in time (then V(id) and V(created) are null).
      type: dict
      contains:
        id:
          description: The point's C(InstanceID).
          type: str
          sample: "Microsoft:2B5C7A1E-6F0D-4E3B-9A8C-1D2E3F4A5B6C"
        name:
          description: The point's name.
          type: str
          sample: "sql01 - Application-consistent Replica - (11/21/2026 - 7:00:00 AM)"
        type:
          description: The kind of point.
          type: str
          sample: application_consistent
        created:
          description: When the point was taken (ISO 8601, UTC).
          type: str
          sample: "2026-11-21T07:00:00+00:00"
    job_id:
      description: The C(Msvm_ConcreteJob) InstanceID of the operation, or null.
      type: str
    job_state:
      description: The job's last state seen (V(Completed), V(Exception), V(Running), ...), or null.
      type: str
    percent_complete:
      description: The job's last percentage seen, or null.
      type: int
    seconds_waited:
      description: Seconds from starting the operation until its job was seen finished, or null.
      type: float
    timings:
      description:
        - The moments of the VM's operation, as ISO 8601 UTC times on the clock of the machine the module runs on
          (the controller, or the C(delegate_to) host); null when they did not happen (nothing to do, check mode,
          refused, still running).
        - V(invoked) minus V(queued) is the time spent waiting for a free connection (O(max_concurrent)).
        - A drill report computes the recovery point objective achieved from RV(vms[].timings.invoked).
      type: dict
      contains:
        queued:
          description: When the operation was ready to be sent (the same moment for every VM of the task).
          type: str
          sample: "2026-11-21T10:00:02.498000+00:00"
        invoked:
          description: When C(InitiateFailover) or C(RevertFailover) was sent.
          type: str
          sample: "2026-11-21T10:00:02.512000+00:00"
        job_started:
          description: When the host answered that it had started the job (or had done the work at once).
          type: str
          sample: "2026-11-21T10:00:02.538000+00:00"
        job_finished:
          description: When the job was first seen finished (or the method returned without a job).
          type: str
          sample: "2026-11-21T10:00:05.031000+00:00"
    turned_off:
      description:
        - Whether the VM was turned off before its revert because it was C(Running) or C(Paused) (in check mode,
          whether it would be). Its data since the failover is discarded by the revert.
      type: bool
      sample: false
    resumed_replication:
      description: Whether its replication was resumed before the failover (O(resume_replication)).
      type: bool
      sample: false
    error:
      description: Why this VM failed, naming the VM, its state and what to do; null when it did not fail.
      type: str
msg:
  description:
    - One line. When the task failed, how many VMs failed and the first error; each VM's error is in RV(vms).
  returned: always
  type: str
stats:
  description: The load the task put on the host.
  returned: when the VMs were looked up
  type: dict
  contains:
    requests:
      description: WS-Management requests sent (lookups, calls, polls, read-back).
      type: int
      sample: 112
    sessions:
      description:
        - WinRM connections opened, each authenticated once. At most O(max_concurrent) are open at once; more are
          opened over a task only to replace a connection that broke.
      type: int
      sample: 8
    polls:
      description: Poll ticks spent waiting for the jobs.
      type: int
      sample: 4
    retries:
      description:
        - Reads (queries, gets) sent again after a dropped connection, an HTTP 5xx or an operation timeout, with
          exponential backoff and jitter, within O(wait_timeout). A method call whose answer was lost is sent again
          only when the VM and its jobs show no trace of it, and is not counted here.
      type: int
      sample: 0
    seconds:
      description: Seconds from the start of the task to its result.
      type: float
      sample: 2.61
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.replica.plugins.module_utils.argument_spec import connection_argument_spec
from ansible_collections.hyperv.replica.plugins.module_utils.runners.failover import run_failover


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        vms={"type": "list", "elements": "str", "required": True, "aliases": ["name"]},
        state={"type": "str", "required": True, "choices": ["failed_over", "reverted"]},
        recovery_point={"type": "str", "default": "latest"},
        recovery_point_before={"type": "str"},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 900},
        poll_interval={"type": "float", "default": 1.0},
        max_concurrent={"type": "int", "default": 8},
        resume_replication={"type": "bool", "default": False},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("recovery_point", "recovery_point_before")])
    run_failover(module)


if __name__ == "__main__":
    main()
