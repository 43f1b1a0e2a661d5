"""`make demo`: a DR drill against the WinRM Hyper-V simulator, with the per-VM results printed.

Starts the simulator on loopback with the demo fleet, runs drill.yml with ansible-playbook (fail over,
then revert), reads the results the playbook saved, and prints them as a table with the wall time and
the WinRM requests the host saw.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SIMULATOR = REPO / "tests" / "simulator"


@contextmanager
def simulator(fleet: Path) -> Iterator[str]:
    """Run the simulator in the background for the duration of the block; yields its endpoint."""
    env = dict(os.environ, PYTHONPATH=str(SIMULATOR))
    with subprocess.Popen([sys.executable, "-m", "hypervsim", "--fleet", str(fleet), "--port", "0"],
                          stdout=subprocess.PIPE, text=True, env=env) as proc:
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line.startswith("endpoint: "):
                raise SystemExit("the simulator did not start (it printed %r)" % line)
            yield line.split(" ", 1)[1].strip()
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def control(endpoint: str, path: str, method: str = "GET") -> object:
    base = endpoint.rsplit("/wsman", 1)[0]
    request = urllib.request.Request(base + "/_sim/" + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=10) as answer:  # nosec: loopback simulator
        body = answer.read()
    return json.loads(body) if body else None


def run_playbook(endpoint: str, collections: Path, results: Path) -> int:
    port = endpoint.rsplit(":", 1)[1].split("/", 1)[0]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections.resolve()),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    command = [ansible_playbook, "-i", "localhost,", "-c", "local", str(HERE / "drill.yml"),
               "-e", "sim_port=%s" % port, "-e", "results_dir=%s" % results]
    return subprocess.call(command, env=env)


def table(rows: List[List[str]]) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def report(results: Path) -> int:
    steps: Dict[str, dict] = {}
    for name in ("failover", "rerun", "revert"):
        path = results / ("%s.json" % name)
        if path.exists():
            steps[name] = json.loads(path.read_text())
    if "failover" not in steps:
        print("the drill produced no failover result")
        return 1
    reverted = {vm["id"]: vm for vm in steps.get("revert", {}).get("vms", [])}
    rerun = {vm["id"]: vm for vm in steps.get("rerun", {}).get("vms", [])}
    rows = [["VM", "before", "failover", "job", "seconds", "rerun changed", "after revert", "error"]]
    for vm in steps["failover"]["vms"]:
        back = reverted.get(vm["id"], {})
        rows.append([vm["name"], vm["state_before"], vm["state_after"], vm["job_state"] or "-",
                     vm["seconds_waited"] if vm["seconds_waited"] is not None else "-",
                     rerun.get(vm["id"], {}).get("changed", "-"), back.get("state_after", "-"),
                     (vm["error"] or "")[:90]])
    print(table(rows))
    print("\nfailover: %s" % steps["failover"].get("msg"))
    if "revert" in steps:
        print("revert:   %s" % steps["revert"].get("msg"))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--collections", default=str(REPO / "build"), help="folder holding ansible_collections/")
    parser.add_argument("--fleet", default=str(HERE / "fleet.yml"))
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hyperv-demo-") as tmp, simulator(Path(args.fleet)) as endpoint:
        print("simulator: %s" % endpoint)
        code = run_playbook(endpoint, Path(args.collections), Path(tmp))
        counters = control(endpoint, "counters")
        print("\n=== DR drill results ===")
        status = report(Path(tmp))
    print("\nWinRM requests seen by the host: %s" % json.dumps(counters, sort_keys=True))
    print("demo wall time: %.1f s (playbook exit code %d)" % (time.monotonic() - started, code))
    return status


if __name__ == "__main__":
    sys.exit(main())
