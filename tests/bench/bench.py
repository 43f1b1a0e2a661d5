"""`make bench`: what one failover task costs for N VMs on one host, and what a loop of one-VM tasks costs instead.

Figures, not tests, with one exception: the bench exits 1 when a target is missed, and a target read from a run
in which any VM failed is missed (with that run's first error), because its figures do not measure the work. The
simulator runs in this process with a network round trip of `--latency-ms` on every HTTP request (logon legs
included) and jobs of `--job-seconds`; each module run is a real module process, started the way Ansible starts
one (python, the module, its arguments file), so its CPU time and peak memory are the module's own. Requests are
counted by the simulator; poll ticks come from the module's result. The loop runs the module once per VM, one after
another, the way a playbook with `loop:` would; it leaves out Ansible's own per-item cost (templating, a new task
result, the module copied over), so it flatters the loop.

Run from the repository root after `make collection` (the Makefile does both). Results go to the terminal and to
a JSON file (build/bench/bench.json unless told otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "simulator"))

from hypervsim import Simulator  # noqa: E402  pylint: disable=wrong-import-position

USER = {"username": "bench", "password": "Bench-Pa55!"}
MODULES = "ansible_collections.hyperv.replica.plugins.modules."
JOB_CLASS = "Msvm_ConcreteJob"


@dataclass
class ModuleRun:
    """One module process: its result and what it cost."""

    result: Dict[str, Any]
    wall: float
    cpu: float
    peak_mb: float
    counters: Dict[str, int]
    # CPU time of this process while the module ran: the simulator's work (the host's side), on the same machine.
    sim_cpu: float

    @property
    def failed(self) -> bool:
        return bool(self.result.get("failed"))

    @property
    def first_error(self) -> str:
        """The first VM's error, else the task's message when it failed as a whole; "" when nothing failed."""
        errors = [vm.get("error") for vm in self.result.get("vms") or [] if vm.get("error")]
        if errors:
            return str(errors[0])
        return str(self.result.get("msg") or "failed") if self.failed else ""


@dataclass
class Row:  # pylint: disable=too-many-instance-attributes
    """The figures of one task over N VMs."""

    vms: int
    operation: str
    wall: float
    cpu: float
    peak_mb: float
    sim_cpu: float
    requests: int
    job_queries: int
    polls: int
    connections: int
    logons: int
    failed: int
    # The first error of the run, "" when no VM failed: a target read from a broken run is not met.
    error: str = ""
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def per_vm(self) -> float:
        return self.requests / self.vms

    @property
    def per_vm_without_polls(self) -> float:
        return (self.requests - self.job_queries) / self.vms

    @property
    def per_poll(self) -> Optional[float]:
        return self.job_queries / self.polls if self.polls else None

    @property
    def per_poll_per_chunk(self) -> Optional[float]:
        """Job requests per poll tick for each query of 50 jobs (jobs.POLL_CHUNK): what must not grow with N."""
        chunks = -(-self.vms // 50)
        return self.per_poll / chunks if self.per_poll is not None else None


def fleet(count: int, job_seconds: float, latency_ms: float, boot_seconds: float = 1.0) -> dict:
    # Each on the production (external) switch with failover addresses of its own: the network guard reads the
    # adapters and the switch's kind before the boot, and lets them all start.
    vms = [{"name": "vm%04d" % i, "mode": "replica", "state": "replicating", "power": "off",
            "boot_seconds": boot_seconds, "shutdown_seconds": 1,
            "adapters": [{"switch": "Production", "failover": {
                "ip_addresses": ["192.168.%d.%d" % (60 + i // 250, i % 250 + 1)], "subnets": ["255.255.255.0"]}}]}
           for i in range(count)]
    return {"hosts": [{"name": "HV-BENCH", "users": [USER], "job_seconds": job_seconds,
                       "network_latency_ms": latency_ms, "vms": vms}]}


def connection_args(sim: Simulator) -> Dict[str, Any]:
    port = int(sim.endpoint.rsplit(":", 1)[1].split("/", 1)[0])
    # NTLM with message encryption over http: what a Windows host accepts by default.
    return {"hostname": "127.0.0.1", "port": port, "scheme": "http", "transport": "ntlm", **USER}


def run_module(sim: Simulator, collections: Path, module: str, args: Dict[str, Any]) -> ModuleRun:
    """Run one module process and measure it: wall time here, CPU and peak RSS from the kernel (wait4)."""
    sim.reset_counters()
    with tempfile.TemporaryDirectory() as scratch:
        args_file = Path(scratch, "args.json")
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        out = Path(scratch, "out.json")
        env = dict(os.environ, PYTHONPATH=str(collections))
        started, sim_started = time.monotonic(), time.process_time()
        errors = Path(scratch, "err.txt")
        with out.open("wb") as sink, errors.open("wb") as err:
            proc = subprocess.Popen([sys.executable, "-m", MODULES + module, str(args_file)],  # pylint: disable=consider-using-with
                                    stdout=sink, stderr=err, env=env, cwd=scratch)
            _pid, _status, usage = os.wait4(proc.pid, 0)
        wall, sim_cpu = time.monotonic() - started, time.process_time() - sim_started
        proc.returncode = 0  # reaped by wait4 above
        text, stderr = out.read_text(), errors.read_text()
    try:
        result = json.loads(text)
    except ValueError:
        result = {"failed": True, "msg": "module output is not JSON: " + (text + stderr)[-500:]}
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    peak_mb = usage.ru_maxrss / (1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0)
    return ModuleRun(result=result, wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_mb=peak_mb,
                     counters=sim.counters(), sim_cpu=sim_cpu)


def job_queries(counters: Dict[str, int]) -> int:
    return sum(v for k, v in counters.items() if k.endswith(" " + JOB_CLASS) and not k.startswith("Invoke"))


def row(count: int, operation: str, run: ModuleRun) -> Row:
    counters = run.counters
    failed = sum(1 for vm in run.result.get("vms") or [] if vm.get("error")) or (count if run.failed else 0)
    return Row(vms=count, operation=operation, wall=run.wall, cpu=run.cpu, peak_mb=run.peak_mb, sim_cpu=run.sim_cpu,
               requests=counters.get("total", 0), job_queries=job_queries(counters),
               polls=int((run.result.get("stats") or {}).get("polls", 0)), connections=counters.get("connections", 0),
               logons=counters.get("logons", 0), failed=failed, error=run.first_error)


def loop(sim: Simulator, collections: Path, names: List[str], sample: int) -> Dict[str, Any]:
    """One failover task per VM, one after another; past ``sample`` VMs the rest is estimated from the mean."""
    measured = names[:sample]
    wall = cpu = 0.0
    requests = logons = failed = 0
    error = ""
    for name in measured:
        run = run_module(sim, collections, "failover", dict(connection_args(sim), vms=[name], state="failed_over"))
        wall += run.wall
        cpu += run.cpu
        requests += run.counters.get("total", 0)
        logons += run.counters.get("logons", 0)
        failed += 1 if run.failed else 0
        error = error or run.first_error
    scale = len(names) / len(measured)
    # Back to Replicating in one task, unmeasured, so that every N starts from the same state.
    run_module(sim, collections, "failover", dict(connection_args(sim), vms=measured, state="reverted"))
    return {"vms": len(names), "measured_calls": len(measured), "estimated": len(measured) < len(names),
            "wall": wall * scale, "cpu": cpu * scale, "requests": round(requests * scale),
            "logons": round(logons * scale), "failed": failed, "error": error}


def measure(count: int, args: argparse.Namespace, collections: Path) -> Dict[str, Any]:
    names = ["vm%04d" % i for i in range(count)]
    with Simulator(fleet(count, args.job_seconds, args.latency_ms, args.boot_seconds)) as sim:
        base = connection_args(sim)
        failover = run_module(sim, collections, "failover", dict(base, vms=names, state="failed_over"))
        recovered = sum(1 for vm in sim.vms() if vm["state"] == 5)
        booted = run_module(sim, collections, "vm_power", dict(base, vms=names, state="running"))
        stopped = run_module(sim, collections, "vm_power", dict(base, vms=names, state="off"))
        revert = run_module(sim, collections, "failover", dict(base, vms=names, state="reverted"))
        replicating = sum(1 for vm in sim.vms() if vm["state"] == 3)
        info = run_module(sim, collections, "replication_info", dict(base, name=names))
        tested = run_module(sim, collections, "test_failover", dict(base, vms=names, state="present"))
        test_vms = sum(1 for vm in sim.vms() if vm["mode"] == "test_replica")
        cleaned = run_module(sim, collections, "test_failover", dict(base, vms=names, state="absent"))
        destroyed = sim.destroyed()
        looped = loop(sim, collections, names, count if count <= args.loop_max else args.loop_sample)
    rows = [row(count, "failover", failover), row(count, "revert", revert), row(count, "replication_info", info),
            row(count, "test present", tested), row(count, "test absent", cleaned),
            row(count, "boot (heartbeat)", booted), row(count, "guest shutdown", stopped)]
    # The guest reads of the boot: heartbeat and KVP queries (Enumerate and Pulls), per tick (an Enumerate of
    # heartbeats per 40 VMs per tick) and per VM.
    guest = {k: v for k, v in booted.counters.items() if k.endswith(("Msvm_HeartbeatComponent", "Msvm_KvpExchangeComponent"))
             and not k.startswith("Invoke")}
    ticks = booted.counters.get("Enumerate Msvm_HeartbeatComponent", 0) / -(-count // 40)
    rows[5].extra["guest_requests_per_vm_per_tick"] = sum(guest.values()) / ticks / count if ticks else None
    rows[3].extra["test_vms"] = test_vms
    rows[4].extra["destroyed"] = len(destroyed)
    rows[4].extra["destroyed_not_test_vms"] = sum(1 for vm in destroyed if vm["mode"] != 3)
    rows[0].extra["vms_recovered"] = recovered
    rows[1].extra["vms_replicating"] = replicating
    return {"vms": count, "rows": rows, "loop": looped}


def machine() -> Dict[str, Any]:
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    versions = {}
    for dist in ("ansible-core", "pywinrm", "requests", "pyspnego"):
        try:
            from importlib.metadata import version  # pylint: disable=import-outside-toplevel
            versions[dist] = version(dist)
        except Exception:  # pylint: disable=broad-exception-caught
            versions[dist] = None
    return {"platform": platform.platform(), "cpu": model or platform.processor(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "packages": versions}


def fmt(value: Optional[float], spec: str = "%.2f") -> str:
    return "-" if value is None else spec % value


def print_tables(results: List[Dict[str, Any]], args: argparse.Namespace) -> None:
    print("\nOne task for all N VMs (module defaults: max_concurrent 8, poll_interval 1 s)")
    print("%5s %-16s %7s %6s %8s %7s %13s %6s %10s %6s %7s %6s %8s %8s %6s" % (
        "N", "task", "wall s", "/job", "requests", "/VM", "/VM w/o polls", "polls", "jobq/poll", "conns", "logons",
        "cpu s", "peak MB", "host cpu", "failed"))
    for result in results:
        for item in result["rows"]:
            print("%5d %-16s %7.2f %6s %8d %7.2f %13.2f %6d %10s %6d %7d %6.2f %8.1f %8.2f %6d" % (
                item.vms, item.operation, item.wall,
                "-" if item.operation == "replication_info" else fmt(item.wall / args.job_seconds),
                item.requests, item.per_vm, item.per_vm_without_polls, item.polls, fmt(item.per_poll),
                item.connections, item.logons, item.cpu, item.peak_mb, item.sim_cpu, item.failed))
    print("(cpu s and peak MB: the module process; host cpu: the simulator, in the benchmark's process; jobq/poll: "
          "Msvm_ConcreteJob requests per poll tick, an Enumerate per 50 jobs and the Pulls of their answers)")
    print("\nThe same failovers as a loop of one-VM tasks")
    print("%5s %12s %10s %9s %14s %12s %13s" % ("N", "loop wall s", "one task s", "speed-up", "loop requests",
                                                "loop logons", "loop cpu s"))
    for result in results:
        looped, one = result["loop"], result["rows"][0]
        note = " (est. from %d calls)" % looped["measured_calls"] if looped["estimated"] else ""
        print("%5d %12.1f %10.2f %8.1fx %14d %12d %13.1f%s" % (
            result["vms"], looped["wall"], one.wall, looped["wall"] / one.wall, looped["requests"],
            looped["logons"], looped["cpu"], note))


Target = Tuple[str, bool, str]


def _target(text: str, met: bool, *runs: Any) -> Target:
    """A target and whether it is met; never met when a run it reads had a failed VM (its figures are not those of
    the work it should measure): then the first such run's error is given instead."""
    error = next((run.error if isinstance(run, Row) else run.get("error") or "failed"
                  for run in runs if (run.failed if isinstance(run, Row) else run.get("failed"))), "")
    return text, met and not error, error


def targets(results: List[Dict[str, Any]], args: argparse.Namespace) -> List[Target]:
    by_n = {r["vms"]: r for r in results}
    lines = []
    if 100 in by_n:
        one, looped = by_n[100]["rows"][0], by_n[100]["loop"]
        lines.append(_target("100 VMs: wall / job time %.2f (target <= 2)" % (one.wall / args.job_seconds),
                             one.wall / args.job_seconds <= 2, one))
        lines.append(_target("100 VMs: %.1fx faster than the loop (target >= 30x)" % (looped["wall"] / one.wall),
                             looped["wall"] / one.wall >= 30, one, looped))
    for result in results:
        one = result["rows"][0]
        if one.vms < 10:
            # A task's fixed requests (the service lookup, the read-back) are not per VM; with one VM they are.
            continue
        lines.append(_target("%d VMs: %.2f requests per VM besides polls (target <= 3)" % (
            one.vms, one.per_vm_without_polls), one.per_vm_without_polls <= 3, one))
        # Windows answers an optimized Enumerate with one job and Pulls the rest: at most an Enumerate and two Pulls
        # for a query of 50 jobs, the same for 10 VMs as for 500.
        per_chunk = one.per_poll_per_chunk
        lines.append(_target("%d VMs: %s job requests per poll tick per 50 jobs (target: constant, <= 3)" % (
            one.vms, fmt(per_chunk)), per_chunk is not None and per_chunk <= 3, one))
    for result in results:
        present, absent = result["rows"][3], result["rows"][4]
        if present.vms < 100:
            continue
        for item, done in ((present, present.extra["test_vms"] == present.vms),
                           (absent, absent.extra["destroyed"] == absent.vms
                            and not absent.extra["destroyed_not_test_vms"])):
            lines.append(_target("%d VMs: %s wall / job time %.2f (target <= 1.3)" % (
                item.vms, item.operation, item.wall / args.job_seconds), item.wall / args.job_seconds <= 1.3 and done,
                item))
            lines.append(_target("%d VMs: %s %.2f requests per VM besides polls (target <= 3)" % (
                item.vms, item.operation, item.per_vm_without_polls), item.per_vm_without_polls <= 3, item))
    for result in results:
        boot = result["rows"][5]
        if boot.vms < 100:
            continue
        slowest = args.job_seconds + args.boot_seconds   # the start job, then the guest's boot
        lines.append(_target("%d VMs: boot wall / slowest boot %.2f (target <= 1.3)" % (boot.vms, boot.wall / slowest),
                             boot.wall / slowest <= 1.3, boot))
        per_tick = boot.extra.get("guest_requests_per_vm_per_tick")
        lines.append(_target("%d VMs: %s guest requests per VM per poll tick (target < 0.1)" % (
            boot.vms, fmt(per_tick, "%.3f")), per_tick is not None and per_tick < 0.1, boot))
    if 500 in by_n:
        peak = max(item.peak_mb for item in by_n[500]["rows"])
        lines.append(_target("500 VMs: controller peak memory %.1f MB (target < 150 MB)" % peak, peak < 150,
                             *by_n[500]["rows"]))
    return lines


def print_targets(lines: List[Target]) -> None:
    print("\nTargets (issues 6 and 18)")
    for text, met, error in lines:
        failure = " -- a run failed: %s" % " ".join(error.split())[:300] if error else ""
        print("  %-4s %s%s" % ("met" if met else "MISS", text, failure))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--vms", type=int, nargs="+", default=[1, 10, 100, 500])
    parser.add_argument("--job-seconds", type=float, default=2.0)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--boot-seconds", type=float, default=10.0, help="each guest's boot, after its start job")
    parser.add_argument("--loop-max", type=int, default=100,
                        help="loop every VM up to this N; beyond, loop --loop-sample VMs and scale up")
    parser.add_argument("--loop-sample", type=int, default=20)
    parser.add_argument("--collections", type=Path, default=REPO / "build",
                        help="the directory holding ansible_collections/hyperv/replica")
    parser.add_argument("--json", type=Path, default=REPO / "build" / "bench" / "bench.json")
    args = parser.parse_args()
    # Absolute: each module process runs in a scratch folder, where a relative PYTHONPATH finds nothing.
    args.collections = args.collections.resolve()
    if not (args.collections / "ansible_collections" / "hyperv" / "replica").is_dir():
        parser.error("no collection under %s: run `make collection` first" % args.collections)
    info = machine()
    print("machine: %s, %s CPUs, %s; Python %s; ansible-core %s, pywinrm %s" % (
        info["cpu"], info["cpus"], info["platform"], info["python"], info["packages"]["ansible-core"],
        info["packages"]["pywinrm"]))
    print("simulator: %.0f ms network round trip per HTTP request, %.1f s jobs, NTLM with message encryption over "
          "http, one host" % (args.latency_ms, args.job_seconds))
    results = []
    for count in args.vms:
        started = time.monotonic()
        results.append(measure(count, args, args.collections))
        print("  N=%d measured in %.0f s" % (count, time.monotonic() - started), flush=True)
    print_tables(results, args)
    lines = targets(results, args)
    print_targets(lines)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": info, "settings": {"job_seconds": args.job_seconds, "latency_ms": args.latency_ms,
                                             "loop_max": args.loop_max, "loop_sample": args.loop_sample},
               "results": [{"vms": r["vms"], "loop": r["loop"],
                            "tasks": [dict(asdict(i), requests_per_vm=round(i.per_vm, 3),
                                           requests_per_vm_without_polls=round(i.per_vm_without_polls, 3),
                                           job_queries_per_poll=i.per_poll) for i in r["rows"]]}
                           for r in results],
               "targets": [{"target": text, "met": met, "error": error or None} for text, met, error in lines]}
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    print("\nJSON: %s" % os.path.relpath(args.json))
    missed = [text for text, met, _error in lines if not met]
    if missed:
        print("%d of %d targets missed" % (len(missed), len(lines)), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
