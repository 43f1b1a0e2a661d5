"""hypervsim: a WinRM / WS-Management simulator of a Hyper-V host (root/virtualization/v2, Hyper-V Replica).

Usage from tests:

    from hypervsim import Simulator
    with Simulator.from_file("fleets/demo.yml", job_seconds=0) as sim:
        endpoint = sim.endpoint   # http://127.0.0.1:PORT/wsman
"""

from .clock import Clock, ManualClock
from .fleet import FleetError
from .simulator import Simulator

__all__ = ["Simulator", "Clock", "ManualClock", "FleetError"]
