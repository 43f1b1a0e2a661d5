"""Several hosts at once: one Simulator per host of a fleet, each on its own port, on one shared clock.

A primary and a replica server are two such hosts.  Each host is its own model: a failover on one does not change
the other (replication between hosts is not modelled), but simulated time moves for both at once.
"""

from typing import Any, Iterator

from . import fleet as fleetmod
from .clock import Clock
from .simulator import Simulator


class FleetSimulator:
    """FleetSimulator(fleet_dict, *, port=0, https_port=0, clock=None, **simulator_kwargs).

    With port (or https_port) 0 every host gets a free port; with N the hosts get N, N+1, ... in fleet order.
    Every other keyword argument goes to each Simulator unchanged (bind, verbose, tls_cert, tls_key, host
    setting overrides such as job_seconds=0).  Simulators are reached by host name, case-insensitively:
    fleet["HV-REPLICA01"].
    """

    def __init__(self, fleet: dict[str, Any], *, port: int = 0, https_port: int = 0, clock: Clock | None = None,
                 **kwargs: Any) -> None:
        if "host" in kwargs:
            raise TypeError("FleetSimulator serves every host of the fleet; use Simulator for one host")
        self.clock = clock or Clock()
        names = [host.name for host in fleetmod.parse_fleet(fleet)]
        self.simulators: dict[str, Simulator] = {}
        for index, name in enumerate(names):
            ports = {"port": _nth(port, index)}
            if https_port:
                ports["https_port"] = _nth(https_port, index)
            self.simulators[name] = Simulator(fleet, name, clock=self.clock, **ports, **kwargs)

    @classmethod
    def from_file(cls, path: str, **kwargs: Any) -> "FleetSimulator":
        """Load a YAML fleet file; keyword arguments as for the constructor."""
        return cls(fleetmod.read_yaml(path), **kwargs)

    @property
    def names(self) -> list[str]:
        """Host names in fleet order."""
        return list(self.simulators)

    def __getitem__(self, name: str) -> Simulator:
        for host, sim in self.simulators.items():
            if host.lower() == name.lower():
                return sim
        raise KeyError(f"host {name!r} is not in the fleet; hosts: {self.names}")

    def __iter__(self) -> Iterator[str]:
        return iter(self.simulators)

    def __len__(self) -> int:
        return len(self.simulators)

    def items(self) -> list[tuple[str, Simulator]]:
        return list(self.simulators.items())

    def start(self) -> dict[str, str]:
        """Start every host; returns host name -> http:// endpoint.  If one cannot listen, the others stop too."""
        try:
            for sim in self.simulators.values():
                sim.start()
        except Exception:
            self.stop()
            raise
        return self.endpoints

    @property
    def endpoints(self) -> dict[str, str]:
        return {name: sim.endpoint for name, sim in self.simulators.items()}

    def stop(self) -> None:
        for sim in self.simulators.values():
            sim.stop()

    def advance_clock(self, seconds: float) -> None:
        """Move simulated time forward on every host (they share one clock)."""
        self.clock.advance(seconds)

    def __enter__(self) -> "FleetSimulator":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _nth(base: int, index: int) -> int:
    return base + index if base else 0
