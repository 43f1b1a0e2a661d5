#!/usr/bin/env bash
# Many VMs in one task against the WinRM Hyper-V simulator on loopback: every VM ends in the right state, and the
# job polls cost the same per tick for 5 VMs as for 50 (read from the simulator's request counters).
# shellcheck disable=SC2154  # sim_root, python, work, sim_pid, sim_port come from start.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# ansible-test runs a copy of this target outside the tree; the collection itself is on ANSIBLE_COLLECTIONS_PATH.
start="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/hyperv/replica/tests/simulator/start.sh"
[ -f "$start" ] || start="$here/../../../simulator/start.sh"
# shellcheck source=/dev/null
. "$start"   # sim_root, python, work (removed on exit), start_simulator
# 60 Replica VMs, replicating and off; two-second jobs, so that waiting takes several poll ticks.
"$python" - "$work/fleet.yml" <<'PYEOF'
import sys
vms = "\n".join("      - {name: vm%02d, mode: replica, state: replicating, power: 'off'}" % i for i in range(60))
with open(sys.argv[1], "w") as fleet:
    fleet.write("hosts:\n  - name: HV-SCALE01\n    users: [{username: hvadmin, password: Sc4le-Pa55!}]\n"
                "    job_seconds: 2\n    vms:\n" + vms + "\n")
PYEOF
start_simulator "$work/fleet.yml"

export ANSIBLE_PYTHON_INTERPRETER="$python"
ansible-playbook -i "$here/inventory.ini" "$here/scale.yml" -e "sim_port=$sim_port" "$@"
