#!/usr/bin/env bash
# Runs the failover playbooks with ansible-playbook against the WinRM Hyper-V simulator on loopback.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# ansible-test runs a copy of this target outside the tree; the collection itself is on ANSIBLE_COLLECTIONS_PATH.
sim_root="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/hyperv/replica/tests/simulator"
[ -d "$sim_root" ] || sim_root="$here/../../../simulator"
sim_root="$(cd "$sim_root" && pwd)"
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
work="$(mktemp -d)"

# A test CA for the https listener, and a second one the host's certificate is not signed by. Generated per run:
# a CA key in the repository would be a CA anyone could sign with.
PYTHONPATH="$sim_root" "$python" -m hypervsim.testca "$work/ca" >/dev/null
PYTHONPATH="$sim_root" "$python" -m hypervsim.testca "$work/other-ca" >/dev/null

PYTHONPATH="$sim_root" "$python" -m hypervsim --fleet "$here/files/fleet.yml" --port 0 \
    --tls-cert "$work/ca/server.pem" --tls-key "$work/ca/server.key" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# Readiness, not timing: wait until the simulator has printed its endpoint (it does so once listening).
for _ in $(seq 1 200); do
    grep -q '^https_endpoint: ' "$work/sim.out" && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.err" >&2; exit 1; }
    sleep 0.05
done
endpoint="$(sed -n 's/^endpoint: //p' "$work/sim.out")"
[ -n "$endpoint" ] || { echo "simulator did not start" >&2; cat "$work/sim.err" >&2; exit 1; }
port_of() { local port="${1##*:}"; echo "${port%%/*}"; }
port="$(port_of "$endpoint")"
https_port="$(port_of "$(sed -n 's/^https_endpoint: //p' "$work/sim.out")")"

export ANSIBLE_PYTHON_INTERPRETER="$python"
ansible-playbook -i "$here/inventory.ini" "$here/failover.yml" -e "sim_port=$port" "$@"
ansible-playbook -i "$here/inventory.ini" "$here/transports.yml" -e "sim_port=$port" -e "sim_https_port=$https_port" \
    -e "ca_path=$work/ca/ca.pem" -e "other_ca_path=$work/other-ca/ca.pem" "$@"
