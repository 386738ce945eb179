"""KeepAlive: deadlines from the period, touch postpones, errors are reported."""

from __future__ import annotations

import threading
import time

import pytest

from stimctl.clock import VirtualClock
from stimctl.errors import ConnectionLost, DeviceTimeout, StimctlError
from stimctl.hal import KeepAlive


def _wait(predicate: object, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.005)
    return False


def test_tick_sends_only_when_the_period_has_passed() -> None:
    clock = VirtualClock()
    sent: list[float] = []
    period = [5.0]
    ka = KeepAlive(
        send=lambda: sent.append(clock.now()),
        period=lambda: period[0],
        clock=clock,
        on_error=lambda e: None,
    )
    clock.advance(4.9)
    assert not ka.tick()
    clock.advance(0.2)
    assert ka.tick() and sent == [pytest.approx(5.1)]
    period[0] = 0.5  # armed: the next one is due 0.5 s after the last
    clock.advance(0.4)
    assert not ka.tick()
    clock.advance(0.11)
    assert ka.tick() and len(sent) == 2


def test_touch_postpones_the_next_keepalive() -> None:
    clock = VirtualClock()
    sent: list[float] = []
    ka = KeepAlive(
        send=lambda: sent.append(1), period=lambda: 1.0, clock=clock, on_error=lambda e: None
    )
    clock.advance(0.9)
    ka.touch()
    clock.advance(0.9)
    assert not ka.tick() and not sent


def test_thread_sends_on_time_and_stops_cleanly() -> None:
    clock = VirtualClock()
    sent = threading.Event()
    ka = KeepAlive(send=sent.set, period=lambda: 0.5, clock=clock, on_error=lambda e: None)
    ka.start()
    try:
        assert not sent.wait(0.1)  # virtual time has not moved
        clock.advance(0.5)
        assert sent.wait(2.0)
    finally:
        ka.stop()
    assert not ka.running


def test_thread_reports_connection_loss_and_exits() -> None:
    clock = VirtualClock()
    errors: list[StimctlError] = []

    def send() -> None:
        raise ConnectionLost("gone")

    ka = KeepAlive(send=send, period=lambda: 0.5, clock=clock, on_error=errors.append)
    ka.start()
    clock.advance(1.0)
    assert _wait(lambda: not ka.running)
    assert isinstance(errors[0], ConnectionLost)


def test_thread_survives_a_timeout_and_reports_it() -> None:
    clock = VirtualClock()
    errors: list[StimctlError] = []
    calls = []

    def send() -> None:
        calls.append(1)
        raise DeviceTimeout("silent")

    ka = KeepAlive(send=send, period=lambda: 0.5, clock=clock, on_error=errors.append)
    ka.start()
    try:
        clock.advance(1.0)
        assert _wait(lambda: len(errors) >= 1)
        clock.advance(1.0)
        assert _wait(lambda: len(calls) >= 2)  # still alive, tried again
        assert ka.running
    finally:
        ka.stop()
