# Sourced by the integration targets' runme.sh. Sets sim_root (this directory), python (ansible-test's interpreter)
# and work (a scratch directory), and an EXIT trap that stops the simulator and removes work. Then:
#   start_simulator FLEET [hypervsim options...]
# starts the simulator in the background and waits until it listens. Sets sim_pid, sim_port and, with
# --tls-cert, sim_https_port; with --all-hosts, `sim_port_of HOST` prints a host's port instead.
#   start_plain_http
# starts Python's http.server on loopback, a web server that is not WinRM (it answers a POST with HTTP 501), and
# sets plain_http_port.
# shellcheck shell=bash disable=SC2034,SC2154

sim_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
work="$(mktemp -d)"
trap 'for pid in ${sim_pid:-} ${plain_http_pid:-}; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
      rm -rf "$work"' EXIT

_sim_port_of() { local port="${1##*:}"; echo "${port%%/*}"; }

start_simulator() {
    local fleet="$1" ready='^endpoint[ :]' attempt
    shift
    case " $* " in *" --tls-cert "*) ready='^https_endpoint[ :]' ;; esac
    PYTHONPATH="$sim_root" "$python" -m hypervsim --fleet "$fleet" --port 0 "$@" >"$work/sim.out" 2>"$work/sim.err" &
    sim_pid=$!
    # Readiness, not timing: the simulator prints its endpoints once it is listening.
    for attempt in $(seq 1 200); do
        grep -q "$ready" "$work/sim.out" && break
        kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.err" >&2; return 1; }
        [ "$attempt" -lt 200 ] && sleep 0.05
    done
    grep -q "$ready" "$work/sim.out" || { echo "simulator did not start" >&2; cat "$work/sim.err" >&2; return 1; }
    sim_port="$(_sim_port_of "$(sed -n 's/^endpoint: //p' "$work/sim.out")")"
    sim_https_port="$(_sim_port_of "$(sed -n 's/^https_endpoint: //p' "$work/sim.out")")"
}

# With --all-hosts: the http port of one host of the fleet.
sim_port_of() { _sim_port_of "$(sed -n "s/^endpoint $1: //p" "$work/sim.out")"; }

start_plain_http() {
    local attempt
    mkdir -p "$work/plain"
    "$python" -u -m http.server --bind 127.0.0.1 --directory "$work/plain" 0 >"$work/plain.out" 2>&1 &
    plain_http_pid=$!
    for attempt in $(seq 1 200); do
        grep -q "^Serving HTTP" "$work/plain.out" && break
        kill -0 "$plain_http_pid" 2>/dev/null || { cat "$work/plain.out" >&2; return 1; }
        [ "$attempt" -lt 200 ] && sleep 0.05
    done
    plain_http_port="$(sed -n 's/^Serving HTTP on [^ ]* port \([0-9]*\).*/\1/p' "$work/plain.out")"
    [ -n "$plain_http_port" ] || { echo "http.server did not start" >&2; cat "$work/plain.out" >&2; return 1; }
}
