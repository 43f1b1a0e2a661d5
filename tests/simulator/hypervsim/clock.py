"""Clocks: the simulator derives every time from one monotonic reading, so tests can inject their own."""

import datetime
import threading
import time


class Clock:
    """Real clock: monotonic seconds plus an adjustable offset (the control API can jump forward)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._mono0 = time.monotonic()
        self._wall0 = datetime.datetime.now(datetime.timezone.utc)

    def monotonic(self) -> float:
        """Seconds since an arbitrary origin; never goes backwards."""
        with self._lock:
            return time.monotonic() - self._mono0 + self._offset

    def advance(self, seconds: float) -> None:
        """Jump forward, e.g. to finish jobs without waiting."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._offset += seconds

    def wall(self, mono: float) -> datetime.datetime:
        """UTC wall time matching a monotonic reading of this clock."""
        return self._wall0 + datetime.timedelta(seconds=mono)


class ManualClock(Clock):
    """Clock for tests: time moves only when advance() is called."""

    def __init__(self, start: datetime.datetime | None = None) -> None:
        super().__init__()
        self._now = 0.0
        if start is not None:
            self._wall0 = start if start.tzinfo else start.replace(tzinfo=datetime.timezone.utc)

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += seconds
