#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: vm_power
short_description: Start Hyper-V VMs and wait for their guests, or shut them down
version_added: 0.1.0
description:
  - Starts VMs (C(Msvm_ComputerSystem.RequestStateChange) 2) and waits until each guest reports a heartbeat
    (C(Msvm_HeartbeatComponent)) and, with O(wait_for=addresses), its IP addresses (C(Msvm_KvpExchangeComponent)), as
    a DR drill does with failed-over and test VMs before checking them.
  - Stops VMs with O(state=off). By default the guest is asked to shut down (C(Msvm_ShutdownComponent.InitiateShutdown))
    and the VM is turned off (C(RequestStateChange) 3) if it is still on after O(shutdown_timeout); a guest that does
    not answer or refuses is turned off at once. RV(vms[].stopped_by) says which happened.
  - Idempotent. A running VM is not started again (it is still waited for), an off one is not stopped.
  - Refuses to start a Replica VM that has not failed over, before anything is sent, since starting it would break
    replication and Windows refuses it; the message names the VM and its replication state. The other VMs go on.
  - Refuses to start a failed-over Replica VM or a test VM that could reach production with production's addresses
    and name (the network guard), before anything is sent, unless it is named in O(allow_unsafe_network). It is safe
    when each of its adapters is not connected or on a private or internal switch, or, for a failed-over replica,
    has failover TCP/IP settings with addresses of its own (see M(hyperv.replica.failover_network)). Whether a switch
    is external comes from the host, from what the switch's ports connect to. RV(vms[].network_guard) says what was
    decided and why. Other VMs are not judged.
  - A guest that does not answer within O(wait_timeout) fails its VM with what was seen; the other VMs are not
    affected. All the VMs' heartbeats and addresses are read with one query per class per poll tick.
  - Target the Hyper-V host itself when the inventory describes it as a WinRM host (C(ansible_connection=winrm) or
    C(psrp)), or use C(delegate_to=localhost) with the connection options.
author:
  - hyperv.replica maintainers (@hyperv-replica)
options:
  vms:
    description:
      - The VMs, by name (C(ElementName), compared without regard to case) or by VM GUID; failed-over replicas, test
        VMs or any other VM.
    type: list
    elements: str
    required: true
    aliases: [name]
  state:
    description:
      - V(running) starts the VMs that are off, saved or paused and waits for their guests; V(off) stops them.
    type: str
    choices: [running, "off"]
    required: true
  wait_for:
    description:
      - With O(state=running), what to wait for. V(heartbeat) the guest's heartbeat (integration services up),
        V(addresses) the heartbeat and at least one address reported by the guest, V(none) the start only.
    type: str
    choices: [heartbeat, addresses, none]
    default: heartbeat
  shutdown:
    description:
      - With O(state=off), how to stop a running VM. V(guest) asks the guest to shut down and turns the VM off after
        O(shutdown_timeout) if it is still on; V(turn_off) turns it off at once (its unsaved data is lost).
      - A paused or saved VM is turned off either way, as there is no running guest to ask.
    type: str
    choices: [guest, turn_off]
    default: guest
  shutdown_timeout:
    description:
      - Seconds to wait for the guests to shut down before turning the remaining VMs off.
    type: float
    default: 120
  wait_timeout:
    description:
      - Seconds for the whole task, the start or turn-off jobs and the wait for the guests included.
    type: int
    default: 900
  poll_interval:
    description:
      - Seconds between two reads of the jobs, the VMs or their guests, growing 1.5 times after a read that saw no
        change, up to 4 times this value.
    type: float
    default: 1.0
  max_concurrent:
    description:
      - How many start or stop calls are in flight at once, each on its own WinRM connection (at most 100).
    type: int
    default: 8
  allow_unsafe_network:
    description:
      - VMs (names or GUIDs, as in O(vms)) to start even though the network guard finds that they could reach
        production with production's identity. Their RV(vms[].network_guard.outcome) is V(allowed).
    type: list
    elements: str
    default: []
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
    details: Reports which VMs would be started or stopped; nothing is sent and nothing is waited for.
  diff_mode:
    support: full
    details: Shows each VM's power state before and after.
  platform:
    platforms: posix
    description: Runs on the controller (or wherever it is delegated) and manages a Windows Hyper-V host over WinRM.
seealso:
  - module: hyperv.replica.failover
  - module: hyperv.replica.test_failover
  - name: RequestStateChange method of the Msvm_ComputerSystem class
    description: The WMI method that starts and turns off the VMs.
    link: https://learn.microsoft.com/en-us/windows/win32/hyperv_v2/requeststatechange-msvm-computersystem
'''

EXAMPLES = r'''
- name: Boot the failed-over VMs and wait until they report an address
  hyperv.replica.vm_power:
    vms: [web01, sql01]
    state: running
    wait_for: addresses
    wait_timeout: 600
  register: booted            # booted.vms[].addresses, booted.vms[].timings.heartbeat

- name: Shut them down before the revert (guest first, turned off after 2 minutes)
  hyperv.replica.vm_power:
    vms: [web01, sql01]
    state: "off"
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
      sample: web01
    id:
      description: The VM's GUID.
      type: str
    changed:
      description: Whether the VM was started or stopped (or would be, in check mode).
      type: bool
    mode:
      description: Its replication mode.
      type: str
      sample: Replica
    state:
      description: Its replication state.
      type: str
      sample: Recovered
    power_state:
      description: Its power state after the task (C(Running), C(Off), C(Saved), C(Paused), ...).
      type: str
      sample: Running
    heartbeat:
      description: The guest's heartbeat as last read (C(OK), C(No Contact), C(Lost Communication), C(Paused), ...).
      type: str
      sample: OK
    addresses:
      description: The IPv4 then IPv6 addresses the guest reports, as last read.
      type: list
      elements: str
      sample: [192.168.60.11, "fe80::11"]
    network_guard:
      description:
        - For a failed-over Replica VM or a test VM this task starts, the network guard's decision; null for the
          other VMs.
        - RV(vms[].network_guard.outcome) is V(safe), V(unsafe) (the VM was not started; its error says what to set)
          or V(allowed) (unsafe, started because O(allow_unsafe_network) names it).
      type: dict
      contains:
        outcome:
          description: V(safe), V(unsafe) or V(allowed).
          type: str
          sample: unsafe
        reasons:
          description: Why, adapter by adapter (the unsafe adapters when there are some).
          type: list
          elements: str
          sample: ["adapter 'Network Adapter' is on external switch 'Production' and has no failover TCP/IP settings"]
    stopped_by:
      description: With O(state=off), how the VM was stopped, V(guest) or V(turn_off); null if it was not stopped.
      type: str
    timings:
      description: ISO 8601 times of the start request, the VM seen running, the first heartbeat and the first
        addresses (null when not seen or not waited for).
      type: dict
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
from ansible_collections.hyperv.replica.plugins.module_utils.runners.vm_power import run_vm_power


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        vms={"type": "list", "elements": "str", "required": True, "aliases": ["name"]},
        state={"type": "str", "required": True, "choices": ["running", "off"]},
        wait_for={"type": "str", "default": "heartbeat", "choices": ["heartbeat", "addresses", "none"]},
        shutdown={"type": "str", "default": "guest", "choices": ["guest", "turn_off"]},
        shutdown_timeout={"type": "float", "default": 120},
        wait_timeout={"type": "int", "default": 900},
        poll_interval={"type": "float", "default": 1.0},
        max_concurrent={"type": "int", "default": 8},
        allow_unsafe_network={"type": "list", "elements": "str", "default": []},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_vm_power(module)


if __name__ == "__main__":
    main()
