"""`make soak`: failover/revert cycles over 100 simulated VMs with random faults, checked against the host's truth.

Each round fails every VM over in one call, boots a third of the failed-over VMs (running or paused, as a drill
does), then reverts every VM in one call, the way the dr_drill role does: the revert turns the booted ones off first.
Meanwhile the simulator drops connections before and after Invokes, answers bare HTTP 500s and operation timeouts to
reads, answers Invokes with half an envelope, and fails jobs, each at random (seeded). One cycle is one VM failed
over and reverted; 10 rounds of 100 VMs make 1000 cycles. After every call it checks, from the simulator's own record:

* mismatches: a VM whose real replication state is not the state the call reported for it (a VM whose error says
  its outcome is unknown is counted apart, as "unknown": the module said it did not know), or one reported turned
  off that is not off;
* duplicate invokes: a VM on which one call's InitiateFailover, RevertFailover or turn-off took effect more than once
  (two new jobs of that kind on it);
* unnamed errors: an error that does not name its VM.

Then, with the random faults cleared, two more kinds of run that must leave nothing wrong at all:

* clustered faults: several failures in a row (drops before and after Invokes, w:TimedOut on Invoke, bursts of
  bare 500s and drops on reads), each waited out within wait_timeout: "left in the wrong state" counts the VMs not
  where the call asked, "failed VMs" those reported failed;
* two runs at once on the same VMs, both directions: both must end with the host as asked and no VM failed.

And test failovers (issue 18), with the random faults on: each round gives every VM a test VM, boots a third of them,
and removes them all, while ordinary VMs named "<replica> - Test" stand by as decoys. "destroyed other than a test
VM" counts every VM DestroySystem removed that was not a Test Replica of a named replica (decoys included);
"test VMs left" those still there after a last cleanup without faults; "test mismatches" a VM reported with (or
without) a test VM that the host does not show.

Figures go to the terminal and to build/soak/soak.json; the exit code is 1 when any of the three is not zero.
Run from the repository root after `make collection` (the Makefile does both).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "build"), str(REPO / "tests" / "simulator")]

# pylint: disable=wrong-import-position
from hypervsim import Simulator  # noqa: E402
from ansible_collections.hyperv.replica.plugins.module_utils.connection import Connection  # noqa: E402
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.failover import FailoverRun, Request  # noqa: E402
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import test_failover  # noqa: E402
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import REPLICATION_STATES  # noqa: E402
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter  # noqa: E402
from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import Retry  # noqa: E402
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import WSManError  # noqa: E402

USER = {"username": "soak", "password": "S0ak-Pa55!"}


def job_ids(sim: Simulator) -> set:
    return {job["id"] for job in sim.jobs()}


def faults(rate: float, seed: int) -> List[Dict[str, Any]]:
    """The random faults of a run, by kind (fault-injection rules of the simulator; probability per request)."""
    rules = []
    for index, (operation, effect) in enumerate([
            ("Invoke:*", {"drop": "before"}), ("Invoke:*", {"drop": "after"}),
            ("Enumerate", {"fault": "http500"}), ("Pull", {"fault": "http500"}), ("Get", {"fault": "http500"}),
            ("Enumerate", {"fault": "TimedOut"}), ("Pull", {"fault": "TimedOut"}),
            ("Enumerate", {"drop": "before"}), ("Invoke:*", {"job": "exception"}),
            ("Invoke:*", {"body": "truncated"})]):
        rules.append(dict(operation=operation, probability=rate, seed=seed + index, count=None, **effect))
    return rules


def check(sim: Simulator, results: List[Dict[str, Any]], totals: Counter, before: set) -> None:
    """``before``: the host's jobs before the call. An operation took effect once per job it started, so a VM with
    two new jobs of one kind had it done twice (a request that reached the host but was refused, or faulted, or
    dropped before acting, started none)."""
    truth = {vm["id"].upper(): REPLICATION_STATES.get(vm["state"], vm["state"]) for vm in sim.vms()}
    power = {vm["id"].upper(): vm["power"] for vm in sim.vms()}
    for result in results:
        if result["turned_off"]:
            totals["running VMs turned off to revert"] += 1
            if power.get(result["id"].upper()) != 3:
                totals["mismatches"] += 1
                print("  mismatch: %s reported turned off, host has power %s" % (result["name"], power.get(result["id"])))
        error = result["error"] or ""
        if error and result["name"] not in error and result["id"] not in error:
            totals["unnamed errors"] += 1
        if "unknown" in error or "could not be read" in error:
            totals["unknown (reported as such)"] += 1
        elif truth.get(result["id"].upper()) != result["state_after"]:
            totals["mismatches"] += 1
            real = truth.get(result["id"].upper())
            print("  mismatch: %s reported %s, host has %s (%s)"
                  % (result["name"], result["state_after"], real, error[:160]))
    acted = Counter((job["vm"], job["type"]) for job in sim.jobs() if job["id"] not in before)
    totals["duplicate invokes"] += sum(1 for count in acted.values() if count > 1)
    totals["invokes that took effect"] += sum(acted.values())


def run_module(sim: Simulator, run: Any, what: str, totals: Counter) -> List[Dict[str, Any]]:
    """One module run, ``run(cim, waiter)`` giving its VM results, with the module's policy scaled down like the job
    times (a minute, not ten)."""
    port = int(sim.endpoint.rsplit(":", 1)[1].split("/", 1)[0])
    params = {"hostname": "127.0.0.1", "port": port, "scheme": "http", "transport": "ntlm", **USER}
    waiter = Waiter(60, 0.05)
    retry = Retry(attempts=None, base=0.02, cap=0.2, budget=waiter.remaining)
    connection = Connection(params, 8, retry)
    try:
        results = [r.as_dict() for r in run(connection.cim, waiter)]
    except WSManError as exc:
        # The whole call failed before any VM was started (its lookup did not get through): nothing to compare.
        totals["calls failed before acting"] += 1
        print("  %s call failed before acting: %s" % (what, str(exc)[:160]))
        return []
    finally:
        connection.close()
    totals["retried reads"] += retry.retried
    totals["VM errors"] += sum(1 for r in results if r["error"])
    return results


def run_once(sim: Simulator, names: List[str], desired: str, totals: Counter) -> List[Dict[str, Any]]:
    """One failover module run."""
    request = Request(vms=names, desired=desired, max_concurrent=8)
    return run_module(sim, lambda cim, waiter: FailoverRun(cim, waiter).run(request), desired, totals)


def call(sim: Simulator, names: List[str], desired: str, totals: Counter) -> None:
    before = job_ids(sim)
    check(sim, run_once(sim, names, desired, totals), totals, before)


STATE_OF = {"failed_over": 5, "reverted": 3}
# Failures in a row, each waited out within wait_timeout (issue 17): (operation, effect, how many in a row).
CLUSTERS = [("Invoke:*", {"drop": "before"}, 5), ("Invoke:*", {"drop": "after"}, 5),
            ("Invoke:RevertFailover", {"fault": "TimedOut"}, 4), ("Invoke:InitiateFailover", {"fault": "TimedOut"}, 4),
            ("Enumerate", {"fault": "http500"}, 6), ("Pull", {"drop": "before"}, 5), ("Get", {"fault": "http500"}, 5)]


def must_be_as_asked(sim: Simulator, names: List[str], desired: str, results: List[Dict[str, Any]],
                     totals: Counter) -> None:
    wrong = [vm["name"] for vm in sim.vms() if vm["name"] in names and vm["state"] != STATE_OF[desired]]
    totals["left in the wrong state"] += len(wrong)
    totals["failed VMs"] += sum(1 for r in results if r["error"]) + (0 if results else len(names))
    for result in (r for r in results if r["error"]):
        print("  %s failed: %s" % (result["name"], result["error"][:200]))


def clustered(sim: Simulator, names: List[str], totals: Counter) -> None:
    """Every cluster of failures, on a failover then a revert of every VM."""
    for operation, effect, count in CLUSTERS:
        for desired in ("failed_over", "reverted"):
            sim.add_fault(operation=operation, count=count, **effect)
            before = job_ids(sim)
            results = run_once(sim, names, desired, totals)
            check(sim, results, totals, before)
            must_be_as_asked(sim, names, desired, results, totals)
            sim.clear_faults()
        totals["fault clusters waited out"] += 1


def concurrent(sim: Simulator, names: List[str], totals: Counter) -> None:
    """Two runs at once on the same VMs, failing them over, then reverting them (booted ones included)."""
    for desired in ("failed_over", "reverted"):
        if desired == "reverted":
            boot(sim, names, totals)
        before = job_ids(sim)
        outcomes: Dict[int, List[Dict[str, Any]]] = {}
        threads = [threading.Thread(target=lambda i=i: outcomes.update({i: run_once(sim, names, desired, totals)}))
                   for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        both = outcomes.get(0, []) + outcomes.get(1, [])
        check(sim, both, totals, before)
        must_be_as_asked(sim, names, desired, both, totals)
        totals["concurrent runs"] += 2


def boot(sim: Simulator, names: List[str], totals: Counter) -> None:
    """Start or pause a third of the failed-over VMs, as a drill boots them: their revert must turn them off first."""
    failed_over = [vm["name"] for vm in sim.vms() if vm["name"] in names and vm["state"] == 5]
    for name in random.sample(failed_over, len(failed_over) // 3):
        sim.set_vm(name, power=random.choice(["running", "paused"]))
        totals["VMs booted before their revert"] += 1


def run_tests(sim: Simulator, names: List[str], desired: str, totals: Counter) -> List[Dict[str, Any]]:
    """One test_failover module run (present or absent)."""
    request = test_failover.Request(vms=names, desired=desired, max_concurrent=8)
    return run_module(sim, lambda cim, waiter: test_failover.TestFailoverRun(cim, waiter).run(request),
                      "test " + desired, totals)


def check_tests(sim: Simulator, results: List[Dict[str, Any]], desired: str, totals: Counter, before: set) -> None:
    """What a test failover run reported against the host: each VM without an error has (present) or has not (absent)
    a test VM, the one reported; every error names its VM; a replica's TestReplicaSystem took effect once at most."""
    tests = {vm["test_of"]: vm["id"] for vm in sim.vms() if vm["mode"] == "test_replica" and vm["test_of"]}
    for result in results:
        error = result["error"] or ""
        if error and result["name"] not in error and result["id"] not in error:
            totals["unnamed errors"] += 1
        if error:
            continue
        reported = (result["test_vm"] or {}).get("id")
        if reported != tests.get(result["name"]) or (desired == "present") != (reported is not None):
            totals["test mismatches"] += 1
            print("  test mismatch: %s reported %s, host has %s" % (result["name"], reported, tests.get(result["name"])))
    acted = Counter((job["vm"], job["type"]) for job in sim.jobs() if job["id"] not in before)
    totals["duplicate invokes"] += sum(1 for count in acted.values() if count > 1)


def test_failovers(sim: Simulator, names: List[str], rounds: int, totals: Counter) -> None:
    """Test VMs made, a third booted, all removed, ``rounds`` times, under the random faults."""
    for _round in range(rounds):
        for desired in ("present", "absent"):
            if desired == "absent":
                made = [vm["id"] for vm in sim.vms() if vm["mode"] == "test_replica"]
                for vm_id in random.sample(made, len(made) // 3):
                    sim.set_vm(vm_id, power="running")
                    totals["test VMs booted before their removal"] += 1
            before = job_ids(sim)
            check_tests(sim, run_tests(sim, names, desired, totals), desired, totals, before)
        totals["test failover rounds"] += 1


def destroyed_wrongly(sim: Simulator, names: List[str]) -> int:
    return sum(1 for vm in sim.destroyed() if vm["mode"] != 3 or vm["test_of"] not in names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--vms", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--fault-rate", type=float, default=0.03, help="probability of each fault kind per request")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--json", type=Path, default=REPO / "build" / "soak" / "soak.json")
    args = parser.parse_args()
    random.seed(args.seed)
    names = ["soak%03d" % i for i in range(args.vms)]
    # Ordinary VMs named as the test VMs of the first tenth will be: the cleanup must never take them.
    decoys = [{"name": n + " - Test", "mode": "none", "state": "disabled", "power": "running"}
              for n in names[:max(1, args.vms // 10)]]
    fleet = {"hosts": [{"name": "HV-SOAK01", "users": [USER], "job_seconds": 0.05,
                        "vms": [{"name": n, "mode": "replica", "state": "replicating", "power": "off"}
                                for n in names] + decoys,
                        "faults": faults(args.fault_rate, args.seed)}]}
    totals: Counter = Counter()
    started = time.monotonic()
    with Simulator(fleet) as sim:
        for round_number in range(1, args.rounds + 1):
            call(sim, names, "failed_over", totals)
            boot(sim, names, totals)
            call(sim, names, "reverted", totals)
            elapsed = time.monotonic() - started
            print("round %d/%d: %.0f s, %s" % (round_number, args.rounds, elapsed, dict(totals)), flush=True)
        test_failovers(sim, names, max(1, args.rounds // 3), totals)
        print("test failovers: %.0f s, %s" % (time.monotonic() - started, dict(totals)), flush=True)
        fired = Counter()
        for rule in sim.faults():
            effect = next("%s=%s" % (key, rule[key]) for key in ("drop", "fault", "job", "body") if key in rule)
            fired["%s %s" % (rule["operation"], effect)] += rule["fired"]
        # Back to Replicating from whatever the random faults left, then the runs that must leave nothing wrong.
        sim.clear_faults()
        run_once(sim, names, "reverted", Counter())
        run_tests(sim, names, "absent", Counter())
        totals["test VMs left"] += sum(1 for vm in sim.vms() if vm["mode"] == "test_replica")
        totals["destroyed other than a test VM"] += destroyed_wrongly(sim, names)
        totals["decoys left"] += sum(1 for vm in sim.vms() if vm["mode"] == "none" and vm["name"].endswith(" - Test"))
        # A fifth of the VMs: these runs are about failures in a row and runs at once, not about scale.
        clustered(sim, names[:max(1, len(names) // 5)], totals)
        concurrent(sim, names[:max(1, len(names) // 5)], totals)
        print("clusters and concurrent runs: %.0f s, %s" % (time.monotonic() - started, dict(totals)), flush=True)
    wall = time.monotonic() - started
    figures = {"cycles": args.vms * args.rounds, "vms": args.vms, "rounds": args.rounds, "seconds": round(wall, 1),
               "fault_rate": args.fault_rate, "seed": args.seed, "faults_injected": dict(fired),
               "faults_injected_total": sum(fired.values()), **{k.replace(" ", "_"): v for k, v in totals.items()}}
    for key in ("mismatches", "duplicate_invokes", "unnamed_errors", "unknown_(reported_as_such)",
                "calls_failed_before_acting", "retried_reads", "VM_errors", "left_in_the_wrong_state", "failed_VMs",
                "test_mismatches", "test_VMs_left", "destroyed_other_than_a_test_VM"):
        figures.setdefault(key, 0)
    print(json.dumps(figures, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    bad = (figures["mismatches"] + figures["duplicate_invokes"] + figures["unnamed_errors"]
           + figures["left_in_the_wrong_state"] + figures["failed_VMs"] + figures["test_mismatches"]
           + figures["test_VMs_left"] + figures["destroyed_other_than_a_test_VM"]
           + (len(decoys) - figures["decoys_left"]))
    print("soak: %d cycles in %.0f s, %d faults injected: %d mismatches, %d duplicate invokes, %d unnamed errors; "
          "clustered faults and concurrent runs: %d left in the wrong state, %d failed VMs; test failovers: %d "
          "mismatches, %d test VMs left, %d VMs destroyed that were not a named replica's test VM, %d of %d decoys left"
          % (figures["cycles"], wall, figures["faults_injected_total"], figures["mismatches"],
             figures["duplicate_invokes"], figures["unnamed_errors"], figures["left_in_the_wrong_state"],
             figures["failed_VMs"], figures["test_mismatches"], figures["test_VMs_left"],
             figures["destroyed_other_than_a_test_VM"], figures["decoys_left"], len(decoys)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
