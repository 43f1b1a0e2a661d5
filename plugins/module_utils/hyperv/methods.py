# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Hyper-V methods the collection calls, as data: one entry per method says all that the rest of the code needs.

An entry names the class the method lives on and how the instance to call it on is found (the host's single
service, the VM itself, or a component of the VM), its parameters in and out with their CIM types, the JobTypes of
the job it may start, and the state it leaves the VM in. operations.py calls any entry, probe.py settles a lost
answer from it, and converge.py waits and reads back by it; adding a method is adding an entry here (docs/design.md,
"Adding a Hyper-V method"). Signatures and job types: hyperv-replica-wmi notes 1.2 and 4.3; MicrosoftDocs/win32
``desktop-src/HyperV_v2/<method>-<class>.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Mapping, Optional, Tuple

from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.jobs import Job
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import (
    POWER_OFF, POWER_RUNNING, POWER_STATES, RECOVERED, REPLICATING, REPLICATION_STATES, VM)

# How the instance a method is invoked on is found.
SERVICE = "service"      # the host's one instance of the class (Msvm_ReplicationService, ...): one query a run
SYSTEM = "system"        # the VM's own Msvm_ComputerSystem
COMPONENT = "component"  # the VM's instance of the class (Msvm_ShutdownComponent, ...), by its SystemName key


@dataclass(frozen=True)
class Param:
    """A method parameter: its CIM type as the MOF declares it ("ref", "string", "uint16", "boolean", "datetime"; "[]"
    for an array). ``embedded`` names the class of the instance a string parameter marked EmbeddedInstance
    carries: the caller passes an cim.values.Instance of that class, sent as CIM-XML."""

    name: str
    cim_type: str
    embedded: str = ""


@dataclass(frozen=True)
class Outcome:
    """Where a method leaves the VM: one of its states at a value. ``state`` is the replication state
    (ReplicationState), ``power`` the power state (EnabledState); both are read with the VM. The value is fixed, or
    that of an input (``from_input``): RequestStateChange's RequestedState values are the EnabledState values they
    lead to (2 Running, 3 Off, 6 Saved, 9 Paused), and RequestReplicationStateChange's the ReplicationState ones.
    ``gone``: the VM no longer exists (DestroySystem)."""

    attribute: str
    value: Optional[int] = None
    from_input: str = ""

    def target(self, inputs: Mapping[str, Any]) -> Optional[int]:
        value = inputs.get(self.from_input) if self.from_input else self.value
        return int(value) if value is not None else None

    def reached(self, vm: Optional[VM], inputs: Mapping[str, Any]) -> bool:
        if self.attribute == "gone":
            return vm is None
        target = self.target(inputs)
        return vm is not None and target is not None and getattr(vm, self.attribute) == target

    def name(self, inputs: Mapping[str, Any]) -> str:
        if self.attribute == "gone":
            return "gone"
        names = REPLICATION_STATES if self.attribute == "state" else POWER_STATES
        target = self.target(inputs)
        return names.get(target, "Unknown (%s)" % target) if target is not None else "Unknown"


def replication(state: Optional[int] = None, from_input: str = "") -> Outcome:
    return Outcome("state", state, from_input)


def power(state: Optional[int] = None, from_input: str = "") -> Outcome:
    return Outcome("power", state, from_input)


GONE = Outcome("gone")
JOB = Param("Job", "ref")


@dataclass(frozen=True)
class Method:  # pylint: disable=too-many-instance-attributes
    """One Hyper-V method and what comes of calling it."""

    name: str
    cim_class: str
    target: str
    inputs: Tuple[Param, ...] = ()
    outputs: Tuple[Param, ...] = (JOB,)
    # The JobType of the Msvm_ConcreteJob it starts (notes 4.3): how a lost answer's job is told from others.
    job_types: FrozenSet[int] = frozenset()
    leads_to: Optional[Outcome] = None
    # The input that names the VM the method works on, for a method of a service ("" when the target is the VM or
    # one of its components): the caller passes the VM, never this parameter.
    system_input: str = ""
    # The cmdlet that shows an operator what the VM is doing, for messages that send them to look.
    check_with: str = "Get-VMReplication"
    # For a method whose job depends on an input (RequestStateChange: 12 Start, 13 Power Off, ...): that input and
    # the JobType by its value, so that another run's job is known to head where this call would (operations.py).
    jobs_by_input: Tuple[str, Mapping[int, int]] = ("", {})
    # Return values this method documents with other meanings than the Hyper-V ones (operations.RETURN_CODES): the
    # DMTF codes of the CIM_VirtualSystemManagementService methods (1 Not Supported, 4 Invalid Parameter, ...).
    return_codes: Mapping[int, str] = field(default_factory=dict)

    def job_types_for(self, inputs: Mapping[str, Any]) -> FrozenSet[int]:
        """The JobTypes of the job this call starts: the one its input names, else every one of the method."""
        name, by_value = self.jobs_by_input
        if name and inputs.get(name) in by_value:
            return frozenset({by_value[inputs[name]]})
        return self.job_types

    def output_types(self) -> Dict[str, str]:
        return {param.name: param.cim_type for param in self.outputs}

    def arguments(self, vm: VM, inputs: Mapping[str, Any]) -> Dict[str, Any]:
        """The parameters of a call on ``vm``'s behalf: the VM's own reference where the method takes one, then
        ``inputs``. A name the method does not declare is a bug of the caller, stopped here rather than sent."""
        declared = {param.name for param in self.inputs}
        unknown = sorted(set(inputs) - declared) + ([self.system_input] if self.system_input in inputs else [])
        if unknown:
            raise ValueError("%s.%s has no input %s" % (self.cim_class, self.name, ", ".join(unknown)))
        arguments: Dict[str, Any] = {self.system_input: vm.reference()} if self.system_input else {}
        arguments.update(inputs)
        return arguments

    def describe(self, vm: VM) -> str:
        """The VM's state that this method changes, by name (its replication state unless the method says power or
        removes the VM)."""
        if self.leads_to is not None and self.leads_to.attribute in ("power", "gone"):
            return vm.power_name
        return vm.state_name

    def step(self, **inputs: Any) -> "Step":
        """This method with these inputs, as one step of a plan (converge.py)."""
        return Step(self, inputs)


@dataclass(frozen=True)
class Step:
    """One method to call on a VM's behalf, with its inputs besides the VM (converge.Plan holds a list of them).
    Never changed once made: the steps below are shared by every plan that uses them."""

    method: Method
    inputs: Mapping[str, Any] = field(default_factory=dict)
    # Another run's job already heading where this step leads: followed to its end instead of calling.
    follow: Optional[Job] = None
    # The VM the step acts on when it is not the one the task names (a replica's test VM); None: that one.
    vm: Optional[VM] = None
    # Checked just before the step is sent, with every call of the step at once (converge.py): sets ``error`` on a
    # call that must not go (a destroy whose target is no longer the replica's test VM). Reads the host itself.
    guard: Optional[Callable[[Any, List[Any]], None]] = None

    def adding(self, **inputs: Any) -> "Step":
        return Step(self.method, dict(self.inputs, **inputs), self.follow, self.vm, self.guard)

    def following(self, job: Job) -> "Step":
        return Step(self.method, self.inputs, job, self.vm, self.guard)

    def on(self, vm: VM, guard: Optional[Callable[[Any, List[Any]], None]] = None) -> "Step":
        """This step acting on ``vm`` instead of the task's VM, checked by ``guard`` before it is sent."""
        return Step(self.method, self.inputs, self.follow, vm, guard)


REPLICATION_SERVICE = "Msvm_ReplicationService"
COMPUTER_SYSTEM = Param("ComputerSystem", "ref")

INITIATE_FAILOVER = Method(
    "InitiateFailover", REPLICATION_SERVICE, SERVICE,
    inputs=(COMPUTER_SYSTEM, Param("SnapshotSettingData", "ref")),  # NULL: the latest point in time
    job_types=frozenset({97}), leads_to=replication(RECOVERED), system_input="ComputerSystem")

REVERT_FAILOVER = Method(
    "RevertFailover", REPLICATION_SERVICE, SERVICE, inputs=(COMPUTER_SYSTEM,),
    job_types=frozenset({98}), leads_to=replication(REPLICATING), system_input="ComputerSystem")

# testreplicasystem-msvm-replicationservice: a test VM "<replica> - Test" from a recovery point (NULL: the latest);
# the replica's state does not change, so a lost answer is settled from its jobs alone. JobType 102 (Initiate Test
# Replica) [infer from the name, notes 4.3]. ResultingSystem names the test VM; the domain finds it through
# Msvm_ReplicaSystemDependency instead, as Stop-VMFailover does.
TEST_REPLICA_SYSTEM = Method(
    "TestReplicaSystem", REPLICATION_SERVICE, SERVICE,
    inputs=(COMPUTER_SYSTEM, Param("SnapshotSettingData", "ref")), outputs=(Param("ResultingSystem", "ref"), JOB),
    job_types=frozenset({102}), system_input="ComputerSystem")

# destroysystem-msvm-virtualsystemmanagementservice: removes an off or saved VM. JobType 3 (Destroy Virtual Machine),
# or 103 (Remove Test Replica): which one a test VM's removal reports is not documented.
DESTROY_SYSTEM = Method(
    "DestroySystem", "Msvm_VirtualSystemManagementService", SERVICE, inputs=(Param("AffectedSystem", "ref"),),
    job_types=frozenset({3, 103}), leads_to=GONE, system_input="AffectedSystem", check_with="Get-VM")

# requeststatechange-msvm-computersystem: RequestedState 2 start, 3 turn off (hard), 6 save, 9 pause, 10 reboot,
# 11 reset; jobs 12 Start, 13 Power Off, 14 Save, 26 Pause, 27 Resume, 28 Reset, 29 Reboot (msvm-concretejob).
REQUEST_STATE_CHANGE = Method(
    "RequestStateChange", "Msvm_ComputerSystem", SYSTEM,
    inputs=(Param("RequestedState", "uint16"), Param("TimeoutPeriod", "datetime")),
    job_types=frozenset({12, 13, 14, 26, 27, 28, 29}), leads_to=power(from_input="RequestedState"),
    check_with="Get-VM", jobs_by_input=("RequestedState", {2: 12, 3: 13, 6: 14, 9: 26, 10: 29, 11: 28}))

# msvm-shutdowncomponent-initiateshutdown: asks the guest to shut down; 0 means it was asked, and the VM turns off
# later (no job: the caller watches the VM); 32780 the guest does not answer, 32781 locked (needs Force), 32782 a
# shutdown is already in progress.
INITIATE_SHUTDOWN = Method(
    "InitiateShutdown", "Msvm_ShutdownComponent", COMPONENT,
    inputs=(Param("Force", "boolean"), Param("Reason", "string")), outputs=(), check_with="Get-VM")

# msvm-computersystem-requestreplicationstatechange: RequestedState 3 resumes, 7 suspends, 4 prepares a planned
# failover on the primary; JobType 96 (Replicate State Change).
REQUEST_REPLICATION_STATE_CHANGE = Method(
    "RequestReplicationStateChange", "Msvm_ComputerSystem", SYSTEM,
    inputs=(Param("RequestedState", "uint16"), Param("TimeoutPeriod", "datetime")),
    job_types=frozenset({96}), leads_to=replication(from_input="RequestedState"))

# setfailovernetworkadaptersettings-msvm-replicationservice: replaces the failover TCP/IP settings of the adapters
# whose Msvm_FailoverNetworkAdapterSettingData instances it is given (the instances as read, edited: Microsoft's
# client does the same, decompiled FailoverNetworkAdapterSettingView). 0, or 4096 with a job of a type the page does
# not name. Setting the same values twice is harmless, so a lost answer with no job to follow is sent again.
SET_FAILOVER_NETWORK_ADAPTER_SETTINGS = Method(
    "SetFailoverNetworkAdapterSettings", REPLICATION_SERVICE, SERVICE,
    inputs=(COMPUTER_SYSTEM, Param("NetworkSettings", "string[]", "Msvm_FailoverNetworkAdapterSettingData")),
    system_input="ComputerSystem", check_with="Get-VMNetworkAdapterFailoverConfiguration")

# modifyresourcesettings-msvm-virtualsystemmanagementservice: changes the resource settings it is given, each an
# embedded instance whose InstanceID names it (here an adapter's connection, for its TestReplicaSwitchName). Its
# return values are the DMTF ones.
MODIFY_RESOURCE_SETTINGS = Method(
    "ModifyResourceSettings", "Msvm_VirtualSystemManagementService", SERVICE,
    inputs=(Param("ResourceSettings", "string[]", "Msvm_EthernetPortAllocationSettingData"),),
    outputs=(Param("ResultingResourceSettings", "ref[]"), JOB), check_with="Get-VMNetworkAdapter",
    return_codes={1: "Not Supported", 2: "Failed", 3: "Timeout", 4: "Invalid Parameter", 5: "Invalid State",
                  6: "Incompatible Parameters"})

# Every method the collection calls, by name.
METHODS = {method.name: method for method in (INITIATE_FAILOVER, REVERT_FAILOVER, TEST_REPLICA_SYSTEM, DESTROY_SYSTEM,
                                              REQUEST_STATE_CHANGE, REQUEST_REPLICATION_STATE_CHANGE,
                                              INITIATE_SHUTDOWN, SET_FAILOVER_NETWORK_ADAPTER_SETTINGS,
                                              MODIFY_RESOURCE_SETTINGS)}


def started_by(job_type: Optional[int]) -> str:
    """What a job of this JobType is, in the words of the method that starts it, for a message about a job the run
    found on a VM (another run's, or an operator's)."""
    names = [method.name for method in METHODS.values() if job_type in method.job_types]
    return "%s (JobType %s)" % (names[0], job_type) if names else "JobType %s" % job_type


# Steps the failover module plans with (Stop-VMFailover turns a running VM off this way, Start-VMFailover resumes).
TURN_OFF = REQUEST_STATE_CHANGE.step(RequestedState=POWER_OFF)
START = REQUEST_STATE_CHANGE.step(RequestedState=POWER_RUNNING)
GUEST_SHUTDOWN = INITIATE_SHUTDOWN.step(Force=False, Reason="hyperv.replica: DR drill")
RESUME_REPLICATION = REQUEST_REPLICATION_STATE_CHANGE.step(RequestedState=REPLICATING)
