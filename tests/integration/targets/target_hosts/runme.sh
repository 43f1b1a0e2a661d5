#!/usr/bin/env bash
# Hyper-V hosts targeted as the inventory describes them (ansible_connection winrm or psrp, ansible_user,
# ansible_password, ansible_winrm_*), with no delegate_to and no credentials in the tasks; run at -vvv, whose output
# must not contain the password and must show the modules running on the controller, not over WinRM.
# shellcheck disable=SC2154  # sim_root, python, work, sim_port, sim_https_port come from start.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# ansible-test runs a copy of this target outside the tree; the collection itself is on ANSIBLE_COLLECTIONS_PATH.
start="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/hyperv/replica/tests/simulator/start.sh"
[ -f "$start" ] || start="$here/../../../simulator/start.sh"
# shellcheck source=/dev/null
. "$start"   # sim_root, python, work (removed on exit), start_simulator

PYTHONPATH="$sim_root" "$python" -m hypervsim.testca "$work/ca" >/dev/null
start_simulator "$here/files/fleet.yml" --tls-cert "$work/ca/server.pem" --tls-key "$work/ca/server.key"
password='Inv3ntory-S3cret!'
winrm="ansible_connection=winrm ansible_host=127.0.0.1 ansible_user=hvadmin"

cat >"$work/inventory.ini" <<INI
[hyperv_replicas]
ntlm-http $winrm ansible_port=$sim_port ansible_winrm_scheme=http ansible_winrm_transport=ntlm
basic-https-ca $winrm ansible_port=$sim_https_port ansible_winrm_transport=basic ansible_winrm_ca_trust_path=$work/ca/ca.pem
basic-https-ignore $winrm ansible_port=$sim_https_port ansible_winrm_transport=basic ansible_winrm_server_cert_validation=ignore
psrp-http ansible_connection=psrp ansible_host=127.0.0.1 ansible_user=hvadmin ansible_port=$sim_port ansible_psrp_protocol=http ansible_psrp_auth=negotiate

[hyperv_replicas:vars]
ansible_password=$password

[odd]
wrong-password $winrm ansible_port=$sim_port ansible_winrm_scheme=http ansible_winrm_transport=ntlm ansible_password=not-it
wrong-port $winrm ansible_port=1 ansible_winrm_scheme=http ansible_winrm_transport=ntlm ansible_password=$password
digest $winrm ansible_port=$sim_port ansible_winrm_scheme=http ansible_winrm_transport=digest ansible_password=$password
INI

export ANSIBLE_PYTHON_INTERPRETER="$python" ANSIBLE_NOCOLOR=1
ansible-playbook -i "$work/inventory.ini" "$here/targets.yml" -e "sim_port=$sim_port" -e "password=$password" \
    -vvv "$@" >"$work/out.txt" 2>&1 || { cat "$work/out.txt"; exit 1; }
tail -n 20 "$work/out.txt"

if grep -qF "$password" "$work/out.txt"; then
    echo "the password appears in the -vvv output" >&2
    grep -nF "$password" "$work/out.txt" | head -5 >&2
    exit 1
fi
# The winrm and psrp connection plugins never connected: every module ran through the local connection.
if grep -qE "ESTABLISH (WINRM|PSRP) CONNECTION" "$work/out.txt"; then
    echo "a task connected over WinRM instead of running on the controller" >&2
    exit 1
fi
grep -q "ESTABLISH LOCAL CONNECTION" "$work/out.txt"
echo "target_hosts: no password in $(wc -l <"$work/out.txt") lines of -vvv output; every module ran on the controller"
