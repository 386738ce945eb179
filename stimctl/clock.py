"""Injected time (ARCHITECTURE rule 6).

`MonotonicClock` is real time with hybrid sleep: a coarse `time.sleep` until about
`SPIN_S` before the deadline, then a spin on `perf_counter`, so deadlines are met to well
under a millisecond without burning a core between them. `VirtualClock` jumps straight to
each deadline, so the same plan runs far faster than real time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

SPIN_S = 0.002


class Clock(Protocol):
    """Monotonic seconds and sleeping until an absolute deadline."""

    def now(self) -> float: ...

    def sleep_until(self, deadline: float) -> None: ...

    def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """Real monotonic time (`time.perf_counter`) with hybrid sleep."""

    def now(self) -> float:
        return time.perf_counter()

    def sleep_until(self, deadline: float) -> None:
        remaining = deadline - time.perf_counter()
        if remaining > SPIN_S:
            time.sleep(remaining - SPIN_S)
        while time.perf_counter() < deadline:
            pass

    def sleep(self, seconds: float) -> None:
        self.sleep_until(self.now() + seconds)


class VirtualClock:
    """Simulated time that advances only when someone sleeps or calls `advance`.

    Thread-safe: several threads (engine, keep-alive, simulator) may share one clock.
    Sleeping moves time forward to the deadline at once; time never goes backwards
    unless `jump` is used on purpose (tests of clock jumps).
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep_until(self, deadline: float) -> None:
        with self._lock:
            if deadline > self._now:
                self._now = deadline

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time: {seconds}")
        with self._lock:
            self._now += seconds

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)

    def jump(self, seconds: float) -> None:
        """Move time by any amount, backwards included (fault injection in tests)."""
        with self._lock:
            self._now += seconds
