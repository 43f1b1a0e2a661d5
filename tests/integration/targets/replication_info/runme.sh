#!/usr/bin/env bash
# Runs the replication_info playbook with ansible-playbook against the WinRM Hyper-V simulator on loopback.
# shellcheck disable=SC2154  # sim_root, python, work, sim_pid, sim_port, sim_https_port come from start.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# ansible-test runs a copy of this target outside the tree; the collection itself is on ANSIBLE_COLLECTIONS_PATH.
start="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/hyperv/replica/tests/simulator/start.sh"
[ -f "$start" ] || start="$here/../../../simulator/start.sh"
# shellcheck source=/dev/null
. "$start"   # sim_root, python, work (removed on exit), start_simulator
start_simulator "$here/files/fleet.yml"
port="$sim_port"

# One hour ago, written with a +02:00 offset: after web01's point of 2 h before the simulator started and before
# its point of 30 min, whatever the local zone (the playbook runs in far less than 30 minutes).
before="$("$python" -c 'import datetime as d
now = d.datetime.now(d.timezone.utc) - d.timedelta(hours=1)
print(now.astimezone(d.timezone(d.timedelta(hours=2))).isoformat(timespec="seconds"))')"

export ANSIBLE_PYTHON_INTERPRETER="$python"
ansible-playbook -i "$here/inventory.ini" "$here/replication_info.yml" -e "sim_port=$port" -e "before=$before" "$@"
