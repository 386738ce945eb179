"""Delivery on a fake driver and simulated time: host-timed pulses on their deadlines
with their receipts journaled, the e-stop latch, device-timed trains and their count."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.errors import SafetyViolation
from stimctl.journal import events
from stimctl.session.delivery import Delivery, OutputGate
from stimctl.session.ending import EndSession
from stimctl.session.monitor import DeviceMonitor
from stimctl.session.summary import TrainRecord
from stimctl.session.watchdog import Alarm, WatchdogLimits
from tests.session.fakes import FakeStimulator, Parts, guard, plan


class Hooks:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.failed: list[Alarm] = []

    def check_interrupt(self) -> None:
        self.calls.append("interrupt")

    def enter_estop(self) -> None:
        self.calls.append("estop")

    def poll(self) -> bool:
        self.calls.append("poll")
        return False

    def fail(self, alarm: Alarm) -> None:
        self.failed.append(alarm)


class Rig:
    def __init__(self, tmp_path: Path, *, device_timed: bool, reports: bool = False) -> None:
        self.parts = Parts(tmp_path, plan(device_timed=device_timed, pulses=5, frequency_hz=10))
        self.driver = FakeStimulator(self.parts.clock, reports_pulses=reports)
        self.driver.open()
        self.driver.set_intensity(50)
        self.driver.arm()
        self.guard = guard(self.parts.plan)
        self.gate = OutputGate()
        self.hooks = Hooks()
        monitor = DeviceMonitor(
            self.driver, self.parts.clock, WatchdogLimits(), self.parts.live, self.parts.recorder
        )
        self.delivery = Delivery(
            self.driver,
            self.parts.clock,
            self.guard,
            self.parts.live,
            self.parts.recorder,
            monitor,
            self.gate,
            self.hooks,
            poll_s=0.25,
        )
        self.train = self.parts.plan.trains[0]
        self.record = TrainRecord(0, 0.0, 0.0, self.train.pulses)
        self.parts.live.train_started(self.record)


def test_host_timed_pulses_fire_on_their_deadlines_with_their_receipts(tmp_path: Path) -> None:
    rig = Rig(tmp_path, device_timed=False)
    onset = rig.parts.clock.now() + 1.0
    rig.delivery.host_timed(rig.train, rig.record, onset, 50)
    assert rig.driver.fired == pytest.approx([onset + o for o in rig.train.pulse_offsets_s])
    pulses = rig.parts.records(events.PULSE)
    assert [p["payload"]["index"] for p in pulses] == [0, 1, 2, 3, 4]
    for pulse, offset in zip(pulses, rig.train.pulse_offsets_s, strict=True):
        trigger = pulse["payload"]["trigger"]
        assert trigger["via"] == "serial"
        assert trigger["scheduled_s"] == pytest.approx(onset + offset)
        assert trigger["actual_s"] >= trigger["scheduled_s"]
    assert rig.record.pulses == 5 and rig.parts.live.delivered == 5 and rig.guard.delivered == 5
    assert rig.hooks.calls.count("interrupt") == 5  # a look at commands before every pulse


def test_no_pulse_leaves_after_the_estop_latch(tmp_path: Path) -> None:
    rig = Rig(tmp_path, device_timed=False)
    rig.gate.estop.set()
    with pytest.raises(EndSession):
        rig.delivery.host_timed(rig.train, rig.record, rig.parts.clock.now(), 50)
    assert rig.driver.fired == [] and "estop" in rig.hooks.calls
    assert rig.parts.records(events.PULSE) == []


def test_every_fire_is_checked_against_the_verdict(tmp_path: Path) -> None:
    rig = Rig(tmp_path, device_timed=False)
    with pytest.raises(SafetyViolation, match="GUARD-INT"):
        rig.delivery.host_timed(rig.train, rig.record, rig.parts.clock.now(), 51)
    assert rig.driver.fired == []


def test_a_reporting_device_train_is_counted_from_its_reports(tmp_path: Path) -> None:
    rig = Rig(tmp_path, device_timed=True, reports=True)
    rig.driver.configure_train = lambda spec: None  # type: ignore[method-assign]
    rig.driver._train = object()  # type: ignore[assignment]  # configured
    original = rig.driver._do_start_train

    def start() -> None:
        original()
        rig.driver.pulses_seen += 5  # the device reports every pulse of the train

    rig.driver._do_start_train = start  # type: ignore[method-assign]
    rig.delivery.device_timed(rig.train, rig.record, 50)
    assert rig.record.pulses == 5 and rig.record.pulses_upper is None and not rig.record.estimated
    assert "poll" in rig.hooks.calls  # watched while it ran
    (started,) = [r for r in rig.parts.records(events.DEVICE) if "start_train" in r["payload"]]
    assert started["payload"]["train"] == 0


def test_a_short_device_train_faults_with_dev4(tmp_path: Path) -> None:
    rig = Rig(tmp_path, device_timed=True, reports=True)
    rig.driver._train = object()  # type: ignore[assignment]
    with pytest.raises(EndSession):
        rig.delivery.device_timed(rig.train, rig.record, 50)  # no report comes in
    assert [a.code for a in rig.hooks.failed] == ["DEV-4"]
    assert rig.record.pulses == 0
