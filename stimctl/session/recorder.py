"""The session's record: every journal write of the engine, and the summary.

The journal is the record of truth for what was delivered (ARCHITECTURE rule 4), so a
write that fails ends the session: the recorder remembers the error, calls `on_failure`
(the loop disarms and raises the JOURNAL alarm) and raises `JournalFailed`; later
writes are dropped, and the summary says why. Payload shapes are the journal's
(stimctl/journal/events.py) and the readers' (journal.pulses, records.trains, report).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stimctl.hal import FireReceipt
from stimctl.journal import Journal, events
from stimctl.journal.errors import JournalClosed
from stimctl.protocol.dose import delivered_percent
from stimctl.protocol.plan import Plan, PlannedTrain
from stimctl.session.ending import JournalFailed
from stimctl.session.inbox import Command
from stimctl.session.schedule import Schedule
from stimctl.session.summary import Summary, TrainRecord
from stimctl.session.watchdog import Alarm


class Recorder:
    def __init__(
        self,
        journal: Journal,
        plan: Plan,
        schedule: Schedule,
        on_failure: Callable[[Exception], None],
    ) -> None:
        self.journal = journal
        self.plan = plan
        self.schedule = schedule
        self._on_failure = on_failure
        self.error: str | None = None
        """The first journal failure (`Type: message`); nothing is written after it."""

    def write(self, event: str, payload: dict[str, Any], actor: str = "engine") -> None:
        if self.error is not None or self.journal.ended:
            return
        try:
            self.journal.append(event, payload, actor=actor)
        except JournalClosed:
            return
        except Exception as exc:
            # A pulse that cannot be recorded must not be given: the loop disarms now and
            # ends the session as a fault (later records are dropped, the summary says why).
            self.error = f"{type(exc).__name__}: {exc}"
            self._on_failure(exc)
            raise JournalFailed from exc

    def _t(self, t: float, digits: int = 6) -> float:
        return round(self.schedule.since_start(t), digits)

    # -- the session's records, in the order they come ---------------------------------

    def opening(self, start: dict[str, Any]) -> None:
        self.write(events.SESSION_START, start)
        verdict = start.get("verdict")
        if verdict is not None:
            self.write(events.VERDICT, verdict)
        override = start.get("override")
        if override is not None:
            self.write(events.OVERRIDE, override, actor=str(override["operator"]))

    def state(self, source: str, dest: str, trigger: str) -> None:
        self.write(events.STATE, {"from": source, "to": dest, "trigger": trigger})

    def alarm(self, alarm: Alarm) -> None:
        self.write(
            events.ALARM,
            {"code": alarm.code, "priority": str(alarm.priority), "message": alarm.message},
            actor="watchdog",
        )

    def command(self, command: Command, actor: str) -> None:
        public = {k: v for k, v in command.args().items() if k != "actor" and v is not None}
        self.write(events.OPERATOR, {"command": command.kind, **public}, actor=actor)

    def intensity_set(self, percent_mso: int, percent_rmt: float) -> None:
        self.write(
            events.INTENSITY,
            {
                "percent_mso": percent_mso,
                "percent_rmt": round(percent_rmt, 3),
                "delivered_percent_rmt": round(
                    delivered_percent(percent_mso, self.plan.rmt_percent_mso), 3
                ),
                "rounding": self.plan.rounding_note,
                "accepted": True,
            },
        )

    def intensity_change(self, payload: dict[str, Any], actor: str) -> None:
        self.write(events.INTENSITY, payload, actor=actor)

    def coil_temperature(self, celsius: float, read_at: float) -> None:
        self.write(
            events.DEVICE,
            {"coil_temperature_c": celsius, "t_s": self._t(read_at, 3)},
            actor="device",
        )

    def train_start(self, train: PlannedTrain, record: TrainRecord) -> None:
        percent_mso = record.intensity_percent_mso
        self.write(
            events.TRAIN_START,
            {
                "train": train.index,
                "planned_onset_s": round(record.planned_onset_s, 6),
                "actual_onset_s": round(record.actual_onset_s, 6),
                "pulses_planned": train.pulses,
                "frequency_hz": train.frequency_hz,
                "intensity_percent_mso": percent_mso,
                "intensity_percent_rmt": round(record.intensity_percent_rmt, 3),
                "delivered_percent_rmt": round(
                    delivered_percent(percent_mso, self.plan.rmt_percent_mso), 3
                ),
                "timing": self.plan.timing,
            },
        )

    def pulse(self, train: int, index: int, receipt: FireReceipt) -> None:
        """One host-timed pulse, with how and when its trigger left (issue 14/18)."""
        self.write(
            events.PULSE,
            {
                "train": train,
                "index": index,
                "t_s": self._t(receipt.actual_s),
                "trigger": receipt.to_journal(),
            },
            actor="device",
        )

    def device_train_started(self, train: int, scheduled_s: float, started_s: float) -> None:
        """The device runs the train from here (when `start_train` returned)."""
        self.write(
            events.DEVICE,
            {
                "train": train,
                "start_train": {
                    "scheduled_s": self._t(scheduled_s),
                    "actual_s": self._t(started_s),
                },
            },
            actor="device",
        )

    def train_end(self, train: PlannedTrain, record: TrainRecord) -> None:
        assert record.end_s is not None
        payload: dict[str, Any] = {
            "train": train.index,
            "pulses": record.pulses,
            "pulses_planned": train.pulses,
            "end_s": round(record.end_s, 6),
        }
        if record.estimated:
            payload["estimated"] = True
        if record.pulses_upper is not None:
            payload["pulses_upper"] = record.pulses_upper
            payload["count_exact"] = False
        self.write(events.TRAIN_END, payload)

    def session_end(self, payload: dict[str, Any]) -> None:
        self.write(events.SESSION_END, payload)

    def close(self) -> None:
        self.journal.close()


def end_payload(
    *,
    status: str,
    reason: str,
    bounds: tuple[int, int],
    planned: int,
    trains_delivered: int,
    disarmed: bool,
    disarm_error: str | None,
    adverse_event: str | None,
) -> dict[str, Any]:
    """The `session_end` record."""
    lower, upper = bounds
    payload: dict[str, Any] = {
        "status": status,
        "reason": reason,
        "pulses_delivered": lower,
        "pulses_planned": planned,
        "trains_delivered": trains_delivered,
        "disarmed": disarmed,
    }
    if upper != lower:
        payload["pulses_delivered_upper"] = upper
        payload["count_exact"] = False
    if not disarmed:
        payload["disarm_error"] = disarm_error
    if adverse_event is not None:
        payload["adverse_event"] = adverse_event
    return payload


def summarise(
    recorder: Recorder,
    *,
    status: str,
    reason: str,
    bounds: tuple[int, int],
    trains: list[TrainRecord],
    duration_s: float,
    alarms: list[str],
    disarmed: bool,
    disarm_error: str | None,
    adverse_event: str | None,
    interrupted_by: str | None,
) -> Summary:
    plan = recorder.plan
    lower, upper = bounds
    return Summary(
        session_id=recorder.journal.session_id,
        status=status,
        reason=reason,
        pulses_delivered=lower,
        pulses_planned=plan.total_pulses,
        trains_delivered=sum(1 for t in trains if t.end_s is not None),
        trains_planned=len(plan.trains),
        duration_s=duration_s,
        planned_duration_s=plan.duration_s,
        onset_errors_s=[t.actual_onset_s - t.planned_onset_s for t in trains],
        alarms=alarms,
        journal=str(recorder.journal.path),
        trains=list(trains),
        disarm_confirmed=disarmed and disarm_error is None,
        disarm_error=disarm_error,
        pulses_delivered_upper=upper,
        adverse_event=adverse_event,
        journal_error=recorder.error,
        interrupted_by=interrupted_by,
    )
