# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that measures time: a deadline on the monotonic clock and the pause between polls."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable, Optional


# A poll that saw nothing change makes the next pause this much longer, up to MAX_BACKOFF times the interval:
# a slow job is polled a few times a minute instead of every second, and a change brings the interval back.
BACKOFF = 1.5
MAX_BACKOFF = 4.0


class Waiter:
    """A deadline ``timeout`` seconds from now, polled every ``interval`` seconds, less often while nothing changes.

    The clock and sleep are injectable so tests run without waiting. Durations come from the monotonic clock;
    ``wall`` (read once, at the start) only turns them into times of day for reports.
    """

    def __init__(self, timeout: float, interval: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, wall: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._sleep = sleep
        self.interval = max(0.0, interval)
        self.max_interval = self.interval * MAX_BACKOFF
        self.next_pause = self.interval
        self.started = clock()
        self.wall_started = wall()
        self.deadline = self.started + max(0.0, timeout)

    def elapsed(self) -> float:
        return self.clock() - self.started

    def remaining(self) -> float:
        return max(0.0, self.deadline - self.clock())

    @property
    def expired(self) -> bool:
        return self.clock() >= self.deadline

    def pause(self, changed: bool = True) -> None:
        """Sleep before the next poll, never past the deadline: one interval after a poll that saw a change,
        BACKOFF times the previous pause (at most max_interval) after one that saw none."""
        if changed:
            self.next_pause = self.interval
        else:
            self.next_pause = min(self.max_interval, self.next_pause * BACKOFF)
        self._sleep(min(self.next_pause, self.remaining()))

    def within(self, timeout: float) -> "Waiter":
        """A waiter on the same clock for a shorter wait inside this one (a guest's shutdown_timeout): its deadline
        is ``timeout`` from now or this one's, whichever comes first; its elapsed time is this run's."""
        inner = Waiter(min(max(0.0, timeout), self.remaining()), self.interval, clock=self.clock, sleep=self._sleep)
        inner.started, inner.wall_started = self.started, self.wall_started
        inner.deadline = min(self.deadline, self.clock() + max(0.0, timeout))
        return inner

    def timestamp(self, elapsed: Optional[float]) -> Optional[str]:
        """A point of this run (seconds since its start) as an ISO 8601 UTC time, or None."""
        if elapsed is None:
            return None
        return datetime.fromtimestamp(self.wall_started + elapsed, timezone.utc).isoformat()
