"""The simulated trigger line (`sim://NAME`) on the virtual clock: edges, widths,
schedules, trains, loopback, and the fail-closed checks (issue 18 item 1)."""

from __future__ import annotations

import pytest

from stimctl import simwire
from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError, StateError
from stimctl.hal import FireReceipt, TriggerLine, make_trigger, open_trigger, trigger_schemes
from tests.triggers.conftest import recorded_wire, wire_name


def test_every_scheme_of_the_brief_is_registered() -> None:
    assert {"sim", "serial-rts", "serial-dtr", "ftdi", "labjack", "parallel"} <= set(
        trigger_schemes()
    )


def test_a_pulse_is_one_rising_and_one_falling_edge_width_apart() -> None:
    clock = VirtualClock(100.0)
    name = wire_name()
    seen = recorded_wire(name)
    with open_trigger(f"sim://{name}?width_ms=2", clock=clock) as line:
        receipt = line.pulse()
    assert seen.edges == [(True, 100.0), (False, 100.002)]
    assert receipt == FireReceipt(f"sim://{name}?width_ms=2", 100.0, None)


def test_a_scheduled_pulse_waits_for_its_time_and_says_so() -> None:
    clock = VirtualClock(5.0)
    name = wire_name()
    seen = recorded_wire(name)
    with open_trigger(f"sim://{name}", clock=clock) as line:
        receipt = line.pulse(scheduled_s=7.5)
    assert seen.rising == [7.5]
    assert receipt.scheduled_s == 7.5
    assert receipt.actual_s == 7.5
    assert receipt.late_s == 0.0
    assert receipt.via == f"sim://{name}"


def test_a_late_schedule_fires_at_once_and_the_receipt_shows_how_late() -> None:
    clock = VirtualClock(10.0)
    name = wire_name()
    recorded_wire(name)
    with open_trigger(f"sim://{name}", clock=clock) as line:
        receipt = line.pulse(scheduled_s=9.75)
    assert receipt.actual_s == 10.0
    assert receipt.late_s == pytest.approx(0.25)


def test_a_theta_burst_train_fires_at_exactly_its_times_on_the_virtual_clock() -> None:
    clock = VirtualClock()
    name = wire_name()
    seen = recorded_wire(name)
    times = [burst * 0.2 + k * 0.02 for burst in range(10) for k in range(3)]  # 5 Hz x 50 Hz
    with open_trigger(f"sim://{name}", clock=clock) as line:
        receipts = line.train(times)
    assert seen.rising == pytest.approx(times)
    assert [r.scheduled_s for r in receipts] == times
    assert all(r.late_s == 0 for r in receipts)


def test_a_train_with_pulses_closer_than_the_width_is_refused_before_any_edge() -> None:
    clock = VirtualClock()
    name = wire_name()
    seen = recorded_wire(name)
    with (
        open_trigger(f"sim://{name}?width_ms=5", clock=clock) as line,
        pytest.raises(ConfigError, match="closer than the 5 ms width"),
    ):
        line.train([0.0, 0.004])
    assert seen.edges == []


def test_loopback_reads_the_level_the_line_drives() -> None:
    clock = VirtualClock()
    name = wire_name()
    recorded_wire(name)
    with open_trigger(f"sim://{name}?loopback=1", clock=clock) as line:
        assert line.has_loopback
        assert line.read_back() is False
        line.pulse()
        assert line.read_back() is False


def test_without_loopback_read_back_is_none() -> None:
    name = wire_name()
    recorded_wire(name)
    with open_trigger(f"sim://{name}", clock=VirtualClock()) as line:
        assert line.read_back() is None


def test_a_line_with_nothing_on_its_wire_refuses_to_open() -> None:
    with pytest.raises(ConfigError, match="nothing is connected to simulated wire"):
        open_trigger(f"sim://{wire_name()}", clock=VirtualClock())


def test_pulse_before_open_and_after_close_is_a_state_error() -> None:
    name = wire_name()
    recorded_wire(name)
    line = make_trigger(f"sim://{name}", clock=VirtualClock())
    with pytest.raises(StateError, match="not open"):
        line.pulse()
    line.open()
    line.close()
    line.close()  # idempotent
    with pytest.raises(StateError, match="not open"):
        line.pulse()


def test_close_leaves_the_wire_low() -> None:
    name = wire_name()
    recorded_wire(name)
    line = open_trigger(f"sim://{name}", clock=VirtualClock())
    simwire.wire(name).drive(True, 0.0)  # something left it high
    line.close()
    assert simwire.wire(name).level is False


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sim:/x", "expected SCHEME://WHERE"),
        ("nope://x", "unknown scheme 'nope'"),
        ("sim://x?width_ms=0", "width_ms must be 0.01-100"),
        ("sim://x?width_ms=nan", "width_ms must be 0.01-100"),
        ("sim://x?width_ms=abc", "width_ms must be a number"),
        ("sim://x?colour=red", r"unknown key\(s\) colour"),
        ("sim://x?width_ms=1&width_ms=2", "given twice"),
        ("sim://bad name", "use 1-64 letters"),
        ("sim://x?loopback=maybe", "loopback must be 1 or 0"),
    ],
)
def test_bad_urls_are_one_clear_config_error(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_trigger(url, clock=VirtualClock())


def test_the_sim_line_is_a_trigger_line() -> None:
    name = wire_name()
    assert isinstance(make_trigger(f"sim://{name}"), TriggerLine)
