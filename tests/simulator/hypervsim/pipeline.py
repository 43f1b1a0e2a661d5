"""The path of one authenticated WS-Man request through fault injection, the WS-Man service and the request log.

    1. read what the request is about (no lock), and find its VM and injected latency (model lock, briefly);
    2. sleep the latency WITHOUT the model lock, so that slow requests do not serialise concurrent ones;
    3. under the model lock: drop before / bare HTTP 500, or let the service handle it (injected SOAP faults come
       from the service's own injection point), then drop after if a rule says so;
    4. log the request (every outcome, including AccessDenied for a user without rights).

The service counts the request by operation and by "<operation> <class>", with the class resolved here (for a Pull
or Release, the class of its enumeration context); a request decided in step 3 before the service sees it is counted
the same way.  A drop is signalled to the HTTP layer with hooks.DropConnection; it closes the TCP connection without
a response.  The network latency (network_latency_ms) is not waited here but in the HTTP layer (server.py), for every
HTTP request, before this pipeline runs.
"""

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from . import hostile
from .fleet import User
from .hooks import Counters, DropConnection, FaultInjector
from .hyperv import HyperVHost, VirtualMachine
from .requestinfo import ContextClasses, RequestInfo, classify, outcome_of
from .requestlog import RequestLog
from .wsman import NotXml, WsmanService


@dataclass(frozen=True)
class _Admitted:
    """A request past step 1: its bytes, who sent it, what it is about, and the latency it waited."""

    data: bytes
    user: User
    machine: str
    info: RequestInfo
    vm: VirtualMachine | None
    delay: float

    @property
    def vm_id(self) -> str | None:
        return self.vm.id if self.vm else None


@dataclass
class RequestPipeline:  # pylint: disable=too-many-instance-attributes
    """Everything a request touches; lock is the simulator's model lock, sleep how latency is waited (time.sleep)."""

    lock: threading.RLock
    model: HyperVHost
    service: WsmanService
    counters: Counters
    injector: FaultInjector
    log: RequestLog
    sleep: Callable[[float], None]
    contexts: ContextClasses = field(default_factory=ContextClasses)

    def handle(self, data: bytes, user: User, machine: str) -> tuple[int, bytes]:
        info = classify(data, self.model.classes)
        with self.lock:
            vm = self.model.owner_vm(info.keys)
            delay = self.injector.latency(info.operation, vm.id if vm else None)
        if delay > 0:
            self.sleep(delay)
        with self.lock:
            return self._handle_locked(_Admitted(data, user, machine, info, vm, delay))

    def _handle_locked(self, req: _Admitted) -> tuple[int, bytes]:
        operation = req.info.operation
        if self.injector.drop("before", operation, req.vm_id):
            self._count(req.info)
            self._log(req, "dropped-before", None)
            raise DropConnection()
        if self.injector.bare_500(operation, req.vm_id):
            self._count(req.info)
            self._log(req, "http500", 500)
            return 500, b""
        kind = self.injector.hostile_body(operation, req.vm_id)
        if kind is not None:
            self._count(req.info)
            self._log(req, "hostile-" + kind, 200)
            return 200, hostile.body(kind)
        resource_class = self._class(req.info)
        self.injector.arm(req.vm_id)
        try:
            status, body = self.service.handle(req.data, req.user, req.machine, resource_class)
        except NotXml:
            self._log(req, "not-xml", 400)
            raise
        finally:
            self.injector.arm(None)
        self.contexts.note(operation, resource_class, body)
        if self.injector.drop("after", operation, req.vm_id):
            self._log(req, "dropped-after", status)
            raise DropConnection()
        self._log(req, outcome_of(status, body), status)
        return status, body

    def _count(self, info: RequestInfo) -> None:
        """A request the service never saw still arrived: count it as the service would have."""
        self.counters.add("total")
        if info.operation is not None:
            self.counters.add_operation(info.operation, self._class(info))

    def _class(self, info: RequestInfo) -> str | None:
        return info.resource_class if info.context is None else self.contexts.class_of(info.context)

    def _log(self, req: _Admitted, outcome: str, status: int | None) -> None:
        entry: dict[str, Any] = {
            "time": self.model.now(), "operation": req.info.operation, "user": req.user.username,
            "class": self._class(req.info), "vm": req.vm.name if req.vm else None, "vm_id": req.vm_id,
            "outcome": outcome, "status": status, "latency_ms": round(req.delay * 1000.0, 3),
        }
        self.log.add(entry)
