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
    """Counts WS-Man requests by operation: Enumerate, Pull, Release, Get, Invoke:<Method>, total, auth_failures."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter = Counter()

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            result = dict(self._counts)
        result.setdefault("total", 0)
        result.setdefault("auth_failures", 0)
        return result

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
