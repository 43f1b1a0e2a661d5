#!/usr/bin/env bash
# The DR drill end to end: the collection's playbook hyperv.replica.drill against two simulated replica hosts, each
# scenario's report files checked against the simulator's own record (files/verify.py), and a screenshot of
# report.html looked at for its timeline chart (files/screenshot.py, Debian's chromium).
# shellcheck disable=SC2154  # sim_root, python, work, sim_pid come from start.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# ansible-test runs a copy of this target outside the tree; the collection itself is on ANSIBLE_COLLECTIONS_PATH.
start="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/hyperv/replica/tests/simulator/start.sh"
[ -f "$start" ] || start="$here/../../../simulator/start.sh"
# shellcheck source=/dev/null
. "$start"   # sim_root, python, work (removed on exit), start_simulator
collection="$(cd "$sim_root/../.." && pwd)"
# The screenshot is kept for people to look at, next to ansible-test's own output (not committed).
artifacts="$collection/tests/output/artifacts/dr_drill"
mkdir -p "$artifacts"

start_simulator "$here/files/fleet.yml" --all-hosts
port1="$(sim_port_of HV-DRILL01)"
port2="$(sim_port_of HV-DRILL02)"
# A port nothing listens on: the application VM of the "lost" scenario, which is down.
closed_port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
hosts=(--host "HV-DRILL01=http://127.0.0.1:$port1/wsman" --host "HV-DRILL02=http://127.0.0.1:$port2/wsman")

# The replica hosts as an operator's inventory describes Windows hosts; $1 and $2 are extra host variables.
inventory() {
    cat <<EOF
[hyperv_replicas]
HV-DRILL01 ansible_host=127.0.0.1 ansible_port=$port1 $1
HV-DRILL02 ansible_host=127.0.0.1 ansible_port=$port2 $2

[apps]
app-down ansible_host=127.0.0.1 ansible_port=$closed_port ansible_winrm_scheme=http

[hyperv_replicas:vars]
ansible_connection=winrm
ansible_winrm_scheme=http
ansible_winrm_transport=ntlm
ansible_user=drill
ansible_password=Dr1ll-Pa55!

[apps:vars]
ansible_connection=winrm
ansible_user=drill
ansible_password=Dr1ll-Pa55!
EOF
}

clear_requests() {
    for port in "$port1" "$port2"; do
        "$python" -c 'import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1], data=b"", method="POST"), timeout=10)' \
            "http://127.0.0.1:$port/_sim/requests/clear"
    done
}

# drill NAME EXPECTED_EXIT [ansible-playbook options]: run the playbook into $work/NAME, output in $work/NAME.log.
drill() {
    local name="$1" expected="$2" code=0
    shift 2
    ansible-playbook hyperv.replica.drill -i "$work/inventory-$name.ini" \
        -e "dr_drill_report_dir=$work/$name" -e "dr_drill_poll_interval=0.2" -e "dr_drill_title=Drill $name" \
        "$@" >"$work/$name.log" 2>&1 || code=$?
    cat "$work/$name.log"
    # Both hosts ran the play: an inventory that did not parse would otherwise pass for a quiet success.
    if ! grep -q "^HV-DRILL01 .*ok=" "$work/$name.log" || ! grep -q "^HV-DRILL02 .*ok=" "$work/$name.log"; then
        echo "scenario $name: the play did not run on both hosts" >&2
        return 1
    fi
    if [ "$code" != "$expected" ]; then
        echo "scenario $name: ansible-playbook exited $code, expected $expected" >&2
        return 1
    fi
}

verify() {
    "$python" "$here/files/verify.py" "$1" "$work/$1" --schema "$collection/docs/drill-report.schema.json" "${hosts[@]}"
}

export ANSIBLE_PYTHON_INTERPRETER="$python" ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false
checks_passes="$here/files/checks/passes.yml"
checks_fails="$here/files/checks/fails.yml"

# 1. Every Replica VM of both hosts, in parallel; erp01 fails the pre-check and HV-DRILL02's user check fails.
#    The play fails (exit 2) but every failed-over VM is reverted and the report says why.
inventory "" "" >"$work/inventory-full.ini"
clear_requests
drill full 2 -e "{\"dr_drill_checks\": [\"$checks_passes\", \"$checks_fails\"]}"
grep -q "erp01 is not drilled: replication health is Critical" "$work/full.log"
verify full
"$python" "$here/files/screenshot.py" "$work/full/report.html" "$artifacts/report-full.png" --expect-rows 5
cp "$work/full/report.html" "$artifacts/report-full.html"

# 2. serial: 1, to each VM's newest application-consistent point. erp01 fails the pre-check in the first batch;
#    the second batch is drilled all the same, the report of the last batch covers both hosts, and the play fails.
inventory "dr_drill_vms='[\"web01\", \"sql01\", \"erp01\"]'" "" >"$work/inventory-serial.ini"
clear_requests
drill serial 2 -e dr_drill_serial=1 -e dr_drill_recovery_point=latest_application_consistent
verify serial

# 3. Healthy VMs named per host and a passing check: the drill passes and the play succeeds. Run from another
#    directory with relative paths, as an operator would: the check and the report are found there.
inventory "dr_drill_vms='[\"web01\", \"sql01\"]'" "" >"$work/inventory-clean.ini"
mkdir -p "$work/operator/checks"
cp "$checks_passes" "$work/operator/checks/smoke.yml"
clear_requests
(cd "$work/operator" && drill clean 0 -e dr_drill_report_dir=report -e '{"dr_drill_checks": ["checks/smoke.yml"]}')
mv "$work/operator/report" "$work/clean"
verify clean

# 4. Check mode, at -vvv: nothing is failed over, the checks do not run (nothing to check), no report is written.
inventory "dr_drill_vms='[\"web01\", \"sql01\"]'" "" >"$work/inventory-check.ini"
clear_requests
drill check 0 --check -vvv -e "{\"dr_drill_checks\": [\"$checks_passes\"]}"
[ ! -e "$work/check/report.json" ] || { echo "check mode wrote a report" >&2; exit 1; }
if grep -q "They are all Recovered" "$work/check.log"; then echo "check mode ran the checks" >&2; exit 1; fi
"$python" - "http://127.0.0.1:$port1/_sim/requests" "http://127.0.0.1:$port2/_sim/requests" <<'EOF'
import json, sys, urllib.request
for url in sys.argv[1:]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        acted = [r for r in json.loads(answer.read()) if r["operation"] in ("Invoke:InitiateFailover", "Invoke:RevertFailover")]
    if acted:
        sys.exit("check mode invoked %s" % acted)
EOF

# 5. A check on HV-DRILL02 cannot reach its application VM: Ansible drops that host from the play before its revert.
#    The report still lists it, as a failed host whose VMs may be failed over (they are), and the play fails.
inventory "dr_drill_vms='[\"web01\"]'" "" >"$work/inventory-lost.ini"
clear_requests
drill lost 4 -e "{\"dr_drill_checks\": [\"$here/files/checks/app_down.yml\"]}"
grep -q "no record of the drill on HV-DRILL02" "$work/lost.log"
verify lost
ansible localhost -m hyperv.replica.failover -a "{\"hostname\": \"127.0.0.1\", \"port\": $port2, \"scheme\": \"http\",
    \"username\": \"drill\", \"password\": \"Dr1ll-Pa55!\", \"vms\": [\"mq01\", \"file01\"], \"state\": \"reverted\",
    \"poll_interval\": 0.2}" >"$work/lost-cleanup.log" || { cat "$work/lost-cleanup.log"; exit 1; }

# 6. An unknown VM on HV-DRILL01 stops that host's drill before anything starts; on HV-DRILL02 file01's revert job
#    fails, so file01 is left failed over, and said so loudly.
inventory "dr_drill_vms='[\"web01\", \"nosuch01\"]'" "" >"$work/inventory-broken.ini"
clear_requests
"$python" -c 'import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST"), timeout=10)' \
    "http://127.0.0.1:$port2/_sim/faults" '{"operation": "Invoke:RevertFailover", "vm": "file01", "job": "exception", "count": 1}'
drill broken 2
grep -q "LEFT FAILED OVER: file01 on HV-DRILL02 (Recovered)" "$work/broken.log"
verify broken

# The password is in the inventory only: not in any output (the check-mode run is at -vvv) nor in any report file.
if grep -rl "Dr1ll-Pa55" "$work"/*.log "$work"/full "$work"/serial "$work"/clean "$work"/broken "$work"/lost; then
    echo "the password reached the files above" >&2
    exit 1
fi
