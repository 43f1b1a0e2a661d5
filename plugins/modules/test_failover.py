#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: test_failover
short_description: Create or remove the test VMs of Hyper-V Replica VMs (test failover)
version_added: 0.1.0
description:
  - Runs a test failover of Replica virtual machines (C(Msvm_ReplicationService.TestReplicaSystem)); Hyper-V makes a
    new VM, C(<replica> - Test), from a recovery point, while replication from the primary carries on. The same
    operation as C(Start-VMFailover -AsTest) on the replica server. The test VM is left off.
  - O(state=absent) removes each replica's test VM, as C(Stop-VMFailover) does for a test failover; a C(Running) or
    C(Paused) test VM is turned off first (a hard turn-off, C(RequestStateChange) 3), then destroyed
    (C(Msvm_VirtualSystemManagementService.DestroySystem)).
  - Idempotent. A replica that has a test VM already is left alone by O(state=present) and reported with it; a
    replica with no test VM is left alone by O(state=absent).
  - The test VM is found from its replica through C(Msvm_ReplicaSystemDependency), never by name. B(It never
    destroys any other VM). Before the destroy is sent, the target is read again and must still be a Test
    Replica linked to that replica; otherwise nothing is sent and the VM fails with what was found.
  - A test failover needs a Replica VM that is off, C(Replicating) or C(Suspended), and replicated at least once, as
    C(Start-VMFailover -AsTest) requires; Windows allows one test VM per replica. A VM where it is impossible fails
    with a message that names it, its state and what to do; the other VMs of the task go on.
  - Every name in O(vms) is resolved before anything is started; an unknown or ambiguous name fails the task and
    changes nothing.
  - Under network faults, reads are retried and a call whose answer was lost is settled from the VM and its jobs
    before it is ever sent again, within O(wait_timeout).
  - Target the Hyper-V host itself when the inventory describes it as a WinRM host (C(ansible_connection=winrm) or
    C(psrp)), or use C(delegate_to=localhost) with the connection options.
author:
  - hyperv.replica maintainers (@hyperv-replica)
options:
  vms:
    description:
      - The Replica VMs, by name (C(ElementName), compared without regard to case) or by VM GUID. Name the replica,
        not its test VM.
    type: list
    elements: str
    required: true
    aliases: [name]
  state:
    description:
      - V(present) makes a test VM for each replica that has none; V(absent) removes each replica's test VM.
    type: str
    choices: [present, absent]
    required: true
  recovery_point:
    description:
      - The recovery point the test VM is made from, with O(state=present), exactly as in M(hyperv.replica.failover).
      - V(latest) is the latest point in time; V(latest_application_consistent) each VM's newest
        application-consistent point; anything else the C(InstanceID) or exact name of a recovery point of the VM.
      - Cannot be used together with O(recovery_point_before).
    type: str
    default: latest
  recovery_point_before:
    description:
      - Make each test VM from the replica's newest recovery point taken at or before this time, with
        O(state=present), an ISO 8601 time with a zone, as in M(hyperv.replica.failover).
      - Cannot be used together with O(recovery_point).
    type: str
  wait:
    description:
      - Wait for the jobs to finish. With V(false) the module returns once the host has accepted the calls (a
        running test VM's turn-off is always waited for, since the destroy needs it off).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for all jobs of the task together, and the time reads and lost answers are retried within.
    type: int
    default: 900
  poll_interval:
    description:
      - Seconds between two polls of the jobs (one query per 50 jobs), growing 1.5 times after a poll that saw no
        change, up to 4 times this value.
    type: float
    default: 1.0
  max_concurrent:
    description:
      - How many calls are in flight at once, each on its own WinRM connection (at most 100).
    type: int
    default: 8
extends_documentation_fragment:
  - hyperv.replica.connection
  - hyperv.replica.connection.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Reports which replicas would get or lose a test VM (and which test VMs would be turned off); nothing is
      sent.
  diff_mode:
    support: full
    details: Shows each replica's test VM before and after.
  platform:
    platforms: posix
    description: Runs on the controller (or wherever it is delegated) and manages a Windows Hyper-V host over WinRM.
seealso:
  - module: hyperv.replica.failover
  - module: hyperv.replica.replication_info
  - name: TestReplicaSystem method of the Msvm_ReplicationService class
    description: The WMI method this module calls for O(state=present).
    link: https://learn.microsoft.com/en-us/windows/win32/hyperv_v2/testreplicasystem-msvm-replicationservice
'''

EXAMPLES = r'''
- name: A test failover of two replicas of the play's Hyper-V hosts (replication carries on)
  hyperv.replica.test_failover:
    vms: [web01, sql01]
    state: present

- name: A test VM from the newest application-consistent point, on a host named in the task
  hyperv.replica.test_failover:
    hostname: hv-replica01.contoso.com
    username: CONTOSO\hvadmin
    password: "{{ vault_hyperv_password }}"
    vms: [sql01]
    state: present
    recovery_point: latest_application_consistent
  delegate_to: localhost

- name: Remove the test VMs after the drill (running ones are turned off first)
  hyperv.replica.test_failover:
    vms: [web01, sql01]
    state: absent
'''

RETURN = r'''
vms:
  description: One entry per replica named in O(vms), in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The replica's name.
      type: str
      sample: web01
    id:
      description: The replica's VM GUID.
      type: str
      sample: 5F1D2A4B-9C3E-4F7A-8B6D-1E2F3A4B5C6D
    changed:
      description: Whether a test VM was made or removed for this replica (or would be, in check mode).
      type: bool
      sample: true
    operation:
      description: The method called last for this replica (C(TestReplicaSystem) or C(DestroySystem)); null if none.
      type: str
      sample: TestReplicaSystem
    state:
      description: The replica's replication state after the task (unchanged by a test failover).
      type: str
      sample: Replicating
    mode:
      description: The replica's replication mode.
      type: str
      sample: Replica
    test_vm:
      description:
        - The replica's test VM as the task leaves it, null when it has none (in check mode, as found).
      type: dict
      contains:
        name:
          description: Its name, C(<replica> - Test) on an English host.
          type: str
          sample: web01 - Test
        id:
          description: Its VM GUID.
          type: str
          sample: 9E5B1C2D-3F4A-4B5C-8D6E-7F8A9B0C1D2E
        power_state:
          description: Its power state (C(Off) when just made).
          type: str
          sample: "Off"
    recovery_point:
      description: The recovery point the test VM was made from (as in M(hyperv.replica.failover)); null otherwise.
      type: dict
    job_id:
      description: The InstanceID of the last call's job; null if none.
      type: str
    job_state:
      description: That job's state (C(Completed), C(Exception), ...).
      type: str
    timings:
      description: When the last call was queued, invoked, and its job seen to start and to end (ISO 8601).
      type: dict
    turned_off:
      description: Whether the test VM was turned off before it was destroyed (in check mode, whether it would be).
      type: bool
      sample: false
    error:
      description: Why this replica failed, naming the VM, its state and what to do; null when it did not fail.
      type: str
msg:
  description: One line; when the task failed, how many VMs failed and the first error (each VM's is in RV(vms)).
  returned: always
  type: str
stats:
  description: The load the task put on the host (requests, sessions, polls, retries, seconds).
  returned: when the VMs were looked up
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.replica.plugins.module_utils.argument_spec import connection_argument_spec
from ansible_collections.hyperv.replica.plugins.module_utils.runners.test_failover import run_test_failover


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        vms={"type": "list", "elements": "str", "required": True, "aliases": ["name"]},
        state={"type": "str", "required": True, "choices": ["present", "absent"]},
        recovery_point={"type": "str", "default": "latest"},
        recovery_point_before={"type": "str"},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "int", "default": 900},
        poll_interval={"type": "float", "default": 1.0},
        max_concurrent={"type": "int", "default": 8},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("recovery_point", "recovery_point_before")])
    run_test_failover(module)


if __name__ == "__main__":
    main()
