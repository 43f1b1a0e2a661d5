"""The request log: one entry per authenticated WS-Man request, newest last, bounded (GET /_sim/requests).

Tests and the benchmark read it to see what a client really sent and what the simulator did with it.  Entries:

    seq          1, 2, 3, ... in the order the requests were decided (not reset by clear())
    time         simulated time (seconds on the simulator's clock) when the request was handled
    operation    Get, Enumerate, Pull, Release, Invoke:<Method>, or null (not XML, unknown action)
    user         the account it authenticated as
    class        the CIM class it is about (for a WQL query the class it selects from; for a Pull or Release the
                 class its enumeration is about), or null
    vm, vm_id    the VM it is about, when the request names exactly one (by VM, job or recovery point id)
    outcome      ok | <fault subcode, e.g. TimedOut, AccessDenied, DestinationUnreachable> | http500 |
                 dropped-before | dropped-after | not-xml | hostile-<kind> (a body: rule, hostile.py)
    status       the HTTP status sent (for dropped-after, the one that was not sent); null for dropped-before
    latency_ms   the delay latency_ms fault rules injected before it was handled (the host's network_latency_ms,
                 waited by the HTTP layer for every request, is not in it)
"""

import itertools
import threading
from collections import deque
from typing import Any

DEFAULT_SIZE = 10000


class RequestLog:
    """Thread-safe ring buffer of the last `size` requests."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = itertools.count(1)

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append({"seq": next(self._seq), **entry})

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
