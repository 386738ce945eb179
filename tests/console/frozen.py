"""A stand-in engine that always reports one fixed snapshot: for pictures of the console.

Snapshot tests need the same screen every time; a real session's timing differs by a
few milliseconds between runs. The behaviour tests use the real engine (harness.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from stimctl.clock import Clock, VirtualClock
from stimctl.journal import Journal
from stimctl.session.plan import Plan, compile_plan
from stimctl.session.runner import Prepared
from stimctl.session.summary import Snapshot, Summary
from stimctl.session.watchdog import Action, Alarm, Priority


class FrozenEngine:
    def __init__(self, prepared: Prepared, directory: Path, snapshot: Snapshot) -> None:
        self.plan: Plan = compile_plan(
            prepared.protocol, prepared.subject.rmt.percent_mso, device_timed_trains=True
        )
        self.clock: Clock = VirtualClock()
        directory.mkdir(parents=True, exist_ok=True)
        self.journal = Journal.create(directory, "frozen", clock=self.clock)
        self.fixed = snapshot
        self.started = False
        self.ended = False
        self.commands: list[str] = []

    @property
    def running(self) -> bool:
        return self.started and not self.ended

    def start(self) -> None:
        self.started = True

    def wait(self, timeout: float | None = None) -> Summary:
        return SUMMARY

    def pause(self, actor: str = "operator") -> None:
        self.commands.append("pause")

    def resume(self, actor: str = "operator") -> None:
        self.commands.append("resume")

    def stop(self, actor: str = "operator") -> None:
        self.commands.append("stop")

    def abort(self, actor: str = "operator", reason: str = "operator abort") -> None:
        self.commands.append("abort")

    def acknowledge(self, actor: str = "operator") -> None:
        self.commands.append("acknowledge")

    def estop(self, actor: str = "operator") -> bool:
        self.commands.append("estop")
        return True

    def change_intensity(
        self, percent_rmt: float, *, operator: str, reason: str, confirmed: bool = False
    ) -> None:
        self.commands.append(f"intensity {percent_rmt:g}")

    def snapshot(self) -> Snapshot:
        return self.fixed


EVENTS = [
    "    0.000  idle -> ready",
    "    0.000  ready -> armed",
    "    0.000  armed -> train",
    "    5.000  train -> intertrain",
    "   30.000  intertrain -> train",
    "   35.000  train -> intertrain",
    "   60.000  intertrain -> train",
    "   65.000  train -> intertrain",
    "   90.000  intertrain -> train",
]

TRAIN = Snapshot(
    state="train",
    latched=False,
    pulses_delivered=170,
    pulses_planned=2000,
    trains_delivered=3,
    trains_planned=40,
    intensity_percent_mso=49,
    intensity_percent_rmt=90.0,
    rmt_percent_mso=55.0,
    elapsed_s=92.0,
    planned_duration_s=1175.0,
    next_train_in_s=None,
    coil_temperature_c=31.4,
    coil_history=[(t * 2.0, 24.0 + t * 0.16) for t in range(47)],
    last_reply_age_s=0.12,
    link_errors=0,
    alarms=[],
    events=EVENTS,
    pause_requested=False,
    stop_requested=False,
)

WARM = dataclasses.replace(
    TRAIN,
    state="paused",
    pulses_delivered=1000,
    trains_delivered=20,
    elapsed_s=655.0,
    coil_temperature_c=38.4,
    coil_history=[(t * 5.0, 24.0 + t * 0.11) for t in range(131)],
    alarms=[
        Alarm(
            "DEV-2", Priority.MEDIUM, "coil 38.4 °C: next train held until below 38 °C", Action.HOLD
        )
    ],
    events=[*EVENTS, "  655.000  ALARM medium: coil 38.4 °C: next train held until below 38 °C"],
)

LINK_LOST = dataclasses.replace(
    TRAIN,
    state="fault",
    latched=True,
    last_reply_age_s=1.35,
    link_errors=3,
    alarms=[
        Alarm(
            "DEV-3", Priority.HIGH, "no reply from the device for 1.35 s (link lost)", Action.FAULT
        )
    ],
    events=[*EVENTS, "   93.350  ALARM high: no reply from the device for 1.35 s (link lost)"],
)

SUMMARY = Summary(
    session_id="20261124T090000Z-0123abcd",
    status="completed",
    reason="all trains delivered",
    pulses_delivered=2000,
    pulses_planned=2000,
    trains_delivered=40,
    trains_planned=40,
    duration_s=1175.2,
    planned_duration_s=1175.0,
    onset_errors_s=[0.0004] * 40,
    alarms=[],
    journal="/var/lib/stimctl/journals/20261124T090000Z-0123abcd.jsonl",
)
