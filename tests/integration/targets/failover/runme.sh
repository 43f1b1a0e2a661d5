#!/usr/bin/env bash
# Runs the failover playbooks with ansible-playbook against the WinRM Hyper-V simulator on loopback.
# shellcheck disable=SC2154  # sim_root, python, work, sim_port, sim_https_port, plain_http_port come from start.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# ansible-test runs a copy of this target outside the tree; the collection itself is on ANSIBLE_COLLECTIONS_PATH.
start="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/hyperv/replica/tests/simulator/start.sh"
[ -f "$start" ] || start="$here/../../../simulator/start.sh"
# shellcheck source=/dev/null
. "$start"   # sim_root, python, work (removed on exit), start_simulator

# A test CA for the https listener, and a second one the host's certificate is not signed by. Generated per run:
# a CA key in the repository would be a CA anyone could sign with.
PYTHONPATH="$sim_root" "$python" -m hypervsim.testca "$work/ca" >/dev/null
PYTHONPATH="$sim_root" "$python" -m hypervsim.testca "$work/other-ca" >/dev/null
start_simulator "$here/files/fleet.yml" --tls-cert "$work/ca/server.pem" --tls-key "$work/ca/server.key"
port="$sim_port"
https_port="$sim_https_port"
start_plain_http   # a web server that is not WinRM, for the error that says so

export ANSIBLE_PYTHON_INTERPRETER="$python"
ansible-playbook -i "$here/inventory.ini" "$here/failover.yml" -e "sim_port=$port" -e "sim_https_port=$https_port" \
    -e "plain_http_port=$plain_http_port" "$@"
ansible-playbook -i "$here/inventory.ini" "$here/transports.yml" -e "sim_port=$port" -e "sim_https_port=$https_port" \
    -e "ca_path=$work/ca/ca.pem" -e "other_ca_path=$work/other-ca/ca.pem" "$@"
