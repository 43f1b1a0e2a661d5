"""Command line: python -m hypervsim --fleet FILE [--host NAME | --all-hosts] [--port N] [--bind ADDR]
[--tls-cert FILE --tls-key FILE] [--verbose].

Once listening it prints, and flushes, the URLs that scripts parse:
    one host:    endpoint: http://127.0.0.1:PORT/wsman        (always the first line)
                 https_endpoint: https://127.0.0.1:PORT/wsman (with --tls-cert/--tls-key)
    --all-hosts: endpoint <HOST>: http://...                  (one line per host, in fleet order)
                 https_endpoint <HOST>: https://...           (then these, with --tls-cert/--tls-key)
"""

import argparse
import signal
import sys
import threading
from typing import Any

from .fleet import FleetError
from .fleetsim import FleetSimulator
from .simulator import Simulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hypervsim", description="WinRM Hyper-V Replica simulator.")
    parser.add_argument("--fleet", required=True, help="YAML fleet file")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--host", default=None, help="host of the fleet to serve (default: the first)")
    which.add_argument("--all-hosts", action="store_true", help="serve every host of the fleet, one port each")
    parser.add_argument("--port", type=int, default=0,
                        help="TCP port; 0 picks a free one (default); with --all-hosts, hosts get PORT, PORT+1, ...")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--tls-cert", default=None, metavar="FILE", help="PEM certificate: also serve HTTPS")
    parser.add_argument("--tls-key", default=None, metavar="FILE", help="PEM private key of --tls-cert")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    return parser


def _endpoint_lines(servers: list[tuple[str | None, Any]]) -> list[str]:
    """(host name or None for the single-host form, simulator) -> the lines to print."""
    lines = [f"endpoint{'' if name is None else ' ' + name}: {sim.endpoint}" for name, sim in servers]
    for name, sim in servers:
        https = sim.https_endpoint
        if https:
            lines.append(f"https_endpoint{'' if name is None else ' ' + name}: {https}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    kwargs: dict[str, Any] = {"bind": args.bind, "port": args.port, "verbose": args.verbose}
    if args.tls_cert:
        kwargs.update(tls_cert=args.tls_cert, tls_key=args.tls_key)
    try:
        if args.all_hosts:
            target: Any = FleetSimulator.from_file(args.fleet, **kwargs)
        else:
            target = Simulator.from_file(args.fleet, args.host, **kwargs)
    except (FleetError, OSError) as exc:
        print(f"hypervsim: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_args: stop.set())
    try:
        target.start()
    except OSError as exc:
        print(f"hypervsim: cannot listen: {exc}", file=sys.stderr)
        return 2
    servers = target.items() if args.all_hosts else [(None, target)]
    print("\n".join(_endpoint_lines(servers)), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        target.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
