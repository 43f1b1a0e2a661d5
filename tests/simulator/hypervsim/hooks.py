"""Test hooks of the simulator: WS-Man request counters and one-shot fault injection."""

import threading
from collections import Counter

from . import faults


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


class FaultInjector:
    """Makes the next N requests of an operation fail with a catalogue fault (e.g. TimedOut for a Pull)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[list] = []

    def add(self, operation: str, fault: str, count: int = 1) -> None:
        if fault not in faults.INJECTABLE:
            raise ValueError(f"unknown fault {fault!r}; known: {sorted(faults.INJECTABLE)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._pending.append([operation, fault, count])

    def take(self, operation: str) -> faults.WsmanFault | None:
        """The fault to raise for this operation now, if one is pending (operation '*' matches any)."""
        with self._lock:
            for entry in self._pending:
                if entry[0] in (operation, "*"):
                    entry[2] -= 1
                    if entry[2] == 0:
                        self._pending.remove(entry)
                    return faults.INJECTABLE[entry[1]]()
        return None

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
