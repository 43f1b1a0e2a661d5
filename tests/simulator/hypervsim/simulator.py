"""The Simulator facade: one simulated Hyper-V host served over HTTP (and HTTPS), plus its Python control API."""

import threading
import time
from typing import Any, Callable

from . import fleet as fleetmod
from .auth import Authenticator
from .clock import Clock
from .faultspec import parse_fault_spec
from .fleet import (FAILED_OVER_TYPES, HEALTH, MODES, POWER, STATES, User, check_power, parse_enum, parse_guest,
                    parse_job_result, parse_seconds, parse_time)
from .hooks import Counters, FaultInjector
from .hyperv import HyperVHost
from .pipeline import RequestPipeline
from .requestlog import RequestLog
from .server import SimHTTPServer
from .tls import server_context
from .wsman import WsmanService

_VM_FIELDS = ("mode", "state", "power", "health", "fail_jobs", "job_result", "job_seconds", "last_replication",
              "failed_over_type", "guest", "boot_seconds")


class Simulator:  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """A WinRM Hyper-V host on loopback.

    Simulator(fleet_dict, host=None, clock=None, bind="127.0.0.1", port=0, verbose=False, tls_cert=None,
    tls_key=None, https_port=0, **overrides), where overrides replace host settings of the fleet (job_seconds=0,
    invalid_state="job", network_latency_ms=20, ...).  With tls_cert and tls_key (PEM files) it also listens for
    HTTPS on https_port, as a Windows host with both a 5985 and a 5986 listener does.
    """

    def __init__(self, fleet: dict[str, Any], host: str | None = None, *, clock: Clock | None = None,
                 bind: str = "127.0.0.1", port: int = 0, verbose: bool = False, tls_cert: str | None = None,
                 tls_key: str | None = None, https_port: int = 0, **overrides: Any) -> None:
        hosts = fleetmod.parse_fleet(fleet, overrides or None)
        self.config = fleetmod.select_host(hosts, host)
        self.clock = clock or Clock()
        self.model = HyperVHost(self.config, self.clock)
        self._counters = Counters()
        self._injector = FaultInjector()
        self.service = WsmanService(self.model, self._counters, self._injector)
        self.verbose = verbose
        self._lock = threading.RLock()
        self._init_hooks()
        self.authenticator = Authenticator(self.config.name, list(self.config.users), self.config.basic_auth,
                                           self.config.allow_unencrypted, on_failure=self.note_auth_failure,
                                           on_logon=self.note_logon)
        self._bind = bind
        self._ports = {"http": port, "https": https_port}
        self._tls = server_context(tls_cert, tls_key) if tls_cert and tls_key else None
        self._servers: dict[str, SimHTTPServer] = {}
        self._threads: list[threading.Thread] = []

    @classmethod
    def from_file(cls, path: str, host: str | None = None, **kwargs: Any) -> "Simulator":
        """Load a YAML fleet file; keyword arguments as for the constructor."""
        return cls(fleetmod.read_yaml(path), host, **kwargs)

    # ------------------------------------------------------------ lifecycle

    @property
    def host_name(self) -> str:
        return self.config.name

    @property
    def users(self) -> list[User]:
        return list(self.config.users)

    @property
    def endpoint(self) -> str:
        """The http:// listener's URL."""
        return self._url("http")

    @property
    def https_endpoint(self) -> str | None:
        """The https:// listener's URL, or None when the simulator has no certificate."""
        return self._url("https") if self._tls is not None else None

    def _url(self, scheme: str) -> str:
        server = self._servers.get(scheme)
        if server is None:
            raise RuntimeError("the simulator is not started")
        host, port = server.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{port}/wsman"

    def start(self) -> str:
        """Serve in background threads; returns the http:// endpoint URL."""
        if not self._servers:
            self._servers["http"] = SimHTTPServer((self._bind, self._ports["http"]), self)
            if self._tls is not None:
                self._servers["https"] = SimHTTPServer((self._bind, self._ports["https"]), self, self._tls)
            for scheme, server in self._servers.items():
                # A short poll interval keeps stop() quick (shutdown waits for the next poll).
                thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                          name=f"hypervsim-{scheme}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return self.endpoint

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()
        self.authenticator.close()

    def __enter__(self) -> "Simulator":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------ backend for the HTTP layer

    def authenticate(self, username: str, password: str) -> User | None:
        """Local-account logon: user, HOST\\user or .\\user; names case-insensitive, passwords exact."""
        return self.authenticator.check_password(username, password)

    def max_request_bytes(self) -> int:
        return self.config.max_envelope_size_kb * 1024

    def handle_wsman(self, data: bytes, user: User, machine: str) -> tuple[int, bytes]:
        """Status and body; raises hooks.DropConnection when an injected rule drops the connection."""
        return self._pipeline.handle(data, user, machine)

    def note_auth_failure(self) -> None:
        self._counters.add("auth_failures")

    def note_logon(self) -> None:
        self._counters.add("logons")

    def note_connection(self) -> None:
        self._counters.add("connections")

    @property
    def network_latency(self) -> float:
        """Seconds of one controller-host round trip (network_latency_ms), waited by the HTTP layer."""
        return self.config.network_latency_ms / 1000.0

    # ------------------------------------------------------------ control API

    def counters(self) -> dict[str, int]:
        return self._counters.snapshot()

    def reset_counters(self) -> None:
        self._counters.reset()

    def vms(self) -> list[dict[str, Any]]:
        with self._lock:
            self.model.tick()
            return self.model.describe_vms()

    def destroyed(self) -> list[dict[str, Any]]:
        """Every VM DestroySystem removed (name, id, mode, the replica of a test VM, when)."""
        with self._lock:
            self.model.tick()
            return list(self.model.destroyed)

    def jobs(self) -> list[dict[str, Any]]:
        with self._lock:
            self.model.tick()
            now = self.model.now()
            return [{"id": j.instance_id, "vm": j.vm_id, "type": j.job_type, "state": j.state(now),
                     "percent": j.percent(now)} for j in self.model.jobs.values()]

    def set_vm(self, name_or_id: str, **fields: Any) -> dict[str, Any]:
        """Change a VM for test setup; returns its new description.  KeyError if unknown, ValueError if ambiguous."""
        unknown = sorted(set(fields) - set(_VM_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; allowed: {list(_VM_FIELDS)}")
        with self._lock:
            self.model.tick()
            found = self.model.find_vms(name_or_id)
            if not found:
                raise KeyError(f"no VM named {name_or_id!r}")
            if len(found) > 1:
                raise ValueError(f"{len(found)} VMs are named {name_or_id!r}; use the VM id")
            vm = found[0]
            self._apply(vm, fields)
            return next(d for d in self.model.describe_vms() if d["id"] == vm.id)

    def _apply(self, vm: Any, fields: dict[str, Any]) -> None:
        where = f"vm {vm.name}"
        values = {
            "mode": lambda v: parse_enum(v, MODES, f"{where}.mode", 4),
            "state": lambda v: parse_enum(v, STATES, f"{where}.state", 21),
            "power": lambda v: parse_enum(v, POWER, f"{where}.power"),
            "health": lambda v: parse_enum(v, HEALTH, f"{where}.health", 3),
            "failed_over_type": lambda v: parse_enum(v, FAILED_OVER_TYPES, f"{where}.failed_over_type", 3),
            "fail_jobs": bool,
            "job_result": lambda v: parse_job_result(v, f"{where}.job_result"),
            "job_seconds": lambda v: None if v is None else parse_seconds(v, f"{where}.job_seconds"),
            "last_replication": lambda v: parse_time(v, f"{where}.last_replication").resolve(self.model.start),
            "guest": lambda v: parse_guest(v, f"{where}.guest"),
            "boot_seconds": lambda v: parse_seconds(v, f"{where}.boot_seconds"),
        }
        parsed = {k: values[k](v) for k, v in fields.items()}
        check_power(parsed.get("mode", vm.mode), parsed.get("state", vm.state), parsed.get("power", vm.power), where)
        for key, value in parsed.items():
            if key == "power":
                self.model.set_power(vm, value)
            else:
                setattr(vm, key, value)
        if vm.mode != 3:
            vm.test_of = None  # no longer a test VM, so no longer linked to a replica (a VM replaced under a run)
        vm.state_changed = self.model.wall(self.model.now())

    def advance_clock(self, seconds: float) -> None:
        """Move simulated time forward (works for the real clock too, as an offset)."""
        self.clock.advance(seconds)

    # ------------------------------------------------------------ fault injection and the request log

    def _init_hooks(self) -> None:
        """The request log, the fleet file's fault rules, and the request path that applies them."""
        self._requests = RequestLog()
        self.model.job_rules = self._injector
        for spec in self.config.faults:
            self._injector.add(spec, self._vm_ids(spec.vm))
        self._pipeline = RequestPipeline(self._lock, self.model, self.service, self._counters, self._injector,
                                         self._requests, time.sleep)

    @property
    def sleep(self) -> Callable[[float], None]:
        """How a delay is waited, a latency_ms fault rule's (pipeline) and network_latency_ms (HTTP layer) alike:
        time.sleep, called without the model lock; tests replace it with a recorder."""
        return self._pipeline.sleep

    @sleep.setter
    def sleep(self, function: Callable[[float], None]) -> None:
        self._pipeline.sleep = function

    def _vm_ids(self, name_or_id: str | None) -> frozenset[str] | None:
        if name_or_id is None:
            return None
        found = self.model.find_vms(name_or_id)
        if not found:
            raise ValueError(f"rule.vm: no VM named {name_or_id!r} on {self.config.name}")
        return frozenset(vm.id.upper() for vm in found)

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Activate a rule written as in the fleet file's faults: list; returns it with its id.  Faults, drops and
        job results fire once unless a count is given; latency and job_seconds last until cleared."""
        spec = parse_fault_spec(rule, "rule", lasting_default=False)     # SpecError is a ValueError (400)
        with self._lock:
            return self._injector.add(spec, self._vm_ids(spec.vm))

    def faults(self) -> list[dict[str, Any]]:
        """The active rules, with how many firings are left (count, null = unlimited) and how often they fired."""
        return self._injector.rules()

    def clear_faults(self) -> int:
        """Remove every rule, the fleet file's too; returns how many there were."""
        return self._injector.clear()

    def inject_fault(self, operation: str, fault: str, count: int = 1) -> dict[str, Any]:
        """Make the next `count` requests of `operation` (Get, Pull, Invoke:InitiateFailover, '*') fail."""
        return self.add_fault(operation=operation, fault=fault, count=count)

    def requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first (the last 10000 requests)."""
        return self._requests.snapshot()

    def clear_requests(self) -> None:
        self._requests.clear()
