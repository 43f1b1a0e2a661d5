"""Test hooks of the simulator: the dropped-connection signal, WS-Man request counters, and the fault injector.

The injector itself lives in injection.py; it is re-exported here because the WS-Man service takes it from here.
"""

import threading
from collections import Counter

from .injection import FaultInjector

__all__ = ["DropConnection", "Counters", "FaultInjector"]


class DropConnection(Exception):
    """Raised by the backend to make the HTTP layer close the TCP connection without sending any response."""


class Counters:
    """What the host saw, by key (GET /_sim/counters):

        total                       authenticated POSTs to /wsman (well-formed or not)
        auth_failures               rejected credentials (not the credential-less first leg of a handshake)
        connections                 TCP connections that carried a WinRM request (http or https)
        logons                      connections that became authenticated: a completed Negotiate handshake, or
                                    the first accepted Basic request; counted once per connection
        <operation>                 Enumerate, Pull, Release, Get, Invoke:<Method>
        <operation> <class>         the same request by CIM class, e.g. "Pull Msvm_ConcreteJob" (a Pull's or a
                                    Release's class is its enumeration's); only when the class is known

    Operations are counted even when they fault or an injected rule drops them.
    """

    ALWAYS = ("total", "auth_failures", "connections", "logons")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter = Counter()

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def add_operation(self, operation: str, resource_class: str | None) -> None:
        """One request of an operation, also counted under "<operation> <class>" when its class is known."""
        with self._lock:
            self._counts[operation] += 1
            if resource_class:
                self._counts[f"{operation} {resource_class}"] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            result = dict(self._counts)
        for key in self.ALWAYS:
            result.setdefault(key, 0)
        return result

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
