"""Injected time (ARCHITECTURE rule 6).

`MonotonicClock` is real time with hybrid sleep: a coarse `time.sleep` until about
`SPIN_S` before the deadline, then a spin on `perf_counter`, so deadlines are met to well
under a millisecond without burning a core between them. `VirtualClock` jumps straight to
each deadline, so the same plan runs far faster than real time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

SPIN_S = 0.002


class Clock(Protocol):
    """Monotonic seconds and sleeping until an absolute deadline."""

    def now(self) -> float: ...

    def sleep_until(self, deadline: float) -> None: ...

    def sleep(self, seconds: float) -> None: ...


@runtime_checkable
class SharedTimeline(Protocol):
    """A clock whose time threads take part in (`SimulatedClock`): a thread that owns
    the timeline participates; one that blocks elsewhere steps out (issue 14 item 4)."""

    def participate(self) -> None: ...

    def detach(self) -> None: ...

    def is_participant(self) -> bool: ...


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


class SimulatedClock:
    """Virtual time shared by cooperating threads (discrete-event style).

    Threads that own the timeline (the session engine) call `participate()`. While at
    least one participant exists, time advances only when every participant and every
    other thread sleeping here is asleep, and then jumps to the earliest deadline. So an
    engine, a driver's keep-alive thread and anything else sleeping on this clock share
    one timeline: a 26 s inter-train pause passes in microseconds, yet the keep-alive
    still fires every 0.5 s of simulated time, in order.

    A thread that the clock wakes (its deadline came) holds time still until it sleeps
    here again or ends: a keep-alive woken at its deadline still has a serial exchange to
    make, and time must not jump past its next deadline meanwhile. A woken thread that
    blocks elsewhere for longer than `WOKEN_HOLD_S` of real time is let go (a safety
    valve against a deadlock; no thread stimctl runs is expected to need it).

    With no participant, time is frozen: a sleeper waits up to `FROZEN_WAIT_S` of real
    time and then returns early (the only case of an early return), so background
    threads started before the engine (keep-alive) stay responsive and can be stopped.
    A participant blocked on anything but this clock holds time still until it sleeps.
    """

    FROZEN_WAIT_S = 0.02
    WOKEN_HOLD_S = 2.0
    # Real-time period at which a sleeping participant looks again (a woken thread may
    # end without telling the clock).
    RECHECK_S = 0.05

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._cond = threading.Condition()
        self._participants: dict[int, threading.Thread] = {}
        self._sleeping: dict[int, float] = {}
        self._threads: dict[int, threading.Thread] = {}  # every thread that slept here
        self._woken: dict[int, float] = {}  # woken by the clock, still busy: real time woken

    def now(self) -> float:
        with self._cond:
            return self._now

    def participate(self) -> None:
        """The calling thread owns the timeline until it calls `detach` or ends."""
        with self._cond:
            me = threading.current_thread()
            self._participants[_ident(me)] = me

    def is_participant(self) -> bool:
        with self._cond:
            return _ident(threading.current_thread()) in self._participants

    def detach(self) -> None:
        with self._cond:
            self._participants.pop(_ident(threading.current_thread()), None)
            self._advance_if_all_asleep()
            self._cond.notify_all()  # sleepers re-check: with no participant time is frozen

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time: {seconds}")
        self.sleep_until(self.now() + seconds)

    def sleep_until(self, deadline: float) -> None:
        thread = threading.current_thread()
        me = _ident(thread)
        with self._cond:
            if deadline <= self._now:
                return
            self._woken.pop(me, None)  # asleep again: no longer holds time
            self._threads[me] = thread
            self._sleeping[me] = deadline
            try:
                self._advance_if_all_asleep()
                while self._now < deadline:
                    if not self._live_participants():
                        self._cond.wait(timeout=self.FROZEN_WAIT_S)
                        return  # frozen time: early return, see the class docstring
                    self._cond.wait(timeout=self.RECHECK_S)
                    self._advance_if_all_asleep()
            finally:
                self._sleeping.pop(me, None)

    def sleepers(self) -> int:
        """How many threads are asleep on this clock now (for tests)."""
        with self._cond:
            return len(self._sleeping)

    def advance(self, seconds: float) -> None:
        """Move time forward from outside (tests); sleepers whose deadline passed wake."""
        with self._cond:
            self._now += seconds
            self._wake_due()
            self._cond.notify_all()

    def _live_participants(self) -> list[int]:
        for ident, thread in list(self._participants.items()):
            if not thread.is_alive():
                del self._participants[ident]
        return list(self._participants)

    def _advance_if_all_asleep(self) -> None:
        participants = self._live_participants()
        if not participants or any(i not in self._sleeping for i in participants):
            return
        if self._busy_woken():
            return
        earliest = min(self._sleeping.values())
        if earliest > self._now:
            self._now = earliest
            self._wake_due()
            self._cond.notify_all()

    def _wake_due(self) -> None:
        """Every non-participant whose deadline came now holds time until it sleeps again."""
        stamp = time.monotonic()
        for ident, deadline in self._sleeping.items():
            if deadline <= self._now and ident not in self._participants:
                self._woken[ident] = stamp

    def _busy_woken(self) -> bool:
        limit = time.monotonic() - self.WOKEN_HOLD_S
        for ident, stamp in list(self._woken.items()):
            thread = self._threads.get(ident)
            if thread is None or not thread.is_alive() or stamp < limit:
                del self._woken[ident]
        for ident in [i for i, t in self._threads.items() if not t.is_alive()]:
            del self._threads[ident]
        return bool(self._woken)


def _ident(thread: threading.Thread) -> int:
    return thread.ident or 0


class ScaledClock:
    """Real time running `factor` times faster: `--speed 10` in a dry run.

    Deadlines are still absolute, so scaled runs keep the same schedule, only shorter.
    """

    def __init__(self, factor: float) -> None:
        if not factor > 0:
            raise ValueError(f"speed factor must be > 0, got {factor}")
        self.factor = factor
        self._real0 = time.perf_counter()
        self._real = MonotonicClock()

    def now(self) -> float:
        return (time.perf_counter() - self._real0) * self.factor

    def sleep_until(self, deadline: float) -> None:
        self._real.sleep_until(self._real0 + deadline / self.factor)

    def sleep(self, seconds: float) -> None:
        self.sleep_until(self.now() + seconds)


@contextlib.contextmanager
def participating(clock: Clock) -> Iterator[None]:
    """The calling thread owns a `SharedTimeline`'s time while inside (the session
    engine's thread); on other clocks it does nothing."""
    if not isinstance(clock, SharedTimeline):
        yield
        return
    clock.participate()
    try:
        yield
    finally:
        clock.detach()


@contextlib.contextmanager
def driving(clock: Clock) -> Iterator[None]:
    """Let the calling thread move a `SimulatedClock` while it talks to a device.

    On other clocks it does nothing. Use it around device I/O done outside the engine
    thread (opening, closing): under simulated time nothing else would move the clock,
    and a read waiting for a reply would wait for ever.
    """
    with participating(clock):
        yield


@contextlib.contextmanager
def released(clock: Clock) -> Iterator[None]:
    """Step out of a `SimulatedClock` timeline while blocking on something else.

    A thread that joins another thread, or waits on a lock, must not hold simulated time
    still; on other clocks this does nothing.
    """
    if not isinstance(clock, SharedTimeline) or not clock.is_participant():
        yield
        return
    clock.detach()
    try:
        yield
    finally:
        clock.participate()
