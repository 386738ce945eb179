"""The device monitor on a fake driver: readings, holds, faults and the link's evidence."""

from __future__ import annotations

from pathlib import Path

from stimctl.journal import events
from stimctl.session.monitor import DeviceMonitor
from stimctl.session.watchdog import WatchdogLimits
from tests.session.fakes import FakeStimulator, Parts, plan


def monitor(tmp_path: Path) -> tuple[DeviceMonitor, FakeStimulator, Parts]:
    parts = Parts(tmp_path, plan())
    driver = FakeStimulator(parts.clock)
    driver.open()
    limits = WatchdogLimits(heartbeat_timeout_s=1.0, coil_stop_c=40.0, coil_warn_c=38.0)
    return DeviceMonitor(driver, parts.clock, limits, parts.live, parts.recorder), driver, parts


def test_a_healthy_reading_is_kept_and_journals_the_coil(tmp_path: Path) -> None:
    mon, _, parts = monitor(tmp_path)
    reading = mon.poll(expect_armed=False)
    assert reading.alarms == [] and reading.fault is None and not reading.hold
    assert parts.live.last_reply == parts.clock.now() and mon.last_healthy == parts.clock.now()
    assert parts.live.coil_temperature == 25.0
    assert [r["payload"]["coil_temperature_c"] for r in parts.records(events.DEVICE)] == [25.0]


def test_the_coil_is_journaled_when_it_moves_or_every_five_seconds(tmp_path: Path) -> None:
    mon, driver, parts = monitor(tmp_path)
    mon.poll(expect_armed=False)
    parts.clock.advance(1.0)
    mon.poll(expect_armed=False)  # same temperature, 1 s later: not journaled
    driver.coil_c = 25.2
    mon.poll(expect_armed=False)  # moved 0.2 °C: journaled
    parts.clock.advance(5.0)
    mon.poll(expect_armed=False)  # unchanged for 5 s: journaled
    assert len(parts.records(events.DEVICE)) == 3


def test_a_warm_coil_holds_and_a_hot_one_faults(tmp_path: Path) -> None:
    mon, driver, _ = monitor(tmp_path)
    driver.coil_c = 38.5
    warm = mon.poll(expect_armed=False)
    assert warm.hold and warm.fault is None and [a.code for a in warm.alarms] == ["DEV-2"]
    driver.coil_c = 40.5
    hot = mon.poll(expect_armed=False)
    assert hot.fault is not None and hot.fault.code == "DEV-1"


def test_a_self_disarm_while_armed_is_expected_faults(tmp_path: Path) -> None:
    mon, _, _ = monitor(tmp_path)
    reading = mon.poll(expect_armed=True)  # the fake is in standby
    assert reading.fault is not None and reading.fault.code == "DEV-4"


def test_a_pulled_cable_faults_at_once_and_is_evidence_of_link_loss(tmp_path: Path) -> None:
    mon, driver, parts = monitor(tmp_path)
    mon.poll(expect_armed=False)
    driver.cable_pulled = True
    reading = mon.poll(expect_armed=False)
    assert reading.fault is not None and reading.fault.code == "DEV-3"
    assert mon.link_lost and mon.evidence(parts.clock.now()).link_lost


def test_a_garbled_reply_is_tolerated_until_the_heartbeat_times_out(tmp_path: Path) -> None:
    mon, driver, parts = monitor(tmp_path)
    mon.poll(expect_armed=False)
    driver.read_errors = 10
    parts.clock.advance(0.5)
    assert mon.poll(expect_armed=False).fault is None
    assert parts.live.link_errors == 1
    assert mon.link_failed(parts.clock.now() - 1.0)  # failed since, no reply after it
    parts.clock.advance(0.6)
    silent = mon.poll(expect_armed=False)
    assert silent.fault is not None and silent.fault.code == "DEV-3"
    assert "no reply from the device for 1.10 s" in silent.fault.message


def test_the_first_fault_time_is_kept(tmp_path: Path) -> None:
    mon, _, parts = monitor(tmp_path)
    mon.mark_fault()
    first = parts.clock.now()
    parts.clock.advance(3.0)
    mon.mark_fault()
    assert mon.fault_at == first
