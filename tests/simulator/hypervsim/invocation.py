"""What a method handler gets and gives back (methods.py keys the handlers; replica.py holds them).

A handler receives an ``Invocation``: the host, the instance the method was invoked on (already resolved from the
request's selectors), the parsed input parameters and the calling user. It returns a ``MethodResult``: the return
value and every output parameter it sets (the rest are NULL). A synchronous refusal can also be raised as
``Rejected`` from a helper deep inside a handler.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from . import jobs as jobmod
from .cim import CimRef, Instance
from .hyperv import HyperVHost, VirtualMachine

if TYPE_CHECKING:
    from .methods import MethodSpec

OK, JOB_STARTED = 0, 4096
INVALID_PARAMETER, SYSTEM_IN_USE, INVALID_STATE = 32773, 32774, 32775


@dataclass
class MethodResult:
    """A return value and the output parameters set (name -> value: a CimRef, a list, a scalar)."""

    return_value: int
    outputs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def job(cls, job_id: str, **outputs: Any) -> "MethodResult":
        """4096 with the Job reference (and any other outputs)."""
        return cls(JOB_STARTED, dict(outputs, Job=CimRef.make("Msvm_ConcreteJob", {"InstanceID": job_id})))


class Rejected(Exception):
    """A synchronous non-zero return value."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Invocation:
    """One Invoke as the handler sees it."""

    host: HyperVHost
    spec: "MethodSpec"
    target: Instance
    params: dict[str, Any]
    owner: str

    def start_job(self, vm: VirtualMachine, *, error: jobmod.JobError | None = None,
                  on_success: Callable[[], None] | None = None,
                  on_failure: Callable[[], None] | None = None, affects: tuple[str, ...] = ()) -> MethodResult:
        """Start the method's kind of job on ``vm`` (also affecting the VMs in ``affects``); how it ends (the VM's
        job_result or an injected rule) is decided by the host. Returns the 4096 answer that names it."""
        kind = self.spec.job_kind(self.params)
        if kind is None:
            raise TypeError(f"{self.spec.name} starts no job")
        job_id = self.host.start_job(vm, kind, self.owner, error=error, on_success=on_success, on_failure=on_failure,
                                     affects=affects)
        return MethodResult.job(job_id)

    def invalid_state(self, vm: VirtualMachine) -> MethodResult:
        """The refusal of a call in a state the method does not accept: a synchronous 32775 by default; with the
        fleet choice invalid_state: job, a job that ends in JobState 10 (hyperv notes 3.3: both happen)."""
        kind = self.spec.job_kind(self.params)
        if self.host.config.invalid_state == "job" and kind is not None:
            return self.start_job(vm, error=jobmod.job_error(vm.name, vm.id, INVALID_STATE, kind))
        return MethodResult(INVALID_STATE)
