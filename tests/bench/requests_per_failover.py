"""WinRM requests and wall time of one failover and one revert call for N VMs, against the simulator.

Run by `make bench` from the repository root (it needs the collection tree that the Makefile builds
under build/). Prints one line per N and operation; no assertion: figures, not tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "build"), str(REPO / "tests" / "simulator")]

# pylint: disable=wrong-import-position
from hypervsim import Simulator  # noqa: E402
from ansible_collections.hyperv.replica.plugins.module_utils import connection  # noqa: E402
from ansible_collections.hyperv.replica.plugins.module_utils.replica import ReplicaRun, Request  # noqa: E402
from ansible_collections.hyperv.replica.plugins.module_utils.waiter import Waiter  # noqa: E402


def measure(count: int, job_seconds: float, poll: float) -> None:
    names = ["vm%04d" % i for i in range(count)]
    fleet = {"hosts": [{"name": "HV-BENCH", "users": [{"username": "bench", "password": "bench"}],
                        "job_seconds": job_seconds,
                        "vms": [{"name": n, "mode": "replica", "state": "replicating", "power": "off"} for n in names]}]}
    with Simulator(fleet) as sim:
        port = int(sim.endpoint.rsplit(":", 1)[1].split("/", 1)[0])
        params = {"hostname": "127.0.0.1", "port": port, "scheme": "http", "transport": "ntlm",
                  "username": "bench", "password": "bench"}
        for desired in ("failed_over", "reverted"):
            sim.reset_counters()
            started = time.monotonic()
            results = ReplicaRun(connection.cim_client(params), Waiter(600, poll)).converge(
                Request(vms=names, desired=desired))
            wall = time.monotonic() - started
            counts = sim.counters()
            failed = sum(1 for r in results if r.error)
            detail = ", ".join("%s %d" % (k, v) for k, v in sorted(counts.items()) if k not in ("total", "auth_failures"))
            print("N=%-4d %-11s requests %4d  per VM %5.2f  wall %6.2f s  failed %d  (%s)"
                  % (count, desired, counts["total"], counts["total"] / count, wall, failed, detail))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vms", type=int, nargs="+", default=[1, 3, 10, 50])
    parser.add_argument("--job-seconds", type=float, default=0.2)
    parser.add_argument("--poll", type=float, default=0.25)
    args = parser.parse_args()
    print("job %.2f s, poll every %.2f s, simulator on loopback, NTLM with message encryption over HTTP" % (args.job_seconds, args.poll))
    for count in args.vms:
        measure(count, args.job_seconds, args.poll)


if __name__ == "__main__":
    main()
