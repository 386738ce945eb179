"""A fake stimulator and small builders for the engine modules' unit tests.

`FakeStimulator` is a real `Stimulator` (the base class's checks all run) over an
in-memory device instead of a port: tests set its coil temperature, pull its cable, make
it report pulses or not, and read what it was told. Time is a `VirtualClock`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stimctl.clock import VirtualClock
from stimctl.errors import ConnectionLost, DriverError
from stimctl.hal import (
    ArmState,
    Capabilities,
    DeviceIdentity,
    DeviceStatus,
    OutputPlan,
    OutputState,
    Stimulator,
    TrainSpec,
)
from stimctl.journal import Journal, read
from stimctl.protocol.models import Protocol
from stimctl.protocol.plan import Plan, compile_plan
from stimctl.session.guard import RuntimeGuard
from stimctl.session.live import LiveState
from stimctl.session.recorder import Recorder
from stimctl.session.schedule import Schedule


class FakeStimulator(Stimulator):
    vendor = "fake"
    model = "fake"

    def __init__(self, clock: VirtualClock, *, reports_pulses: bool = False) -> None:
        super().__init__("fake://", clock=clock)
        self.arm_state = ArmState.STANDBY
        self.power = 0
        self.coil_c: float | None = 25.0
        self.cable_pulled = False
        self.read_errors = 0  # the next n status reads fail (a noisy link)
        self.fired: list[float] = []
        self.trains_started: list[float] = []
        self.reports_pulses = reports_pulses
        self.pulses_seen = 0 if reports_pulses else None

    def _check_link(self) -> None:
        if self.cable_pulled:
            raise ConnectionLost("fake: cable pulled")

    def _do_open(self) -> None:
        self._check_link()

    def _do_close(self) -> None:
        pass

    def _do_identify(self) -> DeviceIdentity:
        return DeviceIdentity("fake", "fake")

    def _do_capabilities(self) -> Capabilities:
        return Capabilities(
            "fake", (0, 100), (0.1, 100.0), True, None, reports_pulses=self.reports_pulses
        )

    def _do_status(self) -> DeviceStatus:
        self._check_link()
        if self.read_errors:
            self.read_errors -= 1
            raise DriverError("fake: garbled reply")
        return DeviceStatus(self.arm_state, True, True, self.coil_c, None, self.clock.now())

    def _do_set_intensity(self, percent: int, output: str) -> None:
        self._check_link()
        self.power = percent

    def _do_configure_train(self, spec: TrainSpec) -> None:
        self._check_link()

    def _do_arm(self) -> None:
        self._check_link()
        self.arm_state = ArmState.READY

    def _do_disarm(self) -> None:
        self._check_link()
        self.arm_state = ArmState.STANDBY

    def _do_fire(self) -> None:
        self._check_link()
        self.fired.append(self.clock.now())

    def _do_start_train(self) -> None:
        self._check_link()
        self.trains_started.append(self.clock.now())

    def _do_wanted_output(self, plan: OutputPlan) -> OutputState:
        return {}

    def _do_apply_output(self, plan: OutputPlan) -> None:
        pass

    def _do_read_output(self) -> OutputState:
        return {"power_a": self.power}


def protocol(
    *, frequency_hz: float = 10.0, pulses: int = 20, iti_s: float = 10.0, trains: int = 3
) -> Protocol:
    return Protocol.model_validate(
        {
            "schema_version": 1,
            "name": "unit",
            "title": "unit",
            "indication": "research",
            "source": "unit",
            "target": {"site": "M1-hand", "hemisphere": "left"},
            "coil": {"family": "figure-8"},
            "intensity": {"percent_rmt": 100},
            "pattern": {
                "kind": "train",
                "frequency_hz": frequency_hz,
                "pulses_per_train": pulses,
                "inter_train_interval_s": iti_s,
                "trains": trains,
            },
        }
    )


def plan(*, device_timed: bool = False, rmt: float = 50.0, **pattern: Any) -> Plan:
    return compile_plan(protocol(**pattern), rmt, device_timed_trains=device_timed)


def guard(for_plan: Plan) -> RuntimeGuard:
    return RuntimeGuard.for_plan(for_plan, coil_stop_c=40.0, coil_warn_c=38.0)


class Parts:
    """The shared pieces most modules take: a clock, schedule, live state, a recorder
    on a real journal file; `failures` collects what the recorder reported."""

    def __init__(self, tmp_path: Path, the_plan: Plan) -> None:
        self.clock = VirtualClock(100.0)
        self.plan = the_plan
        self.schedule = Schedule(t0=self.clock.now())
        self.live = LiveState(the_plan, self.clock, self.schedule)
        self.journal = Journal.create(tmp_path, "unit", clock=self.clock, signer=None)
        self.failures: list[Exception] = []
        self.recorder = Recorder(self.journal, the_plan, self.schedule, self.failures.append)
        self.recorder.opening({"unit": True})  # a journal opens with session_start

    def records(self, event: str) -> list[dict[str, Any]]:
        return [dict(r) for r in read(self.journal.path) if r["event"] == event]
