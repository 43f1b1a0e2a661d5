"""The Hyper-V host model: VMs, recovery points, jobs, and the root/virtualization/v2 instances they show as.

Instances are built fresh from the model on every request, so every class always agrees with the VM state
(Msvm_ComputerSystem.ReplicationState and Msvm_ReplicationRelationship.ReplicationState are the same value).
Fixed texts and identifiers follow hyperv notes 1.1, 2.1, 4.1, 5 and 6; values marked [infer] are plausible defaults.
"""

import datetime
import math
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

from . import jobs as jobmod
from .cim import NEVER, CimClass, CimRef, Instance
from .clock import Clock
from .fleet import HostConfig, VmConfig
from .schema import (AFFECTED_JOB_ELEMENT, COMPUTER_SYSTEM, CONCRETE_JOB, ELEMENT_SETTING_DATA,
                     ETHERNET_PORT_ALLOCATION, ETHERNET_SWITCH_PORT, FAILOVER_NETWORK_SETTING,
                     FAILOVER_SETTING_COMPONENT, GUEST_COMPONENTS, REGISTRY, SYNTHETIC_ETHERNET_PORT, SYSTEM_DEVICE,
                     VIRTUAL_ETHERNET_SWITCH,
                     REPLICA_SYSTEM_DEPENDENCY, REPLICATION_RELATIONSHIP, REPLICATION_SERVICE,
                     REPLICATION_SETTING_DATA, SETTINGS_DEFINE_STATE, SNAPSHOT_OF_VIRTUAL_SYSTEM,
                     VIRTUAL_SYSTEM_MANAGEMENT_SERVICE, VSSD)

if TYPE_CHECKING:
    from .network import Adapter, Switch

# The association classes that link a VM to its settings, points and test VM (the jobs' are built apart).
VM_LINKS = (SETTINGS_DEFINE_STATE, SNAPSHOT_OF_VIRTUAL_SYSTEM, ELEMENT_SETTING_DATA, REPLICA_SYSTEM_DEPENDENCY,
            SYSTEM_DEVICE)
# Those that link switches, their ports and settings, and adapters to their failover settings (network.py).
NETWORK_LINKS = (SYSTEM_DEVICE, ELEMENT_SETTING_DATA, FAILOVER_SETTING_COMPONENT)

VIRTUAL_SYSTEM_TYPES = {
    "standard": "Microsoft:Hyper-V:Snapshot:Replica:Standard",
    "application_consistent": "Microsoft:Hyper-V:Snapshot:Replica:ApplicationConsistent",
    "planned": "Microsoft:Hyper-V:Snapshot:Replica:PlannedFailover",
}
REALIZED = "Microsoft:Hyper-V:System:Realized"
# FailedOverReplicationType / LastReplicationType by recovery point kind (hyperv notes 2.4, [infer]).
REPLICATION_TYPES = {"standard": 1, "application_consistent": 2, "planned": 3}
# Display names "<VM> - Standard Replica - (<date>)" [3p]; the planned one is [infer].
POINT_LABELS = {"standard": "Standard Replica", "application_consistent": "Application-consistent Replica",
                "planned": "Planned Failover Replica"}
CONFIG_ROOT = "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V"


@dataclass
class RecoveryPoint:
    instance_id: str
    name: str
    kind: str
    created: datetime.datetime


@dataclass
class VirtualMachine:  # pylint: disable=too-many-instance-attributes
    name: str
    id: str
    mode: int
    state: int
    power: int
    health: int
    last_replication: datetime.datetime | None
    failed_over_type: int
    recovery_points: list[RecoveryPoint]
    job_seconds: float | None
    job_result: str          # how its failover jobs end: completed | warnings | exception | hang
    partner: str
    interval: int
    installed: datetime.datetime
    state_changed: datetime.datetime
    pending_jobs: list[str] = field(default_factory=list)
    # A Test Replica's replica VM, by id (the fleet names it; TestReplicaSystem sets it); Msvm_ReplicaSystemDependency
    # links the two.
    test_of: str | None = None
    # The guest (guest.py): how it behaves, how long it takes to boot and to shut down, its addresses.
    guest: str = "normal"
    boot_seconds: float = 1.0
    shutdown_seconds: float = 1.0
    addresses: list[str] = field(default_factory=list)
    # Monotonic times: since when it runs (None when it does not), and when an accepted guest shutdown ends.
    running_since: float | None = None
    shutdown_at: float | None = None
    # Its network adapters (network.Adapter), each with its connection, test switch and failover settings.
    adapters: list["Adapter"] = field(default_factory=list)

    @property
    def fail_jobs(self) -> bool:
        """The older switch: true is job_result exception."""
        return self.job_result == "exception"

    @fail_jobs.setter
    def fail_jobs(self, value: bool) -> None:
        if value:
            self.job_result = "exception"
        elif self.job_result == "exception":
            self.job_result = "completed"


def default_addresses(vm_id: str) -> list[str]:
    """One IPv4 and one link-local IPv6 address made from the VM's GUID, so that every guest has its own."""
    raw = uuid.UUID(vm_id).bytes
    return [f"10.{raw[0]}.{raw[1]}.{raw[2] % 254 + 1}", f"fe80::{raw[3]:x}:{raw[4]:x}{raw[5]:02x}"]


class JobRules(Protocol):  # pylint: disable=too-few-public-methods
    """Fault-injection rules that may change how a new job ends (the simulator's injector)."""

    def job_plan(self, kind: jobmod.JobKind, vm_id: str, plan: jobmod.JobPlan,
                 may_change_result: bool) -> jobmod.JobPlan:
        """The plan, with the first matching rules applied."""


def _display_time(value: datetime.datetime) -> str:
    """11/21/2026 - 10:00:00 AM, the en-US shape of recovery point names."""
    hour = value.hour % 12 or 12
    return f"{value.month}/{value.day}/{value.year} - {hour}:{value.minute:02d}:{value.second:02d} " \
           f"{'AM' if value.hour < 12 else 'PM'}"


class HyperVHost:  # pylint: disable=too-many-public-methods,too-many-instance-attributes
    """One Hyper-V host with its VMs; the WS-Man layer reads it through instances_of/lookup/association_instances."""

    classes = REGISTRY

    def __init__(self, config: HostConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.name = config.name
        self.fqdn = config.fqdn or f"{config.name}.contoso.local"
        self.start = clock.wall(clock.monotonic())
        self.switches = self._build_switches(config)
        self.vms = [self._build_vm(vm) for vm in config.vms]
        # Looking VMs up by id is on the path of every job and association; add_vm and remove_vm keep it current.
        self._vm_index = {vm.id.lower(): vm for vm in self.vms}
        for vm in self.vms:
            if vm.test_of:  # the fleet names the replica (fleet.py checks it is one Replica VM of the host)
                vm.test_of = next(r.id for r in self.vms if r.name.lower() == str(vm.test_of).lower())
        # Every VM DestroySystem removed, as it was then (GET /_sim/destroyed): what the safety tests count.
        self.destroyed: list[dict[str, Any]] = []
        self.jobs: dict[str, jobmod.Job] = {}
        self.job_rules: JobRules | None = None      # set by the simulator: injected job results and durations
        self._effect_time: float | None = None     # while a due job's effect is applied: when the job ended

    # ------------------------------------------------------------ construction

    def _build_switches(self, config: HostConfig) -> list["Switch"]:
        from . import network  # pylint: disable=import-outside-toplevel
        if config.switches is None:
            return network.default_switches(config.name)
        return [network.Switch(name, str(uuid.uuid5(uuid.NAMESPACE_URL, f"hypervsim/{config.name}/switch/{name}"))
                               .upper(), kind) for name, kind in config.switches]

    def _build_adapters(self, cfg: VmConfig) -> list["Adapter"]:
        """The fleet's adapters, or one "Network Adapter": on the first external switch, unless the VM is a Replica
        (not connected: Microsoft's 2012 team blog on failover IP injection)."""
        from . import network  # pylint: disable=import-outside-toplevel
        if cfg.adapters is None:
            adapter = network.new_adapter(cfg.id, 0)
            external = next((s for s in self.switches if s.kind == "external"), None)
            if cfg.mode not in (2, 4) and external is not None:
                adapter.switch = external.id
            return [adapter]
        result = []
        for index, raw in enumerate(cfg.adapters):
            adapter = network.new_adapter(cfg.id, index, raw["name"])
            switch = self.switch_named(raw["switch"]) if raw["switch"] else None
            adapter.switch = switch.id if switch else ""
            adapter.test_switch = raw["test_switch"]
            if "failover" in raw:
                f = raw["failover"]
                adapter.failover = network.FailoverIp(f["ip_addresses"], f["subnets"], f["gateways"],
                                                      f["dns_servers"], f["dhcp"])
            result.append(adapter)
        return result

    def switch_named(self, name: str) -> "Switch | None":
        """The first switch with that display name, whatever its case [infer: Hyper-V compares them so]."""
        return next((s for s in self.switches if s.name.lower() == name.lower()), None)

    def switch_by_id(self, switch_id: str) -> "Switch | None":
        return next((s for s in self.switches if s.id.lower() == switch_id.lower()), None)

    def _build_vm(self, cfg: VmConfig) -> VirtualMachine:
        points = []
        for index, point in enumerate(cfg.recovery_points):
            created = point.created.resolve(self.start) or self.start
            label = f"{cfg.name} - {POINT_LABELS[point.type]} - ({_display_time(created)})"
            guid = str(uuid.uuid5(uuid.UUID(cfg.id), f"recovery-point/{index}")).upper()
            points.append(RecoveryPoint(f"Microsoft:{guid}", point.name or label, point.type, created))
        points.sort(key=lambda p: p.created)
        return VirtualMachine(
            name=cfg.name, id=cfg.id, mode=cfg.mode, state=cfg.state, power=cfg.power, health=cfg.health,
            last_replication=cfg.last_replication.resolve(self.start), failed_over_type=cfg.failed_over_type,
            recovery_points=points, job_seconds=cfg.job_seconds, job_result=cfg.job_result,
            partner=cfg.partner or self.config.partner or "HV-PARTNER01", interval=cfg.replication_interval,
            test_of=cfg.test_of, guest=cfg.guest, boot_seconds=cfg.boot_seconds,
            shutdown_seconds=cfg.shutdown_seconds, addresses=list(cfg.addresses or default_addresses(cfg.id)),
            # A VM the fleet starts running has been up for long: its guest answers at once.
            running_since=-math.inf if cfg.power == 2 else None, adapters=self._build_adapters(cfg),
            installed=self.start - datetime.timedelta(days=30), state_changed=self.start)

    # ------------------------------------------------------------ time

    def now(self) -> float:
        return self.clock.monotonic()

    def wall(self, mono: float) -> datetime.datetime:
        return self.clock.wall(mono)

    def set_power(self, vm: VirtualMachine, power: int) -> None:
        """The one way a VM's power state changes: the guest starts its boot when the VM starts running."""
        if power == 2 and vm.power != 2 and vm.power != 9:
            # A job's effect is applied when the host is next read: the boot starts when the job ended.
            vm.running_since = self._effect_time if self._effect_time is not None else self.now()
        elif power not in (2, 9):
            vm.running_since, vm.shutdown_at = None, None
        vm.power = power

    def tick(self) -> None:
        """Finish due jobs in end-time order, end accepted guest shutdowns, and drop jobs past TimeBeforeRemoval."""
        now = self.now()
        for vm in self.vms:
            if vm.shutdown_at is not None and vm.shutdown_at <= now:
                self.set_power(vm, 3)
        due = sorted((j for j in self.jobs.values() if not j.finished and j.end_time <= now), key=lambda j: j.end_time)
        for job in due:
            self._effect_time = job.end_time
            try:
                job.finish()
            finally:
                self._effect_time = None
            vm = self.vm_by_id(job.vm_id)
            if vm is not None and job.instance_id in vm.pending_jobs:
                vm.pending_jobs.remove(job.instance_id)
                vm.state_changed = self.wall(job.end_time)
        for job_id in [j.instance_id for j in self.jobs.values() if j.expired(now)]:
            del self.jobs[job_id]

    # ------------------------------------------------------------ VMs and jobs

    def vm_by_id(self, vm_id: str) -> VirtualMachine | None:
        return self._vm_index.get(vm_id.lower())

    def add_vm(self, vm: VirtualMachine) -> None:
        self.vms.append(vm)
        self._vm_index[vm.id.lower()] = vm

    def remove_vm(self, vm: VirtualMachine) -> None:
        self.vms.remove(vm)
        del self._vm_index[vm.id.lower()]

    def destroy(self, vm: VirtualMachine) -> None:
        """DestroySystem's effect: the VM and its definition are gone; recorded for the tests."""
        replica = self.vm_by_id(vm.test_of) if vm.test_of else None
        self.destroyed.append({"name": vm.name, "id": vm.id, "mode": vm.mode,
                               "test_of": replica.name if replica else None, "at": self.wall(self.now()).isoformat()})
        self.remove_vm(vm)

    def test_vm_of(self, replica: VirtualMachine) -> VirtualMachine | None:
        """The replica's test VM (Msvm_ReplicaSystemDependency), if it has one."""
        return next((vm for vm in self.vms if vm.test_of and vm.test_of.lower() == replica.id.lower()), None)

    def add_test_vm(self, replica: VirtualMachine) -> VirtualMachine:
        """The VM TestReplicaSystem defines: "<replica> - Test" (Microsoft's 2012 team blog on test failover and its
        Replica sample), ReplicationMode 3, off (PowerShell does not start it), a new GUID, linked to the replica.
        Its ReplicationState (0, PowerShell shows a test VM's replication as Disabled) and health are [infer]. Its guest
        is the replica's (the same disks), its adapters are on their test switches (network.test_copy)."""
        from . import network  # pylint: disable=import-outside-toplevel
        now = self.wall(self.now())
        test_id = str(uuid.uuid4()).upper()
        test = VirtualMachine(
            name=f"{replica.name} - Test", id=test_id, mode=3, state=0, power=3, health=0,
            last_replication=None, failed_over_type=0, recovery_points=[], job_seconds=replica.job_seconds,
            job_result="completed", partner=replica.partner, interval=replica.interval, installed=now,
            state_changed=now, test_of=replica.id, guest=replica.guest, boot_seconds=replica.boot_seconds,
            shutdown_seconds=replica.shutdown_seconds, addresses=list(replica.addresses),
            adapters=network.test_copy(self, replica, test_id))
        self.add_vm(test)
        return test

    def find_vms(self, name_or_id: str) -> list[VirtualMachine]:
        """VMs whose id (preferred) or ElementName matches, case-insensitively."""
        vm = self.vm_by_id(name_or_id)
        if vm is not None:
            return [vm]
        return [v for v in self.vms if v.name.lower() == name_or_id.lower()]

    def start_job(self, vm: VirtualMachine, kind: jobmod.JobKind, owner: str, *,
                  error: jobmod.JobError | None = None, on_success: Callable[[], None] | None = None,
                  on_failure: Callable[[], None] | None = None, affects: Iterable[str] = ()) -> str:
        """Create a job affecting vm (and the VMs in ``affects``); its effect is applied lazily when its duration has passed.

        error is given for a job the model itself fails (invalid_state: job); otherwise the job ends as the VM's
        job_result (failover jobs only) or an injected rule says.
        """
        plan = self.job_plan(vm, kind, may_change_result=error is None)
        duration = plan.seconds if plan.seconds is not None else (
            vm.job_seconds if vm.job_seconds is not None else self.config.job_seconds)
        warning, hang = None, None
        if error is None:
            if plan.result == "exception":
                error = jobmod.job_error(vm.name, vm.id, plan.error_code, kind)
            elif plan.result == "warnings":
                warning = jobmod.job_warning(vm.name, vm.id, kind)
            elif plan.result == "hang":
                hang = plan.hang_percent
        job = jobmod.Job(instance_id=str(uuid.uuid4()).upper(), kind=kind, vm_id=vm.id, owner=owner,
                         submitted=self.now(), duration=duration, on_success=on_success, on_failure=on_failure,
                         error=error, warning=warning, hang_percent=hang, removal_after=self.config.time_before_removal,
                         affects=list(affects))
        self.jobs[job.instance_id] = job
        vm.pending_jobs.append(job.instance_id)
        return job.instance_id

    def job_plan(self, vm: VirtualMachine, kind: jobmod.JobKind, may_change_result: bool) -> jobmod.JobPlan:
        """The VM's job_result (for the kinds of job that follow it: the three failover methods, as fail_jobs did),
        then the rules."""
        plan = jobmod.JobPlan(result=vm.job_result if kind.follows_vm_job_result else "completed")
        if self.job_rules is not None:
            plan = self.job_rules.job_plan(kind, vm.id, plan, may_change_result)
        return plan

    def owner_vm(self, keys: Iterable[str]) -> VirtualMachine | None:
        """The one VM that the GUIDs found in a request point at (VM, job or recovery point ids); None if there is
        no such VM or more than one."""
        found = {vm.id: vm for vm in map(self._vm_of_key, keys) if vm is not None}
        return next(iter(found.values())) if len(found) == 1 else None

    def _vm_of_key(self, key: str) -> VirtualMachine | None:
        vm = self.vm_by_id(key)
        if vm is not None:
            return vm
        job = self.jobs.get(key.upper())
        if job is not None:
            return self.vm_by_id(job.vm_id)
        point_id = f"microsoft:{key.lower()}"
        return next((v for v in self.vms for p in v.recovery_points if p.instance_id.lower() == point_id), None)

    # ------------------------------------------------------------ instances

    def host_system(self) -> Instance:
        return Instance(COMPUTER_SYSTEM, {
            "Caption": "Hosting Computer System", "Description": "Microsoft Hosting Computer System",
            "CreationClassName": "Msvm_ComputerSystem", "Name": self.name, "ElementName": self.name,
            "EnabledState": 2, "EnabledDefault": 2, "RequestedState": 5, "HealthState": 5, "OperationalStatus": [2],
            "StatusDescriptions": ["OK"], "Status": "OK", "InstallDate": self.start - datetime.timedelta(days=400),
            "NumberOfNumaNodes": 1, "TimeOfLastStateChange": self.start, "InstanceID": "",
        })

    def vm_system(self, vm: VirtualMachine) -> Instance:
        running = vm.power in (2, 9)
        app_points = [p.created for p in vm.recovery_points if p.kind == "application_consistent"]
        return Instance(COMPUTER_SYSTEM, {
            "Caption": "Virtual Machine", "Description": "Microsoft Virtual Computer System",
            "CreationClassName": "Msvm_ComputerSystem", "Name": vm.id, "ElementName": vm.name, "InstanceID": "",
            "EnabledState": vm.power, "EnabledDefault": 2, "RequestedState": 5, "HealthState": 5,
            "OperationalStatus": [2], "StatusDescriptions": ["Operating normally"], "Status": "OK",
            "EnhancedSessionModeState": 3, "NumberOfNumaNodes": 1, "HwThreadsPerCoreRealized": 1,
            "InstallDate": vm.installed, "TimeOfLastConfigurationChange": vm.installed,
            "TimeOfLastStateChange": vm.state_changed,
            "OnTimeInMilliseconds": int((self.now() + 3600) * 1000) if running else 0,
            "ProcessID": 1000 + int(vm.id[:4], 16) % 30000 if vm.power != 3 else None,
            "ReplicationMode": vm.mode, "ReplicationState": vm.state, "ReplicationHealth": vm.health,
            "FailedOverReplicationType": vm.failed_over_type,
            "LastReplicationType": self.last_replication_type(vm),
            "LastReplicationTime": vm.last_replication or NEVER,
            "LastApplicationConsistentReplicationTime": max(app_points) if app_points else NEVER,
        })

    @staticmethod
    def last_replication_type(vm: VirtualMachine) -> int:
        """Kind of the newest replication received: that of the newest recovery point, else Regular."""
        if vm.mode == 0:
            return 0
        return REPLICATION_TYPES[vm.recovery_points[-1].kind] if vm.recovery_points else 1

    def service(self) -> Instance:
        return Instance(REPLICATION_SERVICE, {
            "CreationClassName": "Msvm_ReplicationService", "Name": "replicasvc",
            "SystemCreationClassName": "Msvm_ComputerSystem", "SystemName": self.name,
            "Caption": "Hyper-V Replica Service", "Description": "Replication Service",
            "ElementName": "Hyper-V Replica Service", "EnabledState": 2, "EnabledDefault": 2, "RequestedState": 12,
            "HealthState": 5, "Status": "OK", "Started": True, "StartMode": "Automatic", "OperationalStatus": [2],
            "StatusDescriptions": ["OK"], "TimeOfLastStateChange": self.start,
        })

    def management_service(self) -> Instance:
        return Instance(VIRTUAL_SYSTEM_MANAGEMENT_SERVICE, {
            "CreationClassName": "Msvm_VirtualSystemManagementService", "Name": "vmms",
            "SystemCreationClassName": "Msvm_ComputerSystem", "SystemName": self.name,
            "Caption": "Virtual Machine Management Service", "Description": "Service for managing virtual machines",
            "ElementName": "Virtual Machine Management Service", "EnabledState": 2, "EnabledDefault": 2,
            "RequestedState": 12, "HealthState": 5, "Status": "OK", "Started": True, "StartMode": "Automatic",
            "OperationalStatus": [2], "StatusDescriptions": ["OK"], "TimeOfLastStateChange": self.start,
        })

    def guest_components(self) -> list[Instance]:
        """Every VM's heartbeat, shutdown and KVP components (guest.py, imported here: it imports this module)."""
        from . import guest  # pylint: disable=import-outside-toplevel
        return [component for vm in self.vms for component in guest.components(self, vm)]

    def active_settings(self, vm: VirtualMachine) -> Instance:
        return Instance(VSSD, {
            "InstanceID": f"Microsoft:{vm.id}", "Caption": "Virtual Machine Settings",
            "Description": "Active settings for the virtual machine", "ElementName": vm.name,
            "VirtualSystemIdentifier": vm.id, "VirtualSystemType": REALIZED,
            "VirtualSystemSubType": "Microsoft:Hyper-V:SubType:2", "CreationTime": vm.installed, "Version": "9.0",
            "ConfigurationID": vm.id, "ConfigurationDataRoot": CONFIG_ROOT,
            "ConfigurationFile": f"{CONFIG_ROOT}\\Virtual Machines\\{vm.id}.vmcx", "IsSaved": vm.power == 6,
            "SnapshotDataRoot": CONFIG_ROOT, "SuspendDataRoot": CONFIG_ROOT, "SwapFileDataRoot": CONFIG_ROOT,
            "LogDataRoot": CONFIG_ROOT, "AutomaticSnapshotsEnabled": False, "SecureBootEnabled": True,
        })

    def vssd_path(self, instance_id: str) -> str:
        escaped = instance_id.replace("\\", "\\\\").replace('"', '\\"')
        return f'\\\\{self.name}\\root\\virtualization\\v2:Msvm_VirtualSystemSettingData.InstanceID="{escaped}"'

    def recovery_point(self, vm: VirtualMachine, index: int) -> Instance:
        point = vm.recovery_points[index]
        parent = self.vssd_path(vm.recovery_points[index - 1].instance_id) if index else None
        return Instance(VSSD, {
            "InstanceID": point.instance_id, "Caption": "Virtual Machine Settings",
            "Description": "Snapshot settings for the virtual machine", "ElementName": point.name,
            "VirtualSystemIdentifier": vm.id, "VirtualSystemType": VIRTUAL_SYSTEM_TYPES[point.kind],
            "VirtualSystemSubType": "Microsoft:Hyper-V:SubType:2", "CreationTime": point.created, "Version": "9.0",
            "ConfigurationID": point.instance_id.split(":", 1)[1], "Parent": parent, "IsSaved": False,
            "ConfigurationDataRoot": CONFIG_ROOT, "SnapshotDataRoot": CONFIG_ROOT,
        })

    def relationship(self, vm: VirtualMachine) -> Instance:
        app_points = [p.created for p in vm.recovery_points if p.kind == "application_consistent"]
        return Instance(REPLICATION_RELATIONSHIP, {
            "InstanceID": f"Microsoft:{vm.id}\\HVR\\0", "ElementName": "Replication Relationship",
            "Name": "Replication Relationship", "Caption": "Replication Relationship", "HealthState": 5,
            "OperationalStatus": [2], "Status": "OK", "ReplicationState": vm.state, "ReplicationHealth": vm.health,
            "FailedOverReplicationType": vm.failed_over_type,
            "LastReplicationType": self.last_replication_type(vm),
            "LastReplicationTime": vm.last_replication or NEVER,
            "LastApplyTime": (vm.last_replication or NEVER) if vm.mode in (2, 4) else NEVER,
            "LastApplicationConsistentReplicationTime": max(app_points) if app_points else NEVER,
        })

    def replication_settings(self, vm: VirtualMachine) -> Instance:
        domain = self.fqdn.partition(".")[2]
        partner = f"{vm.partner}.{domain}" if domain and "." not in vm.partner else vm.partner
        primary, recovery = (self.fqdn, partner) if vm.mode == 1 else (partner, self.fqdn)
        app = any(p.kind == "application_consistent" for p in vm.recovery_points)
        return Instance(REPLICATION_SETTING_DATA, {
            "InstanceID": f"Microsoft:{vm.id}\\HVR\\0", "Caption": "Replication Settings",
            "Description": "Virtual Machine Replication Settings Data", "ElementName": vm.name,
            "VirtualSystemIdentifier": vm.id, "VirtualSystemType": "Microsoft:Hyper-V:Replica",
            "PrimaryConnectionPoint": primary, "PrimaryHostSystem": primary,
            "RecoveryConnectionPoint": recovery, "RecoveryHostSystem": recovery, "RecoveryServerPortNumber": 80,
            "AuthenticationType": 1, "CompressionEnabled": True, "BypassProxyServer": False,
            "ReplicationInterval": vm.interval, "RecoveryHistory": min(24, len(vm.recovery_points)),
            "ApplicationConsistentSnapshotInterval": 4 if app else 0, "AutoResynchronizeEnabled": False,
            "AutoResynchronizeIntervalStart": datetime.timedelta(hours=18, minutes=30),
            "AutoResynchronizeIntervalEnd": datetime.timedelta(hours=6),
            "EnableWriteOrderPreservationAcrossDisks": True, "ReplicateHostKvpItems": True,
        })

    def job_instances(self) -> list[Instance]:
        now = self.now()
        return [job.instance(now, self.wall) for job in self.jobs.values()]

    def association_instances(self, of_class: str | None = None) -> list[Instance]:
        """Msvm_SnapshotOfVirtualSystem, Msvm_SettingsDefineState, Msvm_ElementSettingData, Msvm_ReplicaSystemDependency
        and Msvm_AffectedJobElement; only those of ``of_class`` (or classes derived from it) when it is given, so
        that a query about the jobs of a VM does not build every VM's settings, and the reverse."""
        if of_class is None:
            return self._vm_links() + self._network_links() + self._job_links()
        jobs = self._job_links() if AFFECTED_JOB_ELEMENT.is_a(of_class) else []
        vms = [link for link in self._vm_links(devices=SYSTEM_DEVICE.is_a(of_class)) if link.cls.is_a(of_class)] \
            if any(cls.is_a(of_class) for cls in VM_LINKS) else []
        network = [link for link in self._network_links() if link.cls.is_a(of_class)] \
            if any(cls.is_a(of_class) for cls in NETWORK_LINKS) else []
        return vms + network + jobs

    def _network_links(self) -> list[Instance]:
        from . import network  # pylint: disable=import-outside-toplevel
        return network.links(self)

    def _vm_links(self, devices: bool = True) -> list[Instance]:
        """The associations of every VM; its guest components' (Msvm_SystemDevice) only with ``devices``: reading
        the guests is what a query about test VMs or settings must not pay for."""
        result = []
        for vm in self.vms:
            vm_ref = self.vm_system(vm).ref()
            result.append(Instance(SETTINGS_DEFINE_STATE, {
                "ManagedElement": vm_ref, "SettingData": self.active_settings(vm).ref()}))
            for index in range(len(vm.recovery_points)):
                result.append(Instance(SNAPSHOT_OF_VIRTUAL_SYSTEM, {
                    "Antecedent": vm_ref, "Dependent": self.recovery_point(vm, index).ref()}))
            if vm.mode != 0:
                result.append(Instance(ELEMENT_SETTING_DATA, {
                    "ManagedElement": vm_ref, "SettingData": self.replication_settings(vm).ref(),
                    "IsCurrent": 1, "IsDefault": 2, "IsNext": 2}))
        for test in (vm for vm in self.vms if vm.test_of):
            replica = self.vm_by_id(str(test.test_of))
            if replica is None:
                continue  # the replica was destroyed: nothing links to its test VM any more
            result.append(Instance(REPLICA_SYSTEM_DEPENDENCY, {"Antecedent": self._vm_ref(replica),
                                                               "Dependent": self._vm_ref(test)}))
        for component in self.guest_components() if devices else []:
            vm = self.vm_by_id(str(component.get("SystemName")))
            if vm is not None:
                result.append(Instance(SYSTEM_DEVICE, {"GroupComponent": self._vm_ref(vm),
                                                       "PartComponent": component.ref()}))
        return result

    def _job_links(self) -> list[Instance]:
        result = []
        for job in self.jobs.values():
            for vm in (self.vm_by_id(vm_id) for vm_id in [job.vm_id] + job.affects):
                if vm is None:
                    continue
                # The references alone: building each VM and job instance for them made a host with a drill's
                # thousand jobs spend its time here on every ASSOCIATORS OF query.
                result.append(Instance(AFFECTED_JOB_ELEMENT, {
                    "AffectedElement": self._vm_ref(vm),
                    "AffectingElement": CimRef.make(CONCRETE_JOB.name, {"InstanceID": job.instance_id}),
                    "ElementEffects": [5]}))
        return result

    @staticmethod
    def _vm_ref(vm: VirtualMachine) -> CimRef:
        return CimRef.make(COMPUTER_SYSTEM.name, {"CreationClassName": COMPUTER_SYSTEM.name, "Name": vm.id})

    def _settings_and_points(self) -> list[Instance]:
        result = []
        for vm in self.vms:
            result.append(self.active_settings(vm))
            result.extend(self.recovery_point(vm, i) for i in range(len(vm.recovery_points)))
        return result

    def _replication_instances(self) -> list[Instance]:
        result = []
        for vm in self.vms:
            if vm.mode != 0:
                result.append(self.replication_settings(vm))
                result.append(self.relationship(vm))
        return result

    def _groups(self) -> list[tuple[tuple[CimClass, ...], Callable[[], list[Instance]]]]:
        """Every instance in the order a WMI enumeration lists them, as groups built only when a class of the group
        is asked for: rendering every class for each request made a 500-VM drill spend its time here."""
        return [
            ((COMPUTER_SYSTEM,), lambda: [self.host_system()] + [self.vm_system(vm) for vm in self.vms]),
            ((REPLICATION_SERVICE,), lambda: [self.service()]),
            ((VIRTUAL_SYSTEM_MANAGEMENT_SERVICE,), lambda: [self.management_service()]),
            (GUEST_COMPONENTS, self.guest_components),
            ((VSSD,), self._settings_and_points),
            ((VIRTUAL_ETHERNET_SWITCH,), lambda: self._network("switch_instances")),
            ((ETHERNET_SWITCH_PORT,), lambda: [port for _s, port, _st in self._network("port_instances")]),
            ((SYNTHETIC_ETHERNET_PORT, ETHERNET_PORT_ALLOCATION), lambda: self._network("settings_instances")),
            ((FAILOVER_NETWORK_SETTING,), lambda: self._network("failover_instances")),
            ((REPLICATION_SETTING_DATA, REPLICATION_RELATIONSHIP), self._replication_instances),
            ((CONCRETE_JOB,), self.job_instances),
            (VM_LINKS, self._vm_links),
            (NETWORK_LINKS, self._network_links),
            ((AFFECTED_JOB_ELEMENT,), self._job_links),
        ]

    def _network(self, builder: str) -> list[Any]:
        from . import network  # pylint: disable=import-outside-toplevel
        return getattr(network, builder)(self)

    def _instances(self, wanted: Callable[[CimClass], bool]) -> list[Instance]:
        result: list[Instance] = []
        for classes, build in self._groups():
            if any(wanted(cls) for cls in classes):
                result.extend(i for i in build() if wanted(i.cls))
        return result

    def all_instances(self) -> list[Instance]:
        """Every instance, in the order a WMI enumeration would list them."""
        return self._instances(lambda cls: True)

    def instances_of(self, class_name: str) -> list[Instance]:
        """Instances of the class or of classes derived from it (WQL polymorphism)."""
        return self._instances(lambda cls: cls.is_a(class_name))

    def exact_instances(self, class_name: str) -> list[Instance]:
        low = class_name.lower()
        return self._instances(lambda cls: cls.name.lower() == low)

    def lookup(self, ref: CimRef) -> Instance | None:
        """The instance a reference names; a job or a VM by its key directly (a probe links each VM to its jobs)."""
        keyed = self.instances_with(ref.class_name, "InstanceID" if ref.class_name.lower() == "msvm_concretejob"
                                    else "Name", [str(ref.key("InstanceID") or ref.key("Name") or "")])
        found = keyed if keyed is not None else self.exact_instances(ref.class_name)
        return next((i for i in found if i.ref().matches(ref)), None)

    def instances_with(self, class_name: str, prop: str, values: Iterable[str]) -> list[Instance] | None:
        """The instances of a class whose key ``prop`` is one of ``values``, found by index for the classes a drill
        reads by key (Msvm_ConcreteJob by InstanceID, Msvm_ComputerSystem by Name); None for any other class, which
        the caller then reads in full. A host with a drill's thousand jobs answers a poll without building them all."""
        low, prop = class_name.lower(), prop.lower()
        if low == "msvm_concretejob" and prop == "instanceid":
            now = self.now()
            jobs = (self.jobs.get(str(v).upper()) for v in values)
            return [job.instance(now, self.wall) for job in jobs if job is not None]
        if low == "msvm_computersystem" and prop == "name":
            wanted = {str(v).lower() for v in values}
            vms = [self.vm_system(vm) for vm in (self.vm_by_id(v) for v in wanted) if vm is not None]
            return ([self.host_system()] if self.name.lower() in wanted else []) + vms
        return None

    # ------------------------------------------------------------ observation (control API)

    def describe_vms(self) -> list[dict[str, Any]]:
        modes = {0: "none", 1: "primary", 2: "replica", 3: "test_replica", 4: "extended_replica"}
        return [{
            "name": vm.name, "id": vm.id, "mode": modes[vm.mode], "state": vm.state, "power": vm.power,
            "health": vm.health, "failed_over_type": vm.failed_over_type, "job_result": vm.job_result,
            "jobs": [j.instance_id for j in self.jobs.values() if j.vm_id == vm.id],
            "recovery_points": [p.instance_id for p in vm.recovery_points], "test_of": self._replica_name(vm),
        } for vm in self.vms]

    def _replica_name(self, vm: VirtualMachine) -> str | None:
        replica = self.vm_by_id(vm.test_of) if vm.test_of else None
        return replica.name if replica else None
