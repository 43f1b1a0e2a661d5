#!/usr/bin/env bash
# Many VMs in one task against the WinRM Hyper-V simulator on loopback: every VM ends in the right state, and the
# job polls cost the same per tick for 5 VMs as for 50 (read from the simulator's request counters).
# shellcheck disable=SC2154  # sim_pid, sim_port come from the simulator's start.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# ansible-test runs a copy of this target outside the tree; the collection itself is on ANSIBLE_COLLECTIONS_PATH.
sim_root="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/hyperv/replica/tests/simulator"
[ -d "$sim_root" ] || sim_root="$here/../../../simulator"
sim_root="$(cd "$sim_root" && pwd)"
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
work="$(mktemp -d)"

trap 'kill "${sim_pid:-}" 2>/dev/null || true; wait "${sim_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
# 60 Replica VMs, replicating and off; two-second jobs, so that waiting takes several poll ticks.
"$python" - "$work/fleet.yml" <<'PYEOF'
import sys
vms = "\n".join("      - {name: vm%02d, mode: replica, state: replicating, power: 'off'}" % i for i in range(60))
with open(sys.argv[1], "w") as fleet:
    fleet.write("hosts:\n  - name: HV-SCALE01\n    users: [{username: hvadmin, password: Sc4le-Pa55!}]\n"
                "    job_seconds: 2\n    vms:\n" + vms + "\n")
PYEOF
# shellcheck source=/dev/null
. "$sim_root/start.sh"
start_simulator "$work/fleet.yml"

export ANSIBLE_PYTHON_INTERPRETER="$python"
ansible-playbook -i "$here/inventory.ini" "$here/scale.yml" -e "sim_port=$sim_port" "$@"
