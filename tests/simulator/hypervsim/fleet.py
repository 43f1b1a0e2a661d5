"""Fleet file: YAML description of Hyper-V hosts and their VMs, validated into plain config objects.

Every error names the offending key path (e.g. hosts[0].vms[2].state) so that a broken fleet file is easy to fix.
Unknown keys are errors too: a typo must not silently fall back to a default.
"""

import datetime
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import yaml

from .faultspec import JOB_RESULTS, FaultSpec, SpecError, parse_fault_spec


class FleetError(ValueError):
    """An invalid fleet file."""


MODES = {"none": 0, "primary": 1, "replica": 2, "test_replica": 3, "extended_replica": 4}

# WMI ReplicationState values (hyperv notes 2.3) by snake_case name, with the PowerShell names as aliases.
STATES = {
    "disabled": 0, "ready": 1, "ready_for_replication": 1, "waiting_initial": 2,
    "waiting_to_complete_initial_replication": 2, "replicating": 3, "synced_replication_complete": 4,
    "prepared_for_failover": 4, "recovered": 5, "failed_over_waiting_completion": 5, "committed": 6,
    "failed_over": 6, "suspended": 7, "critical": 8, "error": 8, "waiting_resync": 9,
    "waiting_for_start_resynchronize": 9, "resynchronizing": 10, "resync_suspended": 11,
    "failover_in_progress": 12, "recovery_in_progress": 12, "failback_in_progress": 13, "failback_complete": 14,
    "disk_update_in_progress": 15, "waiting_for_update_completion": 15, "disk_update_critical": 16, "unknown": 17,
    "repurpose_in_progress": 18, "prepared_for_sync_replication": 19, "prepared_for_group_reverse_replication": 20,
    "firedrill_in_progress": 21,
}
POWER = {"running": 2, "off": 3, "saved": 6, "paused": 9}
HEALTH = {"not_applicable": 0, "normal": 1, "ok": 1, "warning": 2, "critical": 3}
POINT_TYPES = ("standard", "application_consistent", "planned")
FAILED_OVER_TYPES = {"none": 0, "standard": 1, "regular": 1, "application_consistent": 2, "planned": 3}

HOST_DEFAULTS: dict[str, Any] = {
    "job_seconds": 1.0, "invalid_state": "return_code", "running_vm_failover": "reject",
    "time_before_removal": 300.0, "max_envelope_size_kb": 500, "enumeration_timeout": 240.0,
    "max_concurrent_operations": 1500, "fqdn": None, "partner": None,
    # The network between controller and host (HTTP layer: every WinRM request and each new connection waits it),
    # unlike a latency_ms fault rule, which delays matching WS-Man operations in the request pipeline.
    "network_latency_ms": 0.0,
    # WinRM service config as a fresh Windows host has it: Negotiate only, Basic off, AllowUnencrypted=false.
    "basic_auth": False, "allow_unencrypted": False,
}
HOST_KEYS = set(HOST_DEFAULTS) | {"name", "users", "vms", "faults", "switches"}
VM_KEYS = {"name", "id", "mode", "state", "power", "health", "last_replication", "job_seconds", "fail_jobs",
           "job_result", "recovery_points", "failed_over_type", "partner", "replication_interval", "test_of",
           "guest", "boot_seconds", "shutdown_seconds", "addresses", "adapters"}
# Virtual switches (network.py): a name and what the switch reaches.
SWITCH_KINDS = ("external", "internal", "private")
ADAPTER_KEYS = {"name", "switch", "test_switch", "failover"}
FAILOVER_KEYS = {"ip_addresses", "subnets", "gateways", "dns_servers", "dhcp"}
# How a VM's guest behaves (guest.py): answers (heartbeat, addresses, shutdown), never answers (no integration
# services, a crashed boot), accepts a shutdown and never turns off, or needs Force to shut down (locked).
GUESTS = ("normal", "silent", "ignores_shutdown", "locked")
POINT_KEYS = {"name", "type", "created"}
UUID_NAMESPACE = uuid.UUID("6f1c2d7e-4b3a-5c8d-9e0f-a1b2c3d4e5f6")


@dataclass(frozen=True)
class TimeSpec:
    """An absolute UTC time, or seconds relative to the simulator's start (negative = in the past)."""

    absolute: datetime.datetime | None = None
    relative: float = 0.0
    never: bool = False

    def resolve(self, start: datetime.datetime) -> datetime.datetime | None:
        if self.never:
            return None
        return self.absolute if self.absolute is not None else start + datetime.timedelta(seconds=self.relative)


@dataclass
class User:
    username: str
    password: str
    rights: str = "full"


@dataclass
class PointConfig:
    type: str
    created: TimeSpec
    name: str | None = None


@dataclass
class VmConfig:  # pylint: disable=too-many-instance-attributes
    name: str
    id: str
    mode: int
    state: int
    power: int
    health: int
    last_replication: TimeSpec
    job_seconds: float | None
    job_result: str
    recovery_points: list[PointConfig]
    failed_over_type: int
    partner: str | None
    replication_interval: int
    # For a Test Replica: the name of the Replica VM it was made from (Msvm_ReplicaSystemDependency).
    test_of: str | None = None
    guest: str = "normal"
    # Seconds from Running to the guest's heartbeat, and from an accepted shutdown to Off.
    boot_seconds: float = 1.0
    shutdown_seconds: float = 1.0
    # The guest's addresses (IPv4 and IPv6); None: one of each, made from the VM's GUID.
    addresses: list[str] | None = None
    # Network adapters: name, switch (a switch name, "" not connected), test_switch, failover (the
    # Msvm_FailoverNetworkAdapterSettingData values); None: one "Network Adapter", connected to the host's first
    # external switch unless the VM is a Replica (a replica's adapters are not connected by default).
    adapters: list[dict[str, Any]] | None = None


@dataclass
class HostConfig:  # pylint: disable=too-many-instance-attributes
    name: str
    users: list[User]
    vms: list[VmConfig]
    job_seconds: float
    invalid_state: str
    running_vm_failover: str
    time_before_removal: float
    max_envelope_size_kb: int
    enumeration_timeout: float
    max_concurrent_operations: int
    fqdn: str | None
    partner: str | None
    basic_auth: bool = False
    allow_unencrypted: bool = False
    network_latency_ms: float = 0.0
    faults: list[FaultSpec] = field(default_factory=list)
    # (name, kind) of each virtual switch; None: Production (external), HostOnly (internal), Isolated (private).
    switches: list[tuple[str, str]] | None = None


# ---------------------------------------------------------------- value parsers (also used by the control API)

def _fail(where: str, message: str) -> FleetError:
    return FleetError(f"{where}: {message}")


def parse_enum(value: Any, table: dict[str, int], where: str, max_int: int | None = None) -> int:
    """A name from the table (case-insensitive, '-' or ' ' accepted for '_') or, if max_int is set, an integer."""
    if isinstance(value, bool):
        raise _fail(where, f"expected one of {sorted(table)}, got {value!r}")
    if isinstance(value, int):
        if max_int is not None and 0 <= value <= max_int:
            return value
        raise _fail(where, f"integer {value} out of range")
    if isinstance(value, str):
        key = re.sub(r"[- ]", "_", value.strip().lower())
        if key in table:
            return table[key]
        if max_int is not None and key.isdigit() and int(key) <= max_int:
            return int(key)
    raise _fail(where, f"unknown value {value!r}; expected one of {sorted(table)}")


def parse_time(value: Any, where: str) -> TimeSpec:
    """ISO 8601 time, a relative offset like -5m / -2h / -30s / -1d, or 'never'."""
    if isinstance(value, datetime.datetime):
        return TimeSpec(absolute=value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc))
    if not isinstance(value, str):
        raise _fail(where, f"expected an ISO 8601 time or an offset like -5m, got {value!r}")
    text = value.strip()
    if text.lower() == "never":
        return TimeSpec(never=True)
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)([smhd])", text)
    if m:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return TimeSpec(relative=float(m.group(1)) * unit)
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _fail(where, f"{value!r} is neither ISO 8601 nor an offset like -5m") from exc
    return TimeSpec(absolute=parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc))


def _number(value: Any, where: str, minimum: float = 0.0) -> float:
    # NaN and infinity pass a comparison in surprising ways; an infinite latency or job would hang every client.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        raise _fail(where, f"expected a finite number >= {minimum}, got {value!r}")
    return float(value)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"expected a non-empty string, got {value!r}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"expected true or false, got {value!r}")
    return value


def _mapping(value: Any, where: str, allowed: set[str]) -> dict:
    if not isinstance(value, dict):
        raise _fail(where, f"expected a mapping, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _fail(where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise _fail(where, f"expected a list, got {type(value).__name__}")
    return value


# ---------------------------------------------------------------- structure

def _user(raw: Any, where: str) -> User:
    raw = _mapping(raw, where, {"username", "password", "rights"})
    if "username" not in raw or "password" not in raw:
        raise _fail(where, "username and password are required")
    rights = raw.get("rights", "full")
    if rights not in ("full", "none", "no_hyperv"):
        raise _fail(f"{where}.rights", f"expected full, none or no_hyperv, got {rights!r}")
    return User(_string(raw["username"], f"{where}.username"), str(raw["password"]), rights)


def _point(raw: Any, where: str) -> PointConfig:
    raw = _mapping(raw, where, POINT_KEYS)
    kind = raw.get("type", "standard")
    if kind not in POINT_TYPES:
        raise _fail(f"{where}.type", f"expected one of {list(POINT_TYPES)}, got {kind!r}")
    name = _string(raw["name"], f"{where}.name") if "name" in raw else None
    return PointConfig(kind, parse_time(raw.get("created", "-1h"), f"{where}.created"), name)


def _yaml_switch(value: Any) -> Any:
    """YAML 1.1 reads an unquoted off/on as a boolean: take it as the power word it was meant to be."""
    if value is False:
        return "off"
    if value is True:
        return "running"
    return value


def default_vm_id(host: str, name: str, index: int) -> str:
    """Deterministic upper-case GUID from host, VM name and position."""
    return str(uuid.uuid5(UUID_NAMESPACE, f"{host}/{name}/{index}")).upper()


def _vm_id(raw: dict, where: str, host: str, index: int) -> str:
    if "id" not in raw:
        return default_vm_id(host, raw["name"], index)
    try:
        return str(uuid.UUID(str(raw["id"]))).upper()
    except ValueError as exc:
        raise _fail(f"{where}.id", f"{raw['id']!r} is not a GUID") from exc


def check_power(mode: int, state: int, power: int, where: str) -> None:
    """Refuse what Windows never shows: a Replica or Extended Replica VM that is not off before it has failed over (it
    is an offline copy of the primary and cannot be started; hyperv guest-power notes 1), and a Primary prepared for
    planned failover that is not off (it cannot be powered on; hyperv notes 2.3)."""
    if power != POWER["off"] and ((mode in (2, 4) and state not in (5, 6)) or (mode == 1 and state == 4)):
        raise _fail(f"{where}.power", f"a VM with mode {mode} in replication state {state} is always off on Windows")


def _vm(raw: Any, where: str, host: str, index: int) -> VmConfig:
    raw = _mapping(raw, where, VM_KEYS)
    name = _string(raw.get("name"), f"{where}.name")
    mode = parse_enum(raw.get("mode", "none"), MODES, f"{where}.mode", 4)
    state = parse_enum(raw.get("state", "disabled" if mode == 0 else "replicating"), STATES, f"{where}.state", 21)
    if mode == 0 and state != 0:
        raise _fail(f"{where}.state", "a VM with mode none must have state disabled")
    health = parse_enum(raw.get("health", "not_applicable" if mode == 0 else "normal"), HEALTH, f"{where}.health", 3)
    default_fot = "standard" if state in (5, 6) else "none"
    points = [_point(p, f"{where}.recovery_points[{i}]")
              for i, p in enumerate(_list(raw.get("recovery_points", []), f"{where}.recovery_points"))]
    interval = raw.get("replication_interval", 300)
    if interval not in (30, 300, 900):
        raise _fail(f"{where}.replication_interval", f"expected 30, 300 or 900, got {interval!r}")
    job_seconds = raw.get("job_seconds")
    power = parse_enum(_yaml_switch(raw.get("power", "off")), POWER, f"{where}.power")
    check_power(mode, state, power, where)
    return VmConfig(
        name=name, id=_vm_id(raw, where, host, index), mode=mode, state=state, power=power, health=health,
        last_replication=parse_time(raw.get("last_replication", "never" if mode == 0 else "-5m"),
                                    f"{where}.last_replication"),
        job_seconds=None if job_seconds is None else _number(job_seconds, f"{where}.job_seconds"),
        job_result=_job_result(raw, where), recovery_points=points,
        failed_over_type=parse_enum(raw.get("failed_over_type", default_fot), FAILED_OVER_TYPES,
                                    f"{where}.failed_over_type", 3),
        partner=_string(raw["partner"], f"{where}.partner") if "partner" in raw else None,
        replication_interval=interval, test_of=_test_of(raw, mode, where), adapters=_adapters(raw, where),
        **_guest(raw, where))


def _strings(value: Any, where: str) -> list[str]:
    return [_string(v, f"{where}[{i}]") for i, v in enumerate(_list(value, where))]


def _adapters(raw: dict, where: str) -> list[dict[str, Any]] | None:
    if "adapters" not in raw:
        return None
    result = []
    for i, item in enumerate(_list(raw["adapters"], f"{where}.adapters")):
        at = f"{where}.adapters[{i}]"
        item = _mapping(item, at, ADAPTER_KEYS)
        adapter: dict[str, Any] = {"name": _string(item.get("name", "Network Adapter"), f"{at}.name"),
                                   "switch": _string(item.get("switch", ""), f"{at}.switch") if item.get("switch")
                                   else "", "test_switch": str(item.get("test_switch") or "")}
        if "failover" in item:
            failover = _mapping(item["failover"], f"{at}.failover", FAILOVER_KEYS)
            adapter["failover"] = {key: _strings(failover.get(key, []), f"{at}.failover.{key}")
                                   for key in ("ip_addresses", "subnets", "gateways", "dns_servers")}
            adapter["failover"]["dhcp"] = _bool(failover.get("dhcp", not failover.get("ip_addresses")),
                                                f"{at}.failover.dhcp")
        result.append(adapter)
    return result


def _switches(raw: dict, where: str) -> list[tuple[str, str]] | None:
    if "switches" not in raw:
        return None
    result = []
    for i, item in enumerate(_list(raw["switches"], f"{where}.switches")):
        item = _mapping(item, f"{where}.switches[{i}]", {"name", "kind"})
        kind = item.get("kind", "private")
        if kind not in SWITCH_KINDS:
            raise _fail(f"{where}.switches[{i}].kind", f"expected one of {list(SWITCH_KINDS)}, got {kind!r}")
        result.append((_string(item.get("name"), f"{where}.switches[{i}].name"), kind))
    return result


def _check_adapters(vms: list[VmConfig], switches: list[tuple[str, str]] | None, where: str) -> None:
    """An adapter's switch is one the host has (the defaults when the host names none)."""
    names = {n.lower() for n, _k in switches} if switches is not None else {"production", "hostonly", "isolated"}
    for vm in vms:
        for adapter in vm.adapters or []:
            if adapter["switch"] and adapter["switch"].lower() not in names:
                raise _fail(f"{where}.vms", f"VM {vm.name!r}: no switch named {adapter['switch']!r} on this host")


def _guest(raw: dict, where: str) -> dict[str, Any]:
    guest = parse_guest(raw.get("guest", "normal"), f"{where}.guest")
    addresses = raw.get("addresses")
    if addresses is not None:
        addresses = [_string(a, f"{where}.addresses[{i}]") for i, a in
                     enumerate(_list(addresses, f"{where}.addresses"))]
    return {"guest": guest, "boot_seconds": _number(raw.get("boot_seconds", 1.0), f"{where}.boot_seconds"),
            "shutdown_seconds": _number(raw.get("shutdown_seconds", 1.0), f"{where}.shutdown_seconds"),
            "addresses": addresses}


def _test_of(raw: dict, mode: int, where: str) -> str | None:
    if "test_of" not in raw:
        return None
    if mode != 3:
        raise _fail(f"{where}.test_of", "only a VM with mode test_replica is the test VM of a replica")
    return _string(raw["test_of"], f"{where}.test_of")


def _check_tests(vms: list[VmConfig], where: str) -> None:
    """A test VM names one Replica or Extended Replica VM of its host, which has at most one test VM."""
    replicas = {vm.name.lower(): vm for vm in vms if vm.mode in (2, 4)}
    tested = [vm.test_of.lower() for vm in vms if vm.test_of]
    for name in tested:
        if name not in replicas or sum(1 for vm in vms if vm.name.lower() == name) != 1:
            raise _fail(f"{where}.vms", f"test_of {name!r} must name one Replica VM of the host")
        if tested.count(name) > 1:
            raise _fail(f"{where}.vms", f"the replica {name!r} has more than one test VM")


def parse_seconds(value: Any, where: str) -> float:
    """A duration in seconds, >= 0."""
    return _number(value, where)


def parse_guest(value: Any, where: str) -> str:
    if value not in GUESTS:
        raise _fail(where, f"expected one of {list(GUESTS)}, got {value!r}")
    return value


def parse_job_result(value: Any, where: str) -> str:
    if value not in JOB_RESULTS:
        raise _fail(where, f"expected one of {list(JOB_RESULTS)}, got {value!r}")
    return value


def _job_result(raw: dict, where: str) -> str:
    """job_result, with fail_jobs: true as the older spelling of job_result: exception."""
    fail_jobs = _bool(raw.get("fail_jobs", False), f"{where}.fail_jobs")
    result = parse_job_result(raw.get("job_result", "exception" if fail_jobs else "completed"), f"{where}.job_result")
    if fail_jobs and result != "exception":
        raise _fail(f"{where}.fail_jobs", f"fail_jobs: true means job_result: exception, not {result}")
    return result


def _faults(raw: dict, where: str, vms: list[VmConfig]) -> list[FaultSpec]:
    """The host's fault-injection rules; count defaults to unlimited here, and a vm must be one of this host's."""
    specs = []
    for i, item in enumerate(_list(raw.get("faults", []), f"{where}.faults")):
        at = f"{where}.faults[{i}]"
        try:
            spec = parse_fault_spec(item, at, lasting_default=True)
        except SpecError as exc:
            raise FleetError(str(exc)) from exc
        if spec.vm is not None and not any(spec.vm.lower() in (vm.name.lower(), vm.id.lower()) for vm in vms):
            raise _fail(f"{at}.vm", f"no VM named {spec.vm!r} on this host")
        specs.append(spec)
    return specs


def _settings(raw: dict, where: str) -> dict[str, Any]:
    settings = dict(HOST_DEFAULTS)
    settings.update({k: v for k, v in raw.items() if k in HOST_DEFAULTS})
    for key in ("job_seconds", "time_before_removal", "enumeration_timeout", "network_latency_ms"):
        settings[key] = _number(settings[key], f"{where}.{key}")
    for key in ("max_envelope_size_kb", "max_concurrent_operations"):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _fail(f"{where}.{key}", f"expected a positive integer, got {value!r}")
    if settings["invalid_state"] not in ("return_code", "job"):
        raise _fail(f"{where}.invalid_state", f"expected return_code or job, got {settings['invalid_state']!r}")
    if settings["running_vm_failover"] not in ("reject", "allow"):
        raise _fail(f"{where}.running_vm_failover",
                    f"expected reject or allow, got {settings['running_vm_failover']!r}")
    for key in ("basic_auth", "allow_unencrypted"):
        settings[key] = _bool(settings[key], f"{where}.{key}")
    for key in ("fqdn", "partner"):
        if settings[key] is not None:
            _string(settings[key], f"{where}.{key}")
    return settings


def _host(raw: Any, where: str) -> HostConfig:
    raw = _mapping(raw, where, HOST_KEYS)
    name = _string(raw.get("name"), f"{where}.name")
    if not re.fullmatch(r"[A-Za-z0-9-]{1,15}", name):
        raise _fail(f"{where}.name", f"{name!r} is not a NetBIOS host name (1-15 letters, digits, '-')")
    users = [_user(u, f"{where}.users[{i}]") for i, u in enumerate(_list(raw.get("users", []), f"{where}.users"))]
    if not users:
        raise _fail(f"{where}.users", "at least one user is required")
    vms = [_vm(v, f"{where}.vms[{i}]", name, i) for i, v in enumerate(_list(raw.get("vms", []), f"{where}.vms"))]
    ids = [vm.id for vm in vms]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise _fail(f"{where}.vms", f"duplicate VM id(s) {dup}")
    _check_tests(vms, where)
    switches = _switches(raw, where)
    _check_adapters(vms, switches, where)
    return HostConfig(name=name, users=users, vms=vms, faults=_faults(raw, where, vms), switches=switches,
                      **_settings(raw, where))


def parse_fleet(data: Any, overrides: dict[str, Any] | None = None) -> list[HostConfig]:
    """Validate a fleet document; overrides replace host-level settings on every host."""
    data = _mapping(data, "fleet", {"hosts"})
    raw_hosts = _list(data.get("hosts"), "hosts")
    if not raw_hosts:
        raise _fail("hosts", "at least one host is required")
    unknown = sorted(set(overrides or {}) - set(HOST_DEFAULTS))
    if unknown:
        raise _fail("overrides", f"unknown setting(s) {unknown}; allowed: {sorted(HOST_DEFAULTS)}")
    hosts = []
    for i, raw in enumerate(raw_hosts):
        if isinstance(raw, dict) and overrides:
            raw = {**raw, **overrides}
        hosts.append(_host(raw, f"hosts[{i}]"))
    names = [h.name.lower() for h in hosts]
    if len(set(names)) != len(names):
        raise _fail("hosts", "host names must be unique")
    return hosts


def read_yaml(path: str) -> Any:
    """The parsed YAML document of a fleet file (not yet validated)."""
    with open(path, encoding="utf-8") as handle:
        try:
            return yaml.safe_load(handle)
        except yaml.YAMLError as exc:
            raise FleetError(f"{path}: not valid YAML: {exc}") from exc


def load_file(path: str, overrides: dict[str, Any] | None = None) -> list[HostConfig]:
    """Read and validate a YAML fleet file."""
    return parse_fleet(read_yaml(path), overrides)


def select_host(hosts: list[HostConfig], name: str | None) -> HostConfig:
    """The named host (case-insensitive), or the first one."""
    if name is None:
        return hosts[0]
    for host in hosts:
        if host.name.lower() == name.lower():
            return host
    raise FleetError(f"host {name!r} is not in the fleet; hosts: {[h.name for h in hosts]}")
