"""Command line: python -m hypervsim --fleet FILE [--host NAME] [--port N] [--bind ADDR] [--verbose]."""

import argparse
import signal
import sys
import threading

from .fleet import FleetError
from .simulator import Simulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hypervsim", description="WinRM Hyper-V Replica simulator (one host).")
    parser.add_argument("--fleet", required=True, help="YAML fleet file")
    parser.add_argument("--host", default=None, help="host of the fleet to serve (default: the first)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    args = parser.parse_args(argv)
    try:
        sim = Simulator.from_file(args.fleet, args.host, bind=args.bind, port=args.port, verbose=args.verbose)
    except (FleetError, OSError) as exc:
        print(f"hypervsim: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        endpoint = sim.start()
    except OSError as exc:
        print(f"hypervsim: cannot listen: {exc}", file=sys.stderr)
        return 2
    print(f"endpoint: {endpoint}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
