# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retrying reads: a drill runs when networks drop and hosts are slow, and a read can always be asked again.

Reads (Enumerate, Pull, Get, through CimClient.query and get) are retried; an Invoke never is blindly: sending a
method call again could do its work twice. operations.py settles a call whose answer was lost from the VM and sends
it again only when the VM shows no trace of it, paced by the same policy (``wait``). A read is retried on what may pass: no connection or
a dropped one, an HTTP 5xx without a SOAP fault, and the host's operation timeout (w:TimedOut). Not on refused
credentials, TLS failures or other faults, which the next attempt would meet again. The pause grows exponentially
with full jitter (a random share of it, so parallel clients do not retry in step), is capped, and never runs past
the budget the caller gives, the run's wait_timeout.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, TypeVar

from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import WSManError, WSManFault, WSManTransportError

T = TypeVar("T")


def retryable(exc: WSManError) -> bool:
    if isinstance(exc, WSManFault):
        return exc.is_timeout
    if isinstance(exc, WSManTransportError):
        if exc.kind == "connection":
            return True
        return exc.kind == "http" and (exc.http_status or 0) >= 500
    return False


@dataclass
class Retry:
    """Up to ``attempts`` tries of a read (as many as the budget allows for None), pausing up to ``base`` * 2^n (at
    most ``cap``) seconds between them."""

    attempts: Optional[int] = 4
    base: float = 0.5
    cap: float = 8.0
    # Seconds the caller can still spend (Waiter.remaining): no pause is started that would not fit.
    budget: Callable[[], float] = lambda: math.inf
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    # Reads sent again over the run (stats.retries, and the soak's figures).
    retried: int = 0
    # Whether the host has answered a read of this run: until it has, a connection that cannot be made is tried
    # FIRST_CONTACT times only, so that a wrong host name or port fails in seconds, not at wait_timeout.
    contacted: bool = False

    def call(self, read: Callable[[], T]) -> T:
        attempt = 1
        while True:
            try:
                answer = read()
            except WSManError as exc:
                first = not self.contacted and isinstance(exc, WSManTransportError) and exc.unsent
                if not retryable(exc) or (first and attempt >= FIRST_CONTACT) or not self.wait(attempt):
                    raise
                attempt += 1
            else:
                self.contacted = True
                return answer

    def wait(self, attempt: int) -> bool:
        """Pause before try ``attempt + 1`` and count it; False, without pausing, when the tries are spent or the
        pause would not fit in the budget. Also paces a method call sent again after its answer was lost."""
        if self.attempts is not None and attempt >= self.attempts:
            return False
        pause = self.rng.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))
        if pause >= self.budget():
            return False
        self.retried += 1
        self.sleep(pause)
        return True


# Tries of a connection to a host that has not answered yet in this run.
FIRST_CONTACT = 4

NO_RETRY = Retry(attempts=1)
