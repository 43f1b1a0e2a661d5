"""The methods the simulated host answers, as one table keyed by (class, method): each entry's signature, the kind
of job it starts (JobType and names, hyperv notes 4.3) and its handler (replica.py).

wsman.py resolves the target instance, invoke.py parses the inputs by the signature and renders every output
parameter, and the handler does the work: adding a method is one entry here and one handler (docs/design.md,
"Adding a Hyper-V method"). Signatures: MicrosoftDocs/win32 ``desktop-src/HyperV_v2/<method>-<class>.md`` and hyperv
notes 1.2, 2.6. Out parameters are rendered alphabetically before ReturnValue; unknown in-parameters are rejected.
"""

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from . import guest, management, network, power, replica
from .cim import Instance
from .hyperv import HyperVHost
from .invocation import Invocation, MethodResult, Rejected
from .jobs import JobKind


class Param(NamedTuple):
    """A parameter: CIM type, array or not, "in" or "out"; ``embedded`` names the class of the instance a string
    parameter marked EmbeddedInstance carries (as CIM-XML text)."""

    cimtype: str
    array: bool = False
    direction: str = "in"
    embedded: str = ""


Signature = dict[str, Param]
IN_REF, JOB = Param("ref"), Param("ref", direction="out")


@dataclass(frozen=True)
class MethodSpec:
    cls: str
    name: str
    signature: Signature
    handler: Callable[[Invocation], MethodResult]
    job: JobKind | None = None
    # A method whose kind of job depends on an input (RequestStateChange: 12 Start, 13 Power Off, ...): that input
    # and the kinds by its value; ``job`` is then the kind of any other value.
    jobs_by: tuple[str, dict[Any, JobKind]] | None = None

    def job_kind(self, params: dict[str, Any]) -> JobKind | None:
        if self.jobs_by is not None:
            name, kinds = self.jobs_by
            return kinds.get(params.get(name), self.job)
        return self.job


def _job(job_type: int, caption: str, description: str, verb: str, method: str, follows: bool = False) -> JobKind:
    return JobKind(job_type, caption, description, verb, method, follows)


def _power_job(job_type: int, what: str, doing: str) -> JobKind:
    return _job(job_type, f"{what} Virtual Machine", f"{doing} Virtual Machine", what.lower() + " the virtual machine",
                "RequestStateChange")


# RequestStateChange's jobs by RequestedState (msvm-concretejob JobType 12 Start, 13 Power Off, 14 Save, 26 Pause,
# 28 Reset, 29 Reboot; Caption and Description [infer]).
POWER_JOBS = {
    power.RUNNING: _power_job(12, "Start", "Starting"), power.OFF: _power_job(13, "Turn Off", "Turning Off"),
    power.SAVED: _power_job(14, "Save", "Saving"), power.PAUSED: _power_job(26, "Pause", "Pausing"),
    power.RESET: _power_job(28, "Reset", "Resetting"), power.REBOOT: _power_job(29, "Reboot", "Rebooting"),
}


# The three failover methods' jobs end as the VM's job_result says (the fleet's way to make them fail or hang).
TABLE: dict[tuple[str, str], MethodSpec] = {(spec.cls.lower(), spec.name.lower()): spec for spec in (
    MethodSpec("Msvm_ReplicationService", "InitiateFailover",
               {"ComputerSystem": IN_REF, "SnapshotSettingData": IN_REF, "Job": JOB}, replica.initiate_failover,
               _job(97, "Initiate Failover", "Initiating failover", "initiate failover", "InitiateFailover", True)),
    MethodSpec("Msvm_ReplicationService", "RevertFailover", {"ComputerSystem": IN_REF, "Job": JOB},
               replica.revert_failover,
               _job(98, "Revert Failover", "Reverting failover", "revert failover", "RevertFailover", True)),
    MethodSpec("Msvm_ReplicationService", "CommitFailover", {"ComputerSystem": IN_REF, "Job": JOB},
               replica.commit_failover,
               _job(99, "Commit Failover", "Committing failover", "commit failover", "CommitFailover", True)),
    # JobType 96 for this method is [infer] from the names (hyperv notes 4.3).
    MethodSpec("Msvm_ComputerSystem", "RequestReplicationStateChange",
               {"RequestedState": Param("uint16"), "TimeoutPeriod": Param("datetime"), "Job": JOB},
               replica.request_state_change,
               _job(96, "Replicate State Change", "Changing replication state", "change the replication state",
                    "RequestReplicationStateChange")),
    # TestReplicaSystem's job is JobType 102 "Initiate Test Replica" [infer from the name, hyperv notes 4.3].
    MethodSpec("Msvm_ReplicationService", "TestReplicaSystem",
               {"ComputerSystem": IN_REF, "SnapshotSettingData": IN_REF,
                "ResultingSystem": Param("ref", direction="out"), "Job": JOB}, replica.test_replica_system,
               _job(102, "Initiate Test Replica", "Creating the test virtual machine", "create the test replica",
                    "TestReplicaSystem")),
    MethodSpec("Msvm_VirtualSystemManagementService", "DestroySystem", {"AffectedSystem": IN_REF, "Job": JOB},
               management.destroy_system,
               _job(3, "Destroy Virtual Machine", "Destroying Virtual Machine", "destroy the virtual machine",
                    "DestroySystem")),
    # A graceful shutdown: no job, the VM turns off later (guest.py).
    MethodSpec("Msvm_ShutdownComponent", "InitiateShutdown", {"Force": Param("boolean"), "Reason": Param("string")},
               guest.initiate_shutdown),
    # Failover TCP/IP settings and the test switch (network.py): both answer at once here (no job kind).
    MethodSpec("Msvm_ReplicationService", "SetFailoverNetworkAdapterSettings",
               {"ComputerSystem": IN_REF,
                "NetworkSettings": Param("string", True, embedded="Msvm_FailoverNetworkAdapterSettingData"),
                "Job": JOB}, network.set_failover_network_adapter_settings),
    MethodSpec("Msvm_VirtualSystemManagementService", "ModifyResourceSettings",
               {"ResourceSettings": Param("string", True, embedded="*"),
                "ResultingResourceSettings": Param("ref", True, "out"), "Job": JOB}, network.modify_resource_settings),
    MethodSpec("Msvm_ComputerSystem", "RequestStateChange",
               {"RequestedState": Param("uint16"), "TimeoutPeriod": Param("datetime"), "Job": JOB},
               power.request_state_change, POWER_JOBS[power.OFF], jobs_by=("RequestedState", POWER_JOBS)),
)}


def find(cls: str, method: str) -> MethodSpec | None:
    """The entry of a method of a class, whatever the case of either name (Windows ignores it)."""
    return TABLE.get((cls.lower(), method.lower()))


def names() -> tuple[str, ...]:
    """Every modelled method's name, in its canonical casing."""
    return tuple(spec.name for spec in TABLE.values())


def canonical(cls: str, method: str) -> str:
    """The method's canonical casing if it is modelled on that class, else the name as given."""
    spec = find(cls, method)
    return spec.name if spec is not None else method


def invoke(spec: MethodSpec, host: HyperVHost, target: Instance, params: dict, owner: str) -> MethodResult:
    """Run the handler; a Rejected from inside it is the synchronous return value it carries."""
    try:
        return spec.handler(Invocation(host, spec, target, params, owner))
    except Rejected as rejected:
        return MethodResult(rejected.code)
