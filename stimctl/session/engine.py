"""The session engine: one thread owns the state machine and executes the plan.

Operators and the watchdog talk to it through a queue (`pause`, `resume`, `stop`,
`abort`, `change_intensity`, `acknowledge`). The emergency stop bypasses the queue: the
caller's thread disarms the device at once through `Stimulator.safe_stop` and sets a
latch the engine obeys before every pulse (ARCHITECTURE rule 5). Every event goes to the
journal; the journal is the record of truth for what was delivered.

Timing: train onsets and host-timed pulses are absolute deadlines from the session
start on the injected clock (hybrid sleep), so errors never accumulate. A pause shifts
the remaining schedule by its length.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from stimctl.clock import Clock
from stimctl.errors import (
    ConnectionLost,
    DriverError,
    SafetyViolation,
    StateError,
    StimctlError,
)
from stimctl.hal import DeviceStatus, SafeStopReport, Stimulator, TrainSpec
from stimctl.journal import Journal, events
from stimctl.journal.errors import JournalClosed
from stimctl.journal.events import STATUS_STOPPED_ADVERSE_EVENT, operator_actor
from stimctl.protocol.dose import delivered_percent, to_device
from stimctl.session.controller import SessionController
from stimctl.session.guard import RuntimeGuard
from stimctl.session.inbox import (
    Abort,
    Acknowledge,
    ChangeIntensity,
    DeviceFault,
    EndForAdverseEvent,
    EStopDone,
    Inbox,
    Pause,
    Resume,
    Stop,
)
from stimctl.session.plan import Plan, PlannedTrain
from stimctl.session.pulse_count import (
    Evidence,
    TrainWindow,
    link_failed_since,
    unreported_train_bounds,
)
from stimctl.session.states import DEVICE_MAY_BE_ARMED, TERMINAL, State, Trigger
from stimctl.session.summary import Snapshot, Summary, TrainRecord
from stimctl.session.watchdog import (
    Action,
    Alarm,
    Priority,
    WatchdogLimits,
    assess_status,
    link_loss,
)

log = logging.getLogger(__name__)

WAIT_SLICE_S = 0.05  # longest wait between two looks at commands and the e-stop latch
DEVICE_REPORT_GRACE_S = 0.5
TEMPERATURE_LOG_STEP_C = 0.1  # journal the coil temperature when it moves this much...
TEMPERATURE_LOG_EVERY_S = (
    5.0  # ...or at least this often  # how long the last per-pulse reports of a train may lag
)
END_STATUS = {
    State.COMPLETED: "completed",
    State.ABORTED: "aborted",
    State.ESTOPPED: "estopped",
    State.FAULT: "fault",
}

Revalidate = Callable[[float], tuple[bool, str, int]]
"""New % RMT -> (allowed, reason, new maximum % MSO). Wraps the safety engine."""


SERIOUS_AE_KINDS = frozenset({"seizure", "syncope"})
"""Adverse events that end a session whatever severity the operator chose (issue 12)."""

DISARM_ALARM = "DISARM"


def is_serious_adverse_event(kind: str, severity: str) -> bool:
    """A seizure, a syncope, or any event the operator marks serious ends the session."""
    return kind in SERIOUS_AE_KINDS or severity == "serious"


class _Abort(Exception):
    """Unwinds the delivery loop when the session must end now."""


class _JournalFailed(_Abort):
    """The journal cannot be written: nothing more may be delivered (fail closed)."""


class SessionEngine:
    def __init__(
        self,
        driver: Stimulator,
        plan: Plan,
        journal: Journal,
        *,
        clock: Clock,
        guard: RuntimeGuard,
        watchdog: WatchdogLimits | None = None,
        session_start: dict[str, Any] | None = None,
        revalidate: Revalidate | None = None,
        poll_s: float = 0.25,
        ready_timeout_s: float = 3.0,
    ) -> None:
        self.driver = driver
        self.plan = plan
        self.journal = journal
        self.clock = clock
        self.guard = guard
        self.limits = watchdog or WatchdogLimits()
        self._start_payload = session_start or {}
        self._revalidate = revalidate
        self._poll_s = poll_s
        self._ready_timeout_s = ready_timeout_s
        self._commands = Inbox()
        self._lock = threading.RLock()  # guards the snapshot fields
        self._output_lock = threading.Lock()  # e-stop vs. fire: no pulse after the latch
        self._estop = threading.Event()
        self._abort_reason: str | None = None
        self._pause_requested = False
        self._stop_requested = False
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self.controller = SessionController(_Device(self), on_state=self._on_state)
        self.trains: list[TrainRecord] = []
        self.alarms: list[Alarm] = []
        self.events: deque[str] = deque(maxlen=50)
        self.coil_history: deque[tuple[float, float]] = deque(maxlen=600)
        self.delivered = 0
        self.link_errors = 0
        self.reason = ""
        self._t0 = 0.0
        self._offset = 0.0  # schedule shift from pauses
        self._last_reply: float | None = None
        self._next_onset: float | None = None
        self._percent_mso = plan.trains[0].intensity_percent_mso
        self._percent_rmt = plan.trains[0].intensity_percent_rmt
        self._intensity_override: tuple[int, float] | None = None
        self._intensity_set = False
        self._held = False  # DEV-2 hold: coil too warm for the next train
        self._last_logged_temperature: tuple[float, float] | None = None
        self._operator_paused = False
        self._summary: Summary | None = None
        self._disarm_error: str | None = None  # the last disarm the device did not confirm
        self._journal_error: str | None = None
        self._adverse_event: str | None = None  # a serious AE ended the session
        self._interrupted_by: str | None = None
        self._outcome_settled = False  # set once the closing status is decided
        self._link_lost = False  # the port is gone: what the device did since is unseen
        self._last_link_error: float | None = None
        self._last_healthy: float | None = None  # last reading with nothing that faults
        self._fault_at: float | None = None  # when a fault was first detected
        self.on_progress: Callable[[int, str], None] | None = None
        """Called after every train with pulses delivered and the journal's chain head."""
        driver.on_fault = self._driver_fault

    # -- operator API (any thread) ---------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise StateError("the session has already started")
        self._thread = threading.Thread(target=self._run, name="stimctl-engine", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> Summary:
        if not self._done.wait(timeout):
            thread = self._thread
            if thread is not None and not thread.is_alive() and not self._done.is_set():
                # the engine thread is gone without finishing: never hang, fail closed
                self._emergency_finish("the engine thread died")
                assert self._summary is not None
                return self._summary
            raise StateError("the session is still running")
        assert self._summary is not None
        return self._summary

    @property
    def operator(self) -> str:
        """The session's operator as journaled in session_start (empty if none)."""
        return str(self._start_payload.get("operator") or "")

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._done.is_set()

    # Operator commands name who gave them (`operator:<id>`, or an id): the journal
    # attributes every action to a person, never to an anonymous "operator".

    def pause(self, actor: str) -> None:
        self._commands.put(Pause(actor))

    def resume(self, actor: str) -> None:
        self._commands.put(Resume(actor))

    def stop(self, actor: str) -> None:
        """Stop at the end of the current train."""
        self._commands.put(Stop(actor))

    def abort(self, actor: str, reason: str = "operator abort") -> None:
        """Disarm now and end the session as aborted."""
        with self._lock:
            self._abort_reason = self._abort_reason or reason
        self._commands.put(Abort(actor, reason))

    def acknowledge(self, actor: str) -> None:
        self._commands.put(Acknowledge(actor))

    def adverse_event(self, actor: str, *, kind: str, severity: str) -> bool:
        """An adverse event was recorded; a serious one ends the session now.

        Returns True when the session ends for it. From the moment this returns, a
        resume is refused (the latch is set in the caller's thread, before the queue).
        """
        if not is_serious_adverse_event(kind, severity):
            return False
        with self._lock:
            if self._outcome_settled:
                return False  # the session had already ended
            self._adverse_event = self._adverse_event or f"{kind} ({severity})"
            self._abort_reason = self._abort_reason or "serious adverse event"
        self._commands.put(EndForAdverseEvent(actor, kind, severity))
        return True

    def note_interrupt(self, signal_name: str) -> None:
        """A signal asked the process to end; the summary names it."""
        with self._lock:
            self._interrupted_by = self._interrupted_by or signal_name

    def background_failed(self, source: str, exc: BaseException) -> None:
        """A helper thread (fault injector, records link, reader) died: fault the session."""
        log.error("%s failed: %s", source, exc)
        self._commands.put(DeviceFault(f"{source} failed: {exc}", lost=False))

    def change_intensity(
        self, percent_rmt: float, *, operator: str, reason: str, confirmed: bool = False
    ) -> None:
        """Change the intensity from the next train on; re-validated, journaled."""
        self._commands.put(ChangeIntensity(_actor(operator), percent_rmt, reason, confirmed))

    def estop(self, actor: str) -> bool:
        """Emergency stop: disarm at once from the calling thread, then latch.

        Returns True when the device confirmed it is disarmed.
        """
        self._estop.set()
        with self._output_lock:
            report = self._safe_stop()
        self._commands.put(EStopDone(actor, report.disarmed, report.error))
        return report.disarmed

    def snapshot(self) -> Snapshot:
        with self._lock:
            now = self.clock.now()
            return Snapshot(
                state=self.controller.state,
                latched=self.controller.latched,
                pulses_delivered=self.delivered,
                pulses_planned=self.plan.total_pulses,
                trains_delivered=sum(1 for t in self.trains if t.end_s is not None),
                trains_planned=len(self.plan.trains),
                intensity_percent_mso=self._percent_mso,
                intensity_percent_rmt=self._percent_rmt,
                rmt_percent_mso=self.plan.rmt_percent_mso,
                elapsed_s=now - self._t0 if self._t0 else 0.0,
                planned_duration_s=self.plan.duration_s,
                next_train_in_s=(self._next_onset - now) if self._next_onset else None,
                coil_temperature_c=self.coil_history[-1][1] if self.coil_history else None,
                coil_history=list(self.coil_history),
                last_reply_age_s=(now - self._last_reply) if self._last_reply else None,
                link_errors=self.link_errors,
                alarms=list(self.alarms),
                events=list(self.events),
                pause_requested=self._pause_requested,
                stop_requested=self._stop_requested,
            )

    # -- engine thread -----------------------------------------------------------------

    def _driver_fault(self, exc: StimctlError) -> None:
        self._commands.put(DeviceFault(str(exc), lost=isinstance(exc, ConnectionLost)))

    def _run(self) -> None:
        participate = getattr(self.clock, "participate", None)
        if participate is not None:
            participate()
        try:
            try:
                self._session()
            except BaseException as exc:  # the engine thread must never die silently
                log.exception("engine failed")
                self._alarm(Alarm("ENGINE", Priority.HIGH, f"engine error: {exc}", Action.FAULT))
                self._fail(f"engine error: {exc}")
            finally:
                self._finish()
        except _Abort:
            if self._summary is None:  # a journal failure while ending
                self._emergency_finish("the session could not be closed")
        except BaseException as exc:  # even the ending failed: disarm, summarise, end
            log.exception("ending the session failed")
            self._emergency_finish(f"ending the session failed: {exc}")
        finally:
            detach = getattr(self.clock, "detach", None)
            if detach is not None:
                detach()
            self._done.set()

    def _session(self) -> None:
        self._journal(events.SESSION_START, self._start_payload)
        verdict = self._start_payload.get("verdict")
        if verdict is not None:
            self._journal(events.VERDICT, verdict)
        override = self._start_payload.get("override")
        if override is not None:
            self._journal(events.OVERRIDE, override, actor=str(override["operator"]))
        self._t0 = self.clock.now()
        self._trigger(Trigger.PREPARE)
        try:
            self._get_ready(self.plan.trains[0])
            self._t0 = self.clock.now()  # the schedule starts when the device is ready
            for train in self.plan.trains:
                self._await_slot(train)
                self._deliver(train)
                if self._stop_requested:
                    break
            if self.controller.current not in TERMINAL:
                self._trigger(Trigger.FINISH)
                self.reason = self.reason or (
                    "stopped by operator" if self._stop_requested else "all trains delivered"
                )
        except _Abort:
            pass
        except StimctlError as exc:
            if self._estop.is_set():  # the device refused because it was e-stopped
                self._enter_estop()
            else:
                self._alarm(Alarm(_alarm_code(exc), Priority.HIGH, str(exc), Action.FAULT))
                self._fail(str(exc))

    def _enter_estop(self) -> None:
        self._alarm(Alarm("ESTOP", Priority.HIGH, "emergency stop", Action.FAULT))
        self.reason = "emergency stop"
        if self.controller.current not in TERMINAL:
            self._trigger(Trigger.ESTOP)

    # -- waiting and commands --------------------------------------------------------

    def _await_slot(self, train: PlannedTrain) -> None:
        """Wait for the train's onset: commands, watchdog, pauses and holds meanwhile.

        Time spent paused or held shifts the rest of the schedule (`_offset`).
        """
        next_poll = last = self.clock.now()
        while True:
            self._handle_commands()
            now = self.clock.now()
            if self._waiting_out():
                self._offset += now - last
            last = now
            if now >= next_poll:
                self._apply_hold(self._poll_device())
                next_poll = now + self._poll_s
            onset = self._t0 + train.onset_s + self._offset
            if self.guard.last_train_end is not None and self.plan.derived.inter_train_interval_s:
                # a train that overran (a slow device) never shortens the pause after it
                earliest = self.guard.last_train_end + self.plan.derived.inter_train_interval_s
                if earliest > onset:
                    self._offset += earliest - onset
                    onset = earliest
            with self._lock:
                self._next_onset = onset
            if self._waiting_out():
                self._sleep_until(min(next_poll, now + WAIT_SLICE_S))
                continue
            if now >= onset:
                return
            self._sleep_until(min(onset, next_poll, now + WAIT_SLICE_S))

    def _waiting_out(self) -> bool:
        return self._held or self.controller.current is State.PAUSED

    def _apply_hold(self, hold: bool) -> None:
        """DEV-2: a warm coil pauses (disarmed) until it cools, then the session resumes."""
        state = self.controller.current
        if hold and not self._held:
            self._held = True
            self._event("held: coil too warm for the next train")
            if state in (State.INTERTRAIN, State.ARMED):
                self._trigger(Trigger.PAUSE)
        elif not hold and self._held:
            self._held = False
            self._event("hold released: coil cooled")
            if state is State.PAUSED and not self._operator_paused:
                self._rearm(Trigger.RESUME)

    def _sleep_until(self, deadline: float) -> None:
        self.clock.sleep_until(deadline)

    def _handle_commands(self) -> None:
        while (command := self._commands.take()) is not None:
            self._handle(command.kind, command.args())

    def _handle(self, kind: str, args: dict[str, Any]) -> None:
        actor = _actor(str(args.get("actor", "engine")))
        if kind not in ("device_fault",):
            self._journal(events.OPERATOR, {"command": kind, **_public(args)}, actor=actor)
        state = self.controller.current
        if kind == "estop":
            self._enter_estop()
            raise _Abort
        if kind == "device_fault":
            code = "DEV-3" if args.get("lost") else "DEVERR"
            self._alarm(Alarm(code, Priority.HIGH, str(args.get("error")), Action.FAULT))
            self._fail(str(args.get("error")))
            raise _Abort
        if kind == "end_for_adverse_event":
            self._alarm(
                Alarm(
                    "AE",
                    Priority.HIGH,
                    f"serious adverse event: {self._adverse_event}; the session is ended",
                    Action.FAULT,
                )
            )
            self.reason = f"stopped: serious adverse event ({self._adverse_event})"
            if self.controller.current not in TERMINAL:
                self._trigger(Trigger.ABORT)
            raise _Abort
        if kind == "abort":
            if self._adverse_event is not None:
                return  # the adverse-event command that follows ends it, with its reason
            self.reason = str(args.get("reason") or "operator abort")
            self._trigger(Trigger.ABORT)
            raise _Abort
        if kind == "acknowledge":
            self._acknowledge_alarms()
            return
        if kind == "pause":
            self._operator_paused = True
            self._pause_requested = True
            if state in (State.INTERTRAIN, State.ARMED):
                self._trigger(Trigger.PAUSE)
                self._pause_requested = False
            return
        if kind == "resume":
            if self._adverse_event is not None:
                self._event("resume refused: a serious adverse event ended the session")
                return
            self._operator_paused = False
            self._pause_requested = False
            if state is State.PAUSED and not self._held:
                self._rearm(Trigger.RESUME)
            return
        if kind == "stop":
            self._stop_requested = True
            if state in (State.INTERTRAIN, State.ARMED, State.PAUSED, State.READY):
                self.reason = "stopped by operator"
                self._trigger(Trigger.STOP)
                raise _Abort
            return
        if kind == "intensity":
            self._change_intensity(args)
            return
        log.warning("unknown command %s", kind)

    def _change_intensity(self, args: dict[str, Any]) -> None:
        percent_rmt = float(args["percent_rmt"])
        reason = str(args.get("reason") or "")
        actor = _actor(str(args["actor"]))
        going_up = percent_rmt > self._percent_rmt
        refusal = ""
        new_max = self.guard.limits.max_intensity_percent_mso
        if not reason.strip():
            refusal = "an intensity change needs a reason"
        elif going_up and not args.get("confirmed"):
            refusal = "raising the intensity needs confirmation"
        elif self._revalidate is None:
            refusal = "no safety engine to re-validate the change"
        else:
            allowed, why, new_max = self._revalidate(percent_rmt)
            if not allowed:
                refusal = f"the safety engine refuses {percent_rmt:g}% RMT: {why}"
        payload = {"percent_rmt": percent_rmt, "reason": reason, "accepted": not refusal}
        if refusal:
            payload["refusal"] = refusal
            self._journal(events.INTENSITY, payload, actor=actor)
            self._event(f"intensity change refused: {refusal}")
            return
        percent_mso = to_device(percent_rmt, self.plan.rmt_percent_mso).set_percent_mso
        self.guard.limits.max_intensity_percent_mso = new_max
        self._intensity_override = (percent_mso, percent_rmt)
        payload["percent_mso"] = percent_mso
        self._journal(events.INTENSITY, payload, actor=actor)
        self._event(f"intensity {percent_rmt:g}% RMT = {percent_mso}% MSO from the next train")

    # -- watchdog ------------------------------------------------------------------------

    def _poll_device(self) -> bool:
        """Read the device; returns True when the next train must be held."""
        now = self.clock.now()
        try:
            status = self.driver.status()
        except ConnectionLost as exc:
            self._link_lost = True
            self._alarm(Alarm("DEV-3", Priority.HIGH, f"link lost: {exc}", Action.FAULT))
            self._fail(f"link lost: {exc}")
            raise _Abort from exc
        except DriverError as exc:
            with self._lock:
                self.link_errors += 1
                self._last_link_error = now
            silent_since = self._last_reply if self._last_reply is not None else self._t0
            alarm = link_loss(now - silent_since, self.limits)
            if alarm is not None:
                self._alarm(alarm)
                self._fail(alarm.message)
                raise _Abort from exc
            return False
        self._note_status(status)
        expect_armed = self.controller.current in DEVICE_MAY_BE_ARMED
        hold = False
        for alarm in assess_status(status, self.limits, expect_armed=expect_armed):
            self._alarm(alarm)
            if alarm.action is Action.FAULT:
                self._fail(alarm.message)
                raise _Abort
            hold = hold or alarm.action is Action.HOLD
        self._last_healthy = status.read_at
        return hold

    def _note_status(self, status: DeviceStatus) -> None:
        temperature = status.coil_temperature_c
        with self._lock:
            self._last_reply = status.read_at
            if temperature is not None:
                self.coil_history.append((status.read_at - self._t0, temperature))
        if temperature is None:
            return
        last = self._last_logged_temperature
        changed = last is None or abs(temperature - last[1]) >= TEMPERATURE_LOG_STEP_C
        if changed or status.read_at - (last[0] if last else 0.0) >= TEMPERATURE_LOG_EVERY_S:
            self._last_logged_temperature = (status.read_at, temperature)
            self._journal(
                events.DEVICE,
                {"coil_temperature_c": temperature, "t_s": round(status.read_at - self._t0, 3)},
                actor="device",
            )

    # -- delivery ------------------------------------------------------------------------

    def _deliver(self, train: PlannedTrain) -> None:
        percent_mso, percent_rmt = self._intensity_for(train)
        coil = self.coil_history[-1][1] if self.coil_history else None
        now = self.clock.now()
        self.guard.before_train(now=now, pulses=train.pulses, percent_mso=percent_mso, coil_c=coil)
        self._set_intensity(percent_mso, percent_rmt)
        if self.controller.current in (State.ARMED, State.INTERTRAIN):
            self._wait_ready()
        onset_planned = self._t0 + train.onset_s + self._offset
        record = TrainRecord(
            index=train.index,
            planned_onset_s=onset_planned - self._t0,
            actual_onset_s=self.clock.now() - self._t0,
            pulses_planned=train.pulses,
            intensity_percent_mso=percent_mso,
            intensity_percent_rmt=percent_rmt,
        )
        with self._lock:
            self.trains.append(record)
            self._next_onset = None
        self._trigger(Trigger.START_TRAIN)
        self._journal(
            events.TRAIN_START,
            {
                "train": train.index,
                "planned_onset_s": round(record.planned_onset_s, 6),
                "actual_onset_s": round(record.actual_onset_s, 6),
                "pulses_planned": train.pulses,
                "frequency_hz": train.frequency_hz,
                "intensity_percent_mso": percent_mso,
                "intensity_percent_rmt": round(percent_rmt, 3),
                "delivered_percent_rmt": round(
                    delivered_percent(percent_mso, self.plan.rmt_percent_mso), 3
                ),
                "timing": self.plan.timing,
            },
        )
        try:
            if self.plan.timing == "host":
                self._fire_host_timed(train, record, self.clock.now())
            else:
                self._run_device_train(train, record)
        finally:
            self._end_train(train, record)
        last = train.index == len(self.plan.trains) - 1
        if self.controller.current in TERMINAL:
            raise _Abort
        if last or self.controller.current is State.STOPPING:
            self._trigger(Trigger.FINISH)
            self.reason = (
                "stopped by operator at the end of a train"
                if self._stop_requested
                else "all trains delivered"
            )
            raise _Abort
        self._trigger(Trigger.END_TRAIN)
        if self._pause_requested:
            self._pause_requested = False
            self._trigger(Trigger.PAUSE)

    def _get_ready(self, first: PlannedTrain) -> None:
        """Set the first intensity, load a device-timed train, arm, wait until ready."""
        self._handle_commands()
        self._set_intensity(*self._intensity_for(first))
        if self.plan.timing == "device":
            self._configure_device_train(first)
        self._rearm(Trigger.ARM)

    def _intensity_for(self, train: PlannedTrain) -> tuple[int, float]:
        if self._intensity_override is not None:
            return self._intensity_override
        return train.intensity_percent_mso, train.intensity_percent_rmt

    def _set_intensity(self, percent_mso: int, percent_rmt: float) -> None:
        if self._intensity_set and percent_mso == self._percent_mso:
            return
        self.guard.check_intensity(percent_mso)  # every set-intensity (issue 14)
        self._intensity_set = True
        self.driver.set_intensity(percent_mso)
        with self._lock:
            self._percent_mso, self._percent_rmt = percent_mso, percent_rmt
        self._journal(
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

    def _configure_device_train(self, train: PlannedTrain) -> None:
        spec = TrainSpec(
            frequency_hz=train.frequency_hz, pulses=train.pulses, duration_s=train.duration_s
        )
        self.driver.configure_train(spec)

    def _rearm(self, trigger: Trigger) -> None:
        self._trigger(trigger)
        self._wait_ready()

    def _wait_ready(self) -> None:
        status = self.driver.wait_ready(timeout_s=self._ready_timeout_s, poll_s=0.05)
        self._note_status(status)

    def _fire_host_timed(self, train: PlannedTrain, record: TrainRecord, onset: float) -> None:
        for offset in train.pulse_offsets_s:
            self._sleep_until(onset + offset)
            self._check_interrupt()
            with self._output_lock:
                if self._estop.is_set():
                    self._enter_estop()
                    raise _Abort
                self.guard.check_pulses(1)
                self.guard.check_intensity(self._percent_mso)  # every fire (issue 14)
                try:
                    self.driver.fire()
                except DriverError:
                    # the trigger may have reached the device before the link failed
                    self.guard.pulse_delivered(1)
                    with self._lock:
                        record.pulses_upper = record.pulses + 1
                        record.estimated = True
                    raise
                fired_at = self.clock.now()
            self._count_pulse(train, record, fired_at)

    def _run_device_train(self, train: PlannedTrain, record: TrainRecord) -> None:
        seen_before = self._pulses_seen()
        with self._output_lock:
            if self._estop.is_set():
                self._enter_estop()
                raise _Abort
            self.guard.check_pulses(train.pulses)
            self.guard.check_intensity(self._percent_mso)  # every fire (issue 14)
            self.driver.start_train()
            started = self.clock.now()
        end = started + train.duration_s
        next_poll = started + self._poll_s
        try:
            while self.clock.now() < end:
                self._check_interrupt()
                if self.clock.now() >= next_poll:
                    # the device runs the train itself: keep watching it (DEV-3 within 1 s)
                    self._watch_during_train()
                    next_poll = self.clock.now() + self._poll_s
                self._sleep_until(min(end, next_poll, self.clock.now() + WAIT_SLICE_S))
        finally:
            pulses, upper = self._device_train_count(train, started, end, seen_before)
            record.estimated = upper != pulses
            self.guard.pulse_delivered(upper)  # the guard counts what may have gone out
            with self._lock:
                self.delivered += pulses
                record.pulses = pulses
                record.pulses_upper = upper if upper != pulses else None
        lost = self.driver.fault
        if isinstance(lost, ConnectionLost):
            message = f"link lost during a train: {lost}"
            self._alarm(Alarm("DEV-3", Priority.HIGH, message, Action.FAULT))
            self._fail(message)
            raise _Abort
        if pulses != train.pulses:
            message = f"the device delivered {pulses} of the {train.pulses} pulses planned"
            self._alarm(Alarm("DEV-4", Priority.HIGH, message, Action.FAULT))
            self._fail(message)
            raise _Abort

    def _watch_during_train(self) -> None:
        """Link and temperature checks while a device-timed train runs; a warm coil (DEV-2)
        only holds the next train, everything that faults stops this one."""
        self._poll_device()

    def _pulses_seen(self) -> int | None:
        """Pulses the device itself reported (MagPro di/dt messages), if it reports any."""
        seen = getattr(self.driver, "pulses_seen", None)
        return seen if isinstance(seen, int) and not isinstance(seen, bool) else None

    def _device_train_count(
        self, train: PlannedTrain, started: float, end: float, seen_before: int | None
    ) -> tuple[int, int]:
        """(lower, upper) bound of the pulses of a device-timed train that ended or was cut.

        Equal bounds mean the count is exact. A count the engine did not observe is a
        bound: with the link gone the device may have gone on to the end of the train.
        """
        now = self.clock.now()
        completed = now >= end
        link_lost = (
            self._link_lost
            or isinstance(self.driver.fault, ConnectionLost)
            or self._link_failed_since(started)
        )
        if seen_before is not None:
            # The device reports every pulse through the driver's reader thread; the last
            # reports were sent by the train's end and may still be on their way in (real
            # time, also when the session runs on simulated time): a short grace.
            grace = time.monotonic() + DEVICE_REPORT_GRACE_S
            while completed and self._reported(seen_before) < train.pulses:
                if time.monotonic() >= grace:
                    break
                time.sleep(0.001)
            # With the link gone, reports were lost while the device may have gone on
            # (the MagPro has no keep-alive): the count is a lower bound up to the train.
            seen = self._reported(seen_before)
            return seen, (train.pulses if link_lost else seen)
        window = TrainWindow(train.pulses, train.frequency_hz, started, end)
        evidence = Evidence(link_lost, self._last_reply, self._fault_at, self._last_healthy)
        return unreported_train_bounds(window, now, evidence)

    def _link_failed_since(self, since: float) -> bool:
        return link_failed_since(since, self._last_link_error, self._last_reply)

    def _reported(self, seen_before: int) -> int:
        seen = self._pulses_seen()
        return 0 if seen is None else seen - seen_before

    def _count_pulse(self, train: PlannedTrain, record: TrainRecord, fired_at: float) -> None:
        self.guard.pulse_delivered(1)
        with self._lock:
            index = self.delivered
            self.delivered += 1
            record.pulses += 1
        self._journal(
            events.PULSE,
            {"train": train.index, "index": index, "t_s": round(fired_at - self._t0, 6)},
            actor="device",
        )

    def _check_interrupt(self) -> None:
        if self._estop.is_set() or self._abort_reason is not None:
            self._handle_commands()
            if self._estop.is_set():
                self._enter_estop()
                raise _Abort

    def _end_train(self, train: PlannedTrain, record: TrainRecord) -> None:
        now = self.clock.now()
        record.end_s = now - self._t0
        self.guard.train_ended(now)
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
        self._journal(events.TRAIN_END, payload)
        if self.on_progress is not None:
            self.on_progress(self.delivered, self.journal.head)

    # -- state, alarms, ending -----------------------------------------------------------

    def _trigger(self, trigger: Trigger) -> None:
        self.controller.fire_trigger(trigger)

    def _on_state(self, source: State, dest: State, trigger: str) -> None:
        self._journal(events.STATE, {"from": str(source), "to": str(dest), "trigger": trigger})
        self._event(f"{source} -> {dest}")

    def _alarm(self, alarm: Alarm) -> None:
        with self._lock:
            if any(a.code == alarm.code for a in self.alarms):
                return
            self.alarms.append(alarm)
        self._journal(
            events.ALARM,
            {"code": alarm.code, "priority": str(alarm.priority), "message": alarm.message},
            actor="watchdog",
        )
        self._event(f"ALARM {alarm.priority}: {alarm.message}")

    def _acknowledge_alarms(self) -> None:
        with self._lock:
            # an unconfirmed disarm stays latched until a disarm is confirmed
            self.alarms = [
                a
                for a in self.alarms
                if a.priority is not Priority.HIGH
                or (a.code == DISARM_ALARM and self._disarm_error is not None)
            ]
        if self.controller.current in (State.ESTOPPED, State.FAULT):
            self.controller.acknowledge()

    def _safe_stop(self) -> SafeStopReport:
        """Disarm through the driver's priority path; an unconfirmed disarm is latched.

        Never raises: this is the path every failure takes.
        """
        try:
            report = self.driver.safe_stop()
        except Exception as exc:  # a driver bug must not hide an armed device
            report = SafeStopReport(disarmed=False, error=f"safe stop failed: {exc}")
        if report.disarmed:
            with self._lock:
                self._disarm_error = None
        else:
            self._disarm_unconfirmed(report.error or "no confirmation")
        return report

    def _disarm_unconfirmed(self, error: str) -> None:
        with self._lock:
            self._disarm_error = error
        message = (
            f"the device did not confirm it is disarmed ({error}): "
            "switch the stimulator off at its power switch"
        )
        alarm = Alarm(DISARM_ALARM, Priority.HIGH, message, Action.FAULT)
        with contextlib.suppress(Exception):  # the alarm list matters more than its record
            self._alarm(alarm)

    def _fail(self, reason: str) -> None:
        if self._fault_at is None:
            self._fault_at = self.clock.now()
        # Disarm first: the state change and its journal record come after, and may fail.
        self._safe_stop()
        if self._estop.is_set():
            # whatever the device says now follows from the e-stop that disarmed it
            with contextlib.suppress(StimctlError):
                self._enter_estop()
            return
        self.reason = self.reason or reason
        if self.controller.current not in TERMINAL:
            with contextlib.suppress(StimctlError):
                self._trigger(Trigger.FAULT)

    def _finish(self) -> None:
        state = self.controller.current
        if state not in TERMINAL:
            self._fail(self.reason or "the engine ended unexpectedly")
            state = self.controller.current
        report = self._safe_stop()  # fail closed whatever happened
        status = END_STATUS.get(state, "fault")
        if state is State.COMPLETED and self._stop_requested:
            status = "stopped"
        with self._lock:
            self._outcome_settled = True
            if self._adverse_event is not None:
                status = STATUS_STOPPED_ADVERSE_EVENT
        if self._journal_error is not None:
            status = "fault"
        lower, upper = self._pulse_bounds()
        payload: dict[str, Any] = {
            "status": status,
            "reason": self.reason,
            "pulses_delivered": lower,
            "pulses_planned": self.plan.total_pulses,
            "trains_delivered": sum(1 for t in self.trains if t.end_s is not None),
            "disarmed": report.disarmed,
        }
        if upper != lower:
            payload["pulses_delivered_upper"] = upper
            payload["count_exact"] = False
        if not report.disarmed:
            payload["disarm_error"] = report.error
        if self._adverse_event is not None:
            payload["adverse_event"] = self._adverse_event
        try:
            self._journal(events.SESSION_END, payload)
        except _JournalFailed:
            status = "fault"  # the closing record could not be written: never "completed"
        with contextlib.suppress(Exception):
            self.journal.close()
        self._summary = self._build_summary(status, report.disarmed)

    def _emergency_finish(self, reason: str) -> None:
        """The last resort when the normal ending failed: disarm, summarise, never raise."""
        report = self._safe_stop()
        self.reason = self.reason or reason
        with contextlib.suppress(Exception):
            self.journal.close()
        if self._summary is None:
            self._summary = self._build_summary("fault", report.disarmed)
        self._done.set()

    def _build_summary(self, status: str, disarmed: bool) -> Summary:
        lower, upper = self._pulse_bounds()
        return Summary(
            session_id=self.journal.session_id,
            status=status,
            reason=self.reason,
            pulses_delivered=lower,
            pulses_planned=self.plan.total_pulses,
            trains_delivered=sum(1 for t in self.trains if t.end_s is not None),
            trains_planned=len(self.plan.trains),
            duration_s=self.clock.now() - self._t0,
            planned_duration_s=self.plan.duration_s,
            onset_errors_s=[t.actual_onset_s - t.planned_onset_s for t in self.trains],
            alarms=[f"{a.priority}: {a.message}" for a in self.alarms],
            journal=str(self.journal.path),
            trains=list(self.trains),
            disarm_confirmed=disarmed and self._disarm_error is None,
            disarm_error=self._disarm_error,
            pulses_delivered_upper=upper,
            adverse_event=self._adverse_event,
            journal_error=self._journal_error,
            interrupted_by=self._interrupted_by,
        )

    def _pulse_bounds(self) -> tuple[int, int]:
        """(lower, upper) bound of the pulses delivered; equal when every one was seen."""
        with self._lock:
            unseen = sum(
                (t.pulses_upper - t.pulses) for t in self.trains if t.pulses_upper is not None
            )
            return self.delivered, self.delivered + unseen

    def _journal(self, event: str, payload: dict[str, Any], actor: str = "engine") -> None:
        if self._journal_error is not None or self.journal.ended:
            return
        try:
            self.journal.append(event, payload, actor=actor)
        except JournalClosed:
            return
        except Exception as exc:
            # A pulse that cannot be recorded must not be given: disarm now, then end the
            # session as a fault (later records are dropped, the summary says why).
            self._journal_error = f"{type(exc).__name__}: {exc}"
            self._safe_stop()
            self._alarm(
                Alarm(
                    "JOURNAL",
                    Priority.HIGH,
                    f"the journal cannot be written ({exc}); the session is stopped",
                    Action.FAULT,
                )
            )
            self.reason = self.reason or f"the journal cannot be written: {exc}"
            raise _JournalFailed from exc

    def _event(self, text: str) -> None:
        with self._lock:
            self.events.append(f"{self.clock.now() - self._t0:9.3f}  {text}")


class _Device:
    """What the controller may do to the device, with the engine's bookkeeping."""

    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine

    def arm(self) -> None:
        with self._engine._output_lock:
            if self._engine._estop.is_set():
                raise StateError("emergency stop latched: not arming")
            self._engine.driver.arm()

    def disarm(self) -> None:
        status = self._engine.driver.disarm()
        if status.may_be_armed:
            # no transition to a disarmed state the device did not confirm (fail closed)
            self._engine._disarm_unconfirmed(f"device reports {status.arm_state.value}")
            raise DriverError(
                f"the device did not confirm the disarm (it reports {status.arm_state.value})"
            )

    def safe_stop(self) -> None:
        self._engine._safe_stop()


def _alarm_code(exc: StimctlError) -> str:
    """The alarm a failure raises: every fault is a latched high-priority alarm."""
    if isinstance(exc, SafetyViolation):
        return exc.rule or "GUARD"
    if isinstance(exc, ConnectionLost):
        return "DEV-3"  # link lost
    if isinstance(exc, DriverError):
        return "DEVERR"
    return "ENGINE"


def _actor(name: str) -> str:
    """Journal actor names: the system's own, or `operator:<id>` for people."""
    if name in ("engine", "watchdog", "device", "recovery") or name.startswith("operator:"):
        return name
    return operator_actor(name)


def _public(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if k != "actor" and v is not None}
