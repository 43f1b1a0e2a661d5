#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: drill_report
short_description: Write the report of a Hyper-V Replica DR drill
version_added: 0.1.0
description:
  - Turns what the C(hyperv.replica.dr_drill) role recorded on each replica host into one report, with a verdict per
    VM and for the whole drill, and writes it as C(report.json), C(report.xml) (JUnit), C(report.md) and
    C(report.html) in O(dest).
  - Per VM it reports the host, the pre-check, the recovery point used and its age when the failover was asked for
    (the recovery point objective the drill achieved), when the failover was asked for and when its job finished,
    the user's checks, the revert, the final replication state, and whether the VM was left failed over.
  - It runs on the controller and does not talk to Hyper-V. The role calls it once per play (and once per batch
    with C(serial), each time with every host recorded so far); it is rarely called directly.
  - The format of C(report.json) is described in C(docs/drill-report.md) and C(docs/drill-report.schema.json).
author:
  - hyperv.replica maintainers (@hyperv-replica)
options:
  records:
    description:
      - One record per replica host, as the role builds it (C(_dr_drill_record)).
      - Keys are C(host), C(endpoint), C(started), C(finished), C(error), C(precheck) (the output of the
        P(hyperv.replica.drill_precheck#filter) filter), C(failover) and C(revert) (C(ran), C(msg) and the C(vms) of
        M(hyperv.replica.failover)), and C(checks) (C(name), C(passed), C(msg), C(started), C(finished)).
    type: list
    elements: dict
    required: true
  lost_hosts:
    description:
      - Hosts of the play that should have a record and have none (they became unreachable, or the play stopped on
        them). Each is reported as a failed host whose VMs may still be failed over, and as a warning.
    type: list
    elements: str
    default: []
  dest:
    description:
      - The folder to write the report files into; created if missing. Files of an earlier report are replaced.
      - A relative path is relative to the directory C(ansible-playbook) runs in.
    type: path
    required: true
  title:
    description: The report's title.
    type: str
    default: DR drill
  settings:
    description:
      - The drill settings the report shows (C(recovery_point), C(recovery_point_before), C(revert),
        C(wait_timeout), C(max_replication_age_minutes), C(checks)). Its C(revert) also decides whether a VM
        left failed over is a failure.
    type: dict
    default: {}
  formats:
    description: Which files to write.
    type: list
    elements: str
    choices: [json, junit, markdown, html]
    default: [json, junit, markdown, html]
attributes:
  check_mode:
    support: full
    details: Builds and returns the report without writing any file (and reports no change).
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
seealso:
  - module: hyperv.replica.failover
  - module: hyperv.replica.replication_info
'''

EXAMPLES = r'''
- name: Write the report of the hosts recorded so far
  hyperv.replica.drill_report:
    records: "{{ ansible_play_hosts_all | map('extract', hostvars) | selectattr('_dr_drill_record', 'defined')
                 | map(attribute='_dr_drill_record') }}"
    dest: "{{ playbook_dir }}/reports/dr-drill"
    title: Quarterly DR drill
    settings:
      revert: true
  run_once: true
  delegate_to: localhost
  register: drill_report

- name: Show the verdict
  ansible.builtin.debug:
    msg: "{{ drill_report.msg }}"
  run_once: true
'''

RETURN = r'''
report:
  description: The whole report, as written to C(report.json).
  returned: always
  type: dict
  contains:
    result:
      description: V(passed) when every VM of every host passed every step, else V(failed).
      type: str
      sample: failed
    counts:
      description: Hosts, VMs, and VMs per outcome.
      type: dict
      sample: {hosts: 2, hosts_failed: 1, vms: 12, passed: 11, failed: 1, precheck_failed: 1, failed_over: 11,
               failover_failed: 0, checks_failed: 0, reverted: 11, revert_failed: 0, left_failed_over: 0}
    vms:
      description: One entry per VM (see C(docs/drill-report.md)).
      type: list
      elements: dict
    hosts:
      description: One entry per host, with its checks.
      type: list
      elements: dict
files:
  description: The path of each file written (or that would be written, in check mode), by format.
  returned: always
  type: dict
  sample: {json: /srv/drills/report.json, junit: /srv/drills/report.xml, markdown: /srv/drills/report.md,
           html: /srv/drills/report.html}
dest:
  description: O(dest) as an absolute path.
  returned: always
  type: str
result:
  description: The drill's verdict, V(passed) or V(failed).
  returned: always
  type: str
left_failed_over:
  description:
    - Every VM that ended the drill failed over, as C(VM on HOST (state)), whoever failed it over (a VM already
      failed over at the pre-check, left by an earlier drill that was stopped, is listed too); these are also
      warnings.
  returned: always
  type: list
  elements: str
lost_hosts:
  description: The hosts of O(lost_hosts) that indeed have no record; also warnings.
  returned: always
  type: list
  elements: str
table:
  description: The per-VM summary as a plain-text table, for a terminal.
  returned: always
  type: str
msg:
  description: The verdict and the counts in one line.
  returned: always
  type: str
  sample: "DR drill FAILED: 12 VMs on 2 hosts, 11 passed, 1 failed (pre-check 1, failover 0, checks 0, revert 0); 0 left
    failed over; 1 min 12 s"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.replica.plugins.module_utils.runners.drill_report import FORMATS, run_report


def main():
    module = AnsibleModule(
        argument_spec={
            "records": {"type": "list", "elements": "dict", "required": True},
            "lost_hosts": {"type": "list", "elements": "str", "default": []},
            "dest": {"type": "path", "required": True},
            "title": {"type": "str", "default": "DR drill"},
            "settings": {"type": "dict", "default": {}},
            "formats": {"type": "list", "elements": "str", "choices": list(FORMATS),
                        "default": list(FORMATS)},
        },
        supports_check_mode=True,
    )
    run_report(module)


if __name__ == "__main__":
    main()
