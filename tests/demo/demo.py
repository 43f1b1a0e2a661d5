"""`make demo`: a DR drill of two simulated replica servers, with the report at the end.

Starts the WinRM Hyper-V simulator on loopback with the demo fleet (two replica hosts, a dozen VMs, one of them
unhealthy), writes an inventory of the two hosts with their WinRM settings, runs the collection's playbook
`hyperv.replica.drill` (pre-check, fail over, a check, revert, report), stops the simulator, and prints where the
report is and its summary table. It exits non-zero only when the drill could not run (no report was written);
a drill that ran and found a problem is a result, shown in the report.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SIMULATOR = REPO / "tests" / "simulator"
USER, PASSWORD = "hvadmin", "Demo-Dr1ll!"  # the demo fleet's account; not a secret anywhere else


@contextmanager
def simulator(fleet: Path) -> Iterator[Dict[str, str]]:
    """Serve every host of the fleet in the background for the block; yields host name -> endpoint."""
    env = dict(os.environ, PYTHONPATH=str(SIMULATOR))
    with subprocess.Popen([sys.executable, "-m", "hypervsim", "--fleet", str(fleet), "--all-hosts", "--port", "0"],
                          stdout=subprocess.PIPE, text=True, env=env) as proc:
        try:
            endpoints: Dict[str, str] = {}
            for line in proc.stdout or []:
                found = re.match(r"^endpoint (\S+): (\S+)$", line.strip())
                if not found:
                    break
                endpoints[found.group(1)] = found.group(2)
                if len(endpoints) == 2:
                    break
            if len(endpoints) != 2:
                raise SystemExit("the simulator did not start (it served %r)" % endpoints)
            yield endpoints
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def write_inventory(endpoints: Dict[str, str], folder: Path) -> Path:
    """The replica hosts as an operator describes Windows hosts: WinRM over http with NTLM (messages encrypted)."""
    lines = ["[hyperv_replicas]"]
    for name, url in endpoints.items():
        port = url.rsplit(":", 1)[1].split("/", 1)[0]
        lines.append("%s ansible_host=127.0.0.1 ansible_port=%s" % (name, port))
    lines += ["", "[hyperv_replicas:vars]", "ansible_connection=winrm", "ansible_winrm_scheme=http",
              "ansible_winrm_transport=ntlm", "ansible_user=%s" % USER, "ansible_password=%s" % PASSWORD, ""]
    path = folder / "inventory.ini"
    path.write_text("\n".join(lines))
    return path


def run_drill(inventory: Path, collections: Path, report_dir: Path) -> int:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections.resolve()), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_RETRY_FILES_ENABLED="false")
    extra = {"dr_drill_report_dir": str(report_dir), "dr_drill_title": "Branch DR site drill (simulated)",
             "dr_drill_checks": [str(HERE / "checks" / "failed_over_vms.yml")], "dr_drill_poll_interval": 0.5}
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "hyperv.replica.drill", "-i", str(inventory),
               "-e", json.dumps(extra)]
    return subprocess.call(command, env=env)


def print_report(report_dir: Path, collections: Path) -> bool:
    path = report_dir / "report.json"
    if not path.exists():
        print("\nThe drill wrote no report: it could not run (see the output above).")
        return False
    sys.path.insert(0, str(collections.resolve()))
    # The same table the role prints, from the collection that ran.
    from ansible_collections.hyperv.replica.plugins.module_utils.report.render_markdown import summary_table
    report = json.loads(path.read_text())
    print("\n=== DR drill report: %s ===" % report_dir)
    for name in ("report.html", "report.md", "report.xml", "report.json"):
        print("  %s" % (report_dir / name))
    print()
    print(summary_table(report))
    problems = [(vm["host"], error) for vm in report["vms"] for error in vm["errors"]]
    problems += [(host["name"], host["error"]) for host in report["hosts"] if host["error"]]
    if problems:
        print("\nProblems:")
        for host, error in problems:
            print("  %s: %s" % (host, error))
    counts = report["counts"]
    print("\nResult: %s. %d VMs on %d hosts: %d passed, %d failed (pre-check %d), %d reverted, %d left failed over."
          % (report["result"].upper(), counts["vms"], counts["hosts"], counts["passed"], counts["failed"],
             counts["precheck_failed"], counts["reverted"], counts["left_failed_over"]))
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--collections", default=str(REPO / "build"), help="folder holding ansible_collections/")
    parser.add_argument("--fleet", default=str(HERE / "fleet.yml"))
    parser.add_argument("--report-dir", default=str(REPO / "build" / "demo-report"))
    args = parser.parse_args()
    started = time.monotonic()
    report_dir = Path(args.report_dir).resolve()
    for old in report_dir.glob("report.*"):
        old.unlink()  # a report left from an earlier run must not pass for this one
    with tempfile.TemporaryDirectory(prefix="hyperv-demo-") as tmp, simulator(Path(args.fleet)) as endpoints:
        print("simulated replica hosts: %s" % ", ".join("%s %s" % item for item in endpoints.items()))
        code = run_drill(write_inventory(endpoints, Path(tmp)), Path(args.collections), report_dir)
    ran = print_report(report_dir, Path(args.collections))
    print("demo wall time: %.1f s (ansible-playbook exit code %d)" % (time.monotonic() - started, code))
    return 0 if ran else 1


if __name__ == "__main__":
    sys.exit(main())
