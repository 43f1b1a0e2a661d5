#!/usr/bin/env bash
# Runs the failover_network playbook with ansible-playbook against the WinRM Hyper-V simulator on loopback.
# shellcheck disable=SC2154  # sim_root, python, work, sim_port come from start.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# ansible-test runs a copy of this target outside the tree; the collection itself is on ANSIBLE_COLLECTIONS_PATH.
start="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/hyperv/replica/tests/simulator/start.sh"
[ -f "$start" ] || start="$here/../../../simulator/start.sh"
# shellcheck source=/dev/null
. "$start"   # sim_root, python, work (removed on exit), start_simulator

start_simulator "$here/files/fleet.yml"
export ANSIBLE_PYTHON_INTERPRETER="$python"
ansible-playbook -i "$here/inventory.ini" "$here/failover_network.yml" -e "sim_port=$sim_port" "$@"
