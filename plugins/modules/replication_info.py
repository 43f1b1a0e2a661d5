#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: replication_info
short_description: Report the Hyper-V Replica state, settings and recovery points of VMs
version_added: 0.1.0
description:
  - Reads, for each VM, its replication mode, state and health, when it last replicated, its primary and replica
    servers and replication interval, and its recovery points, from a Hyper-V host through WMI over WinRM.
  - Answers "which VMs are replicated, are they healthy, which recovery points exist" before a drill, and
    "where is everything now" after it.
  - State, health and times come from C(Msvm_ReplicationRelationship) where the VM has one, and from
    C(Msvm_ComputerSystem) otherwise; servers and interval from C(Msvm_ReplicationSettingData); recovery points
    are the Replica-type C(Msvm_VirtualSystemSettingData) of the VM (C(Msvm_SnapshotOfVirtualSystem)).
  - Each class is read with one query for all the VMs, so the number of WinRM requests does not grow with the
    number of VMs.
  - This is what C(Get-VMReplication) and C(Get-VMSnapshot -SnapshotType Replica) show on the host.
  - Target the Hyper-V host itself when the inventory describes it as a WinRM host (C(ansible_connection=winrm)
    or C(psrp)). The module then takes that connection's settings and runs on the controller, with no C(delegate_to)
    and no credentials in the task. Otherwise use C(delegate_to=localhost) with the connection options.
author:
  - hyperv.replica maintainers (@hyperv-replica)
options:
  vms:
    description:
      - The VMs, by name (C(ElementName), compared without regard to case) or by VM GUID, reported in this order.
      - Default, every VM on the host with replication enabled (any replication mode but V(None)), by name.
      - A VM that is not replicated can be named; it is reported with mode V(None).
      - A name that matches no VM, or several, fails the task and lists the GUIDs; name those VMs by GUID.
    type: list
    elements: str
    aliases: [name]
  recovery_points:
    description:
      - Whether to read each VM's recovery points. With V(false) the C(recovery_points) key is left out.
    type: bool
    default: true
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
    details: The module only reads; it does the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
    description: Runs on the controller (or wherever it is delegated) and reads a Windows Hyper-V host over WinRM.
seealso:
  - module: hyperv.replica.failover
  - name: Msvm_ReplicationRelationship class
    description: The WMI class this module reads replication state, health and times from.
    link: https://learn.microsoft.com/en-us/windows/win32/hyperv_v2/msvm-replicationrelationship
'''

EXAMPLES = r'''
# Target the host: for a host with ansible_connection=winrm (or psrp) the connection comes from the inventory.
- name: Report every replicated VM of the play's Hyper-V hosts
  hyperv.replica.replication_info:
  register: replication

- name: Every replicated VM on the replica server, with its recovery points
  hyperv.replica.replication_info:
    hostname: hv-replica01.contoso.com
    username: CONTOSO\hvadmin
    password: "{{ vault_hyperv_password }}"
  delegate_to: localhost
  register: replication

- name: Stop the drill if a VM's replication is not healthy
  ansible.builtin.assert:
    that: replication.vms | rejectattr('health', 'eq', 'Normal') | list | length == 0
    fail_msg: "{{ replication.vms | rejectattr('health', 'eq', 'Normal') | map(attribute='name') }}"

- name: Two VMs, without recovery points
  hyperv.replica.replication_info:
    hostname: hv-replica01.contoso.com
    vms: [web01, sql01]
    recovery_points: false
  delegate_to: localhost

- name: Fail over to the newest application-consistent point listed
  hyperv.replica.failover:
    hostname: hv-replica01.contoso.com
    vms: [sql01]
    state: failed_over
    recovery_point: >-
      {{ (replication.vms | selectattr('name', 'eq', 'sql01') | first).recovery_points
         | selectattr('type', 'eq', 'application_consistent') | map(attribute='id') | first }}
  delegate_to: localhost
'''

RETURN = r'''
vms:
  description: One entry per VM, in the order asked, or by name when O(vms) is not set.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The VM's display name.
      type: str
      sample: sql01
    id:
      description: The VM's GUID.
      type: str
      sample: 5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D
    power_state:
      description: Power state by name (V(Running), V(Off), V(Saved), V(Paused), ...).
      type: str
      sample: "Off"
    mode:
      description: Replication mode (V(Primary), V(Replica), V(Extended Replica), V(Test Replica), V(None)).
      type: str
      sample: Replica
    state:
      description: Replication state by its WMI name (V(Replicating), V(Recovered), V(Committed), V(Suspended), ...).
      type: str
      sample: Replicating
    state_code:
      description: The WMI C(ReplicationState) value (not the PowerShell one, which is one higher).
      type: int
      sample: 3
    health:
      description: Replication health (V(Normal), V(Warning), V(Critical), or V(Not applicable)).
      type: str
      sample: Normal
    last_replication_time:
      description: When the last replication was received on the replica side (ISO 8601, UTC), or null if never.
      type: str
      sample: "2026-11-21T09:55:00+00:00"
    last_application_consistent_replication_time:
      description: When the last application-consistent replication was received (ISO 8601, UTC), or null if never.
      type: str
      sample: "2026-11-21T06:00:00+00:00"
    last_replication_type:
      description:
        - The kind of the last replication received (V(None), V(Regular), V(Application consistent), V(Planned)).
      type: str
      sample: Regular
    failed_over_type:
      description:
        - The kind of recovery point the VM's current failover used (V(None), V(Regular), V(Application consistent),
          V(Planned)); V(None) when it is not failed over.
      type: str
      sample: Application consistent
    primary_server:
      description: The primary server (C(PrimaryHostSystem), else C(PrimaryConnectionPoint)), or null if not replicated.
      type: str
      sample: hv-primary01.contoso.com
    replica_server:
      description:
        - The replica server (C(RecoveryConnectionPoint), else C(RecoveryHostSystem)), or null if not replicated.
      type: str
      sample: hv-replica01.contoso.com
    replication_interval:
      description: Seconds between replications (30, 300 or 900), or null if not replicated.
      type: int
      sample: 300
    test_vm:
      description:
        - A Replica VM's test VM (made by a test failover, M(hyperv.replica.test_failover)), found through
          C(Msvm_ReplicaSystemDependency); null when it has none, and for any other VM.
      type: dict
      contains:
        name:
          description: Its name.
          type: str
          sample: web01 - Test
        id:
          description: Its VM GUID.
          type: str
        power_state:
          description: Its power state.
          type: str
          sample: "Off"
    adapters:
      description:
        - The VM's network adapters, as M(hyperv.replica.failover_network) sets them.
      type: list
      elements: dict
      contains:
        name:
          description: The adapter's name.
          type: str
          sample: Network Adapter
        switch:
          description: The virtual switch it is connected to; empty when it is not connected.
          type: str
        test_switch:
          description: The switch a test failover's VM gets it connected to; empty for none.
          type: str
        failover:
          description:
            - Its failover TCP/IP settings, with the keys of M(hyperv.replica.failover_network)'s C(failover) option
              (V(ipv4), V(ipv6), V(ipv4_gateway), V(ipv6_gateway), V(dns_servers), V(dhcp)); nothing set reads as
              no addresses and V(dhcp) true.
          type: dict
    recovery_points:
      description: The VM's recovery points, newest first.
      returned: when O(recovery_points=true)
      type: list
      elements: dict
      contains:
        id:
          description:
            - The point's C(InstanceID), which M(hyperv.replica.failover) takes as
              O(hyperv.replica.failover#module:recovery_point).
          type: str
          sample: "Microsoft:2B5C7A1E-6F0D-4E3B-9A8C-1D2E3F4A5B6C"
        name:
          description: The point's name.
          type: str
          sample: "sql01 - Application-consistent Replica - (11/21/2026 - 6:00:00 AM)"
        type:
          description: V(standard), V(application_consistent) or V(planned_failover).
          type: str
          sample: application_consistent
        created:
          description: When the point was taken (ISO 8601, UTC).
          type: str
          sample: "2026-11-21T06:00:00+00:00"
msg:
  description: A summary (how many VMs, by health), or why the task failed.
  returned: always
  type: str
  sample: "3 VMs; health: Normal 2, Warning 1"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.replica.plugins.module_utils.argument_spec import connection_argument_spec
from ansible_collections.hyperv.replica.plugins.module_utils.runners.replication_info import run_info


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        vms={"type": "list", "elements": "str", "aliases": ["name"]},
        recovery_points={"type": "bool", "default": True},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_info(module)


if __name__ == "__main__":
    main()
