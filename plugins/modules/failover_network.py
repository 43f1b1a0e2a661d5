#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: failover_network
short_description: Set the failover TCP/IP settings and the test switch of Hyper-V VMs' network adapters
version_added: 0.1.0
description:
  - Sets, per network adapter, the failover TCP/IP settings the guest applies when it starts after a failover or
    as a test VM (C(Msvm_ReplicationService.SetFailoverNetworkAdapterSettings), what
    C(Set-VMNetworkAdapterFailoverConfiguration) does), and the switch a test failover's VM is connected to
    (C(TestReplicaSwitchName), set with C(Msvm_VirtualSystemManagementService.ModifyResourceSettings), what
    C(Set-VMNetworkAdapter -TestReplicaSwitchName) does).
  - Idempotent. It reads what is set and changes only what differs; an adapter or a setting left out is left as it
    is.
  - Every value is checked before anything is sent. An address that does not parse, a prefix length out of range, an
    adapter name that matches no adapter or several, a switch that does not exist on the host or whose name two
    switches share fail the task with what to fix, and nothing is changed.
  - Failover TCP/IP settings exist for the synthetic adapters of replicated VMs (Primary, Replica, Extended
    Replica). Set them on the Replica VM, on the replica server, to give the recovered VM the recovery site's
    addresses. The guest needs its integration services to apply them (Windows guests, and Linux guests with the KVP
    daemon).
  - Target the Hyper-V host itself when the inventory describes it as a WinRM host (C(ansible_connection=winrm) or
    C(psrp)), or use C(delegate_to=localhost) with the connection options.
author:
  - hyperv.replica maintainers (@hyperv-replica)
options:
  vms:
    description:
      - The VMs and, for each, the adapters to set.
      - List each VM once, with all of the adapters to set on it.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The VM, by name (C(ElementName), compared without regard to case) or by VM GUID.
        type: str
        required: true
      adapters:
        description:
          - The adapters to set.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description:
              - The adapter's name (C(Network Adapter) unless it was renamed), compared without regard to case.
              - May be left out when the VM has exactly one adapter.
            type: str
          failover:
            description:
              - The failover TCP/IP settings, as a whole. A key left out is empty, so that what is listed is what the
                guest gets. Leave the option out to keep the settings as they are.
              - Keys are V(ipv4) and V(ipv6), lists of addresses with their prefix length (V(192.168.60.11/24));
                V(ipv4_gateway) and V(ipv6_gateway), an address or V(""); V(dns_servers), a list of addresses of
                either family, in order of preference; and V(dhcp), true for a guest that takes DHCP on IPv4 after a
                failover (no V(ipv4) addresses then). V(dhcp) defaults to true when there is no IPv4 address.
            type: dict
          test_switch:
            description:
              - The virtual switch a test failover's VM gets this adapter connected to, by name. V("") leaves the test
                VM's adapter not connected. Leave the option out to keep it as it is.
              - A private or internal switch keeps a test VM away from production.
            type: str
  wait_timeout:
    description:
      - Seconds for the whole task, a job the host may start for a change included.
    type: int
    default: 300
  poll_interval:
    description:
      - Seconds between two reads of a job the host started, growing 1.5 times after a read that saw no change, up
        to 4 times this value.
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
    details: Reports what would change; nothing is sent.
  diff_mode:
    support: full
    details: Shows each named adapter's switch, test switch and failover TCP/IP settings before and after.
  platform:
    platforms: posix
    description: Runs on the controller (or wherever it is delegated) and manages a Windows Hyper-V host over WinRM.
seealso:
  - module: hyperv.replica.test_failover
  - module: hyperv.replica.vm_power
  - module: hyperv.replica.replication_info
  - name: SetFailoverNetworkAdapterSettings method of the Msvm_ReplicationService class
    description: The WMI method that sets the failover TCP/IP settings.
    link: https://learn.microsoft.com/en-us/windows/win32/hyperv_v2/setfailovernetworkadaptersettings-msvm-replicationservice
  - name: Msvm_EthernetPortAllocationSettingData class
    description: The adapter's connection settings, TestReplicaSwitchName among them.
    link: https://learn.microsoft.com/en-us/windows/win32/hyperv_v2/msvm-ethernetportallocationsettingdata
'''

EXAMPLES = r'''
- name: Give the recovered VMs the recovery site's addresses, and test failovers an isolated network
  hyperv.replica.failover_network:
    vms:
      - name: app01
        adapters:
          - name: Network Adapter
            failover:
              ipv4: [192.168.60.11/24]
              ipv4_gateway: 192.168.60.1
              dns_servers: [192.168.60.10]
            test_switch: Isolated
      - name: web01
        adapters:
          - failover: {dhcp: true}   # its only adapter takes DHCP at the recovery site
            test_switch: ""          # a test VM's adapter stays not connected
  delegate_to: localhost
'''

RETURN = r'''
vms:
  description: One entry per VM named in O(vms), in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The VM's name.
      type: str
      sample: app01
    id:
      description: The VM's GUID.
      type: str
    changed:
      description: Whether anything was changed on the VM (or would be, in check mode).
      type: bool
    mode:
      description: Its replication mode.
      type: str
      sample: Replica
    adapters:
      description: The adapters named in the task, as the host holds them after it (as they would be, in check mode).
      type: list
      elements: dict
      contains:
        name:
          description: The adapter's name.
          type: str
        switch:
          description: The switch it is connected to; empty when it is not connected.
          type: str
        test_switch:
          description: The switch a test failover's VM gets it connected to; empty for none.
          type: str
        failover:
          description: Its failover TCP/IP settings, with the option's keys.
          type: dict
        changed:
          description: Whether this adapter was changed.
          type: bool
    error:
      description: Why this VM failed, naming it and what to do; null when it did not fail.
      type: str
msg:
  description: One line; when the task failed, how many VMs failed and the first error.
  returned: always
  type: str
stats:
  description: The load the task put on the host (requests, sessions, polls, retries, seconds).
  returned: when the VMs were looked up
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.replica.plugins.module_utils.argument_spec import connection_argument_spec
from ansible_collections.hyperv.replica.plugins.module_utils.runners.failover_network import run_failover_network


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        vms={"type": "list", "elements": "dict", "required": True, "options": {
            "name": {"type": "str", "required": True},
            "adapters": {"type": "list", "elements": "dict", "required": True, "options": {
                "name": {"type": "str"},
                "failover": {"type": "dict"},
                "test_switch": {"type": "str"},
            }},
        }},
        wait_timeout={"type": "int", "default": 300},
        poll_interval={"type": "float", "default": 1.0},
        max_concurrent={"type": "int", "default": 8},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_failover_network(module)


if __name__ == "__main__":
    main()
