"""A simulated Hyper-V host for the plugin tests: in-process, on a manual clock, spoken to over NTLM on http
(what a Windows host accepts by default), so nothing sleeps and every request is counted."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List

from ansible_collections.hyperv.replica.plugins.module_utils.connection import Connection
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "simulator"))
from hypervsim import Simulator  # noqa: E402  pylint: disable=wrong-import-position
from hypervsim.clock import ManualClock  # noqa: E402  pylint: disable=wrong-import-position

USER = {"username": "hvadmin", "password": "Sim-S3cret!pw"}
# An account WinRM lets in but that is not in the host's Hyper-V Administrators: it sees no Hyper-V instance.
OUTSIDER = {"username": "helpdesk", "password": "Help-D3sk!pw", "rights": "no_hyperv"}


def vm(name: str, mode: str = "replica", state: str = "replicating", power: str = "off", **extra: Any) -> dict:
    """One VM of a fleet file, a Replica that can fail over unless told otherwise."""
    return dict({"name": name, "mode": mode, "state": state, "power": power}, **extra)


class Hosts:
    """Starts simulators for a test and stops them all afterwards."""

    def __init__(self) -> None:
        self.started: List[Simulator] = []

    def start(self, vms: List[dict], **options: Any) -> Simulator:
        fleet = {"hosts": [dict({"name": "HV1", "users": [USER, OUTSIDER], "job_seconds": 3, "vms": vms}, **options)]}
        sim = Simulator(fleet, clock=ManualClock())
        sim.start()
        self.started.append(sim)
        return sim

    def stop(self) -> None:
        for sim in self.started:
            sim.stop()


def params(sim: Simulator) -> Dict[str, Any]:
    """Module connection options for the simulator."""
    port = int(sim.endpoint.rsplit(":", 1)[1].split("/", 1)[0])
    return {"hostname": "127.0.0.1", "port": port, "scheme": "http", "transport": "ntlm",
            "username": USER["username"], "password": USER["password"]}


def cim_client(sim: Simulator) -> CimClient:
    return Connection(params(sim)).cim


def waiter(sim: Simulator, timeout: float = 60.0, interval: float = 1.0) -> Waiter:
    """A waiter on the simulator's clock: pausing moves simulated time, so jobs progress without sleeping."""
    return Waiter(timeout, interval, clock=sim.clock.monotonic, sleep=sim.clock.advance)


def requests_by_class(sim: Simulator) -> Dict[str, int]:
    """WS-Man requests in the simulator's log, by the class they read."""
    counts: Dict[str, int] = {}
    for request in sim.requests():
        counts[request["class"]] = counts.get(request["class"], 0) + 1
    return counts
