"""Clocks: hybrid sleep, virtual time, and the shared simulated timeline."""

from __future__ import annotations

import threading
import time

import pytest

from stimctl.clock import MonotonicClock, SimulatedClock, VirtualClock


def test_monotonic_clock_never_wakes_early() -> None:
    clock = MonotonicClock()
    for _ in range(20):
        deadline = clock.now() + 0.003
        clock.sleep_until(deadline)
        assert clock.now() >= deadline


def test_virtual_clock_jumps_to_deadlines_and_refuses_negative_sleep() -> None:
    clock = VirtualClock(10.0)
    clock.sleep_until(25.0)
    assert clock.now() == 25.0
    clock.sleep_until(5.0)  # the past: no effect
    assert clock.now() == 25.0
    with pytest.raises(ValueError, match="negative"):
        clock.sleep(-1)


def test_simulated_clock_interleaves_threads_in_time_order() -> None:
    clock = SimulatedClock()
    ticks: list[tuple[str, float]] = []
    stop = threading.Event()

    def keepalive() -> None:
        while not stop.is_set():
            clock.sleep_until(clock.now() + 0.5)
            ticks.append(("keepalive", clock.now()))

    worker = threading.Thread(target=keepalive, daemon=True)
    worker.start()
    time.sleep(0.05)  # the keep-alive thread runs before the engine takes part
    assert clock.now() == 0.0  # time is frozen without a participant
    clock.participate()
    started = time.perf_counter()
    clock.sleep_until(26.0)  # a long inter-train pause on the main thread
    ticks.append(("engine", clock.now()))
    stop.set()
    clock.detach()
    worker.join(timeout=5)
    assert time.perf_counter() - started < 5.0
    # (while time was frozen the keep-alive woke early at 0.0: not part of the timeline)
    keepalive_times = [t for who, t in ticks if who == "keepalive" and t > 0]
    # every keep-alive of the pause happened, at its own simulated time, in order
    assert keepalive_times[:52] == [0.5 * i for i in range(1, 53)]
    assert ("engine", 26.0) in ticks
    engine_at = ticks.index(("engine", 26.0))
    assert all(t <= 26.0 for _, t in ticks[:engine_at])
    assert keepalive_times == sorted(keepalive_times)


def test_simulated_clock_single_participant_is_instant() -> None:
    clock = SimulatedClock(3.0)
    clock.participate()
    clock.sleep(100.0)
    assert clock.now() == 103.0
    clock.detach()


def test_frozen_simulated_clock_lets_sleepers_return_early() -> None:
    clock = SimulatedClock()
    clock.sleep_until(10.0)  # no participant: returns after a short real wait
    assert clock.now() == 0.0


def test_simulated_clock_waits_for_a_woken_thread_to_finish_its_work() -> None:
    # A keep-alive woken at its deadline still has an exchange to do before it sleeps
    # again; time must not jump past its next deadline meanwhile (the race that let a
    # 30 s sleep pass in one step and the simulated Magstim disarm).
    clock = SimulatedClock()
    seen: list[float] = []
    stop = threading.Event()

    def keepalive() -> None:
        while not stop.is_set():
            clock.sleep_until(clock.now() + 0.5)
            time.sleep(0.002)  # real work between two sleeps: a serial exchange
            seen.append(clock.now())

    worker = threading.Thread(target=keepalive, daemon=True)
    worker.start()
    time.sleep(0.05)
    clock.participate()
    clock.sleep_until(10.0)
    stop.set()
    clock.detach()
    worker.join(timeout=5)
    on_timeline = [t for t in seen if t > 0]
    assert on_timeline[:20] == [0.5 * i for i in range(1, 21)]


def test_a_woken_thread_that_ends_does_not_hold_time() -> None:
    clock = SimulatedClock()
    fired: list[float] = []

    def once() -> None:
        clock.sleep_until(1.0)
        fired.append(clock.now())  # then the thread ends without sleeping again

    clock.participate()
    thread = threading.Thread(target=once, daemon=True)
    thread.start()
    while not clock.sleepers():  # the thread is asleep on the clock
        time.sleep(0.001)
    started = time.perf_counter()
    clock.sleep_until(5.0)
    clock.detach()
    thread.join(timeout=5)
    assert fired == [1.0]
    assert clock.now() == 5.0
    assert time.perf_counter() - started < 2.0
