"""The session engine: one thread owns the state machine and runs the plan.

This module is the loop and its wiring (ADR 0021); each concept lives in its own
module: commands arrive typed through the `inbox`; the `schedule` gives onsets; the
`monitor` polls the device; `delivery` fires host-timed pulses and runs device-timed
trains with the pulse counter; `dose_control` sets and changes the intensity; `alarms`
latches alarms; `live` is the console's snapshot; the `recorder` writes the journal and
the summary. State policy comes from the transition table (`states.allowed`).

The emergency stop bypasses the inbox: the caller's thread disarms the device at once
through `Stimulator.safe_stop` and sets a latch delivery obeys before every pulse
(ARCHITECTURE rule 5). The journal is the record of truth for what was delivered.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from stimctl.clock import Clock, participating
from stimctl.errors import ConnectionLost, DriverError, SafetyViolation, StateError, StimctlError
from stimctl.hal import SafeStopReport, Stimulator, TrainSpec
from stimctl.journal import Journal
from stimctl.journal.events import operator_actor
from stimctl.session.alarms import DISARM_ALARM, AlarmBoard
from stimctl.session.controller import SessionController
from stimctl.session.delivery import WAIT_SLICE_S, Delivery, OutputGate
from stimctl.session.dose_control import DoseControl, Revalidate
from stimctl.session.ending import EndSession, JournalFailed, end_status
from stimctl.session.guard import RuntimeGuard
from stimctl.session.inbox import (
    Abort,
    Acknowledge,
    ChangeIntensity,
    Command,
    DeviceFault,
    EndForAdverseEvent,
    EStopDone,
    Inbox,
    Pause,
    RecordsFailed,
    Resume,
    Stop,
)
from stimctl.session.live import LiveState
from stimctl.session.monitor import DeviceMonitor
from stimctl.session.plan import Plan, PlannedTrain
from stimctl.session.recorder import Recorder, end_payload, summarise
from stimctl.session.schedule import Schedule
from stimctl.session.states import DEVICE_MAY_BE_ARMED, LATCHED, TERMINAL, State, Trigger, allowed
from stimctl.session.summary import Snapshot, Summary, TrainRecord
from stimctl.session.watchdog import Action, Alarm, Priority, WatchdogLimits

log = logging.getLogger(__name__)

SERIOUS_AE_KINDS = frozenset({"seizure", "syncope"})
"""Adverse events that end a session whatever severity the operator chose (issue 12)."""

__all__ = ["DISARM_ALARM", "Revalidate", "SessionEngine", "is_serious_adverse_event"]


def is_serious_adverse_event(kind: str, severity: str) -> bool:
    """A seizure, a syncope, or any event the operator marks serious ends the session."""
    return kind in SERIOUS_AE_KINDS or severity == "serious"


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
        self.driver, self.plan, self.journal, self.clock, self.guard = (
            driver, plan, journal, clock, guard
        )  # fmt: skip
        self.limits = watchdog or WatchdogLimits()
        self._start_payload = session_start or {}
        self._poll_s = poll_s
        self._ready_timeout_s = ready_timeout_s
        self._commands = Inbox()
        self._lock = threading.Lock()  # the abort reason, the adverse event, the outcome
        self._gate = OutputGate()  # e-stop latch vs. fire: no pulse after the latch
        self._abort_reason: str | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self.schedule = Schedule()
        self.board = AlarmBoard()
        self.live = LiveState(plan, clock, self.schedule)
        self.recorder = Recorder(journal, plan, self.schedule, on_failure=self._journal_failed)
        self.monitor = DeviceMonitor(driver, clock, self.limits, self.live, self.recorder)
        self.dose = DoseControl(driver, plan, guard, self.live, self.recorder, revalidate)
        self.delivery = Delivery(
            driver, clock, guard, self.live, self.recorder, self.monitor, self._gate,
            _Hooks(self), poll_s=poll_s,
        )  # fmt: skip
        self.controller = SessionController(_Device(self), on_state=self._on_state)
        self.reason = ""
        self._held = False  # DEV-2 hold: coil too warm for the next train
        self._operator_paused = False
        self._summary: Summary | None = None
        self._adverse_event: str | None = None  # a serious AE ended the session
        self._interrupted_by: str | None = None
        self._outcome_settled = False  # set once the closing status is decided
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

    @property
    def alarms(self) -> list[Alarm]:
        return self.board.alarms

    @property
    def trains(self) -> list[TrainRecord]:
        return self.live.trains

    @property
    def delivered(self) -> int:
        return self.live.delivered

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
        """A helper thread (fault injector, reader) died: fault the session."""
        log.error("%s failed: %s", source, exc)
        self._commands.put(DeviceFault(f"{source} failed: {exc}", lost=False))

    def records_failed(self, message: str) -> None:
        """The records link could not write (any thread): an alarm tells the operator."""
        self._commands.put(RecordsFailed(message))

    def change_intensity(
        self, percent_rmt: float, *, operator: str, reason: str, confirmed: bool = False
    ) -> None:
        """Change the intensity from the next train on; re-validated, journaled."""
        self._commands.put(ChangeIntensity(_actor(operator), percent_rmt, reason, confirmed))

    def estop(self, actor: str) -> bool:
        """Emergency stop: disarm at once from the calling thread, then latch.

        Returns True when the device confirmed it is disarmed.
        """
        self._gate.estop.set()
        with self._gate.lock:
            report = self._safe_stop()
        self._commands.put(EStopDone(actor, report.disarmed, report.error))
        return report.disarmed

    def snapshot(self) -> Snapshot:
        controller = self.controller
        return self.live.snapshot(
            state=controller.state, latched=controller.latched, alarms=self.board.alarms
        )

    # -- the loop (engine thread) ------------------------------------------------------

    def _driver_fault(self, exc: StimctlError) -> None:
        self._commands.put(DeviceFault(str(exc), lost=isinstance(exc, ConnectionLost)))

    def _run(self) -> None:
        try:
            with participating(self.clock):
                self._run_session()
        finally:
            self._done.set()

    def _run_session(self) -> None:
        try:
            try:
                self._session()
            except BaseException as exc:  # the engine thread must never die silently
                log.exception("engine failed")
                self._alarm(Alarm("ENGINE", Priority.HIGH, f"engine error: {exc}", Action.FAULT))
                self._fail(f"engine error: {exc}")
            finally:
                self._finish()
        except EndSession:
            if self._summary is None:  # a journal failure while ending
                self._emergency_finish("the session could not be closed")
        except BaseException as exc:  # even the ending failed: disarm, summarise, end
            log.exception("ending the session failed")
            self._emergency_finish(f"ending the session failed: {exc}")

    def _session(self) -> None:
        self.recorder.opening(self._start_payload)
        self.schedule.start(self.clock.now())
        self._trigger(Trigger.PREPARE)
        try:
            self._get_ready(self.plan.trains[0])
            self.schedule.start(self.clock.now())  # the schedule starts when the device is ready
            for train in self.plan.trains:
                self._await_slot(train)
                self._deliver(train)
                if self.live.stop_requested:
                    break
            if self.controller.current not in TERMINAL:
                self._trigger(Trigger.FINISH)
                self.reason = self.reason or (
                    "stopped by operator" if self.live.stop_requested else "all trains delivered"
                )
        except EndSession:
            pass
        except StimctlError as exc:
            if self._gate.estop.is_set():  # the device refused because it was e-stopped
                self._enter_estop()
            else:
                self._alarm(Alarm(_alarm_code(exc), Priority.HIGH, str(exc), Action.FAULT))
                self._fail(str(exc))

    def _get_ready(self, first: PlannedTrain) -> None:
        """Set the first intensity, load a device-timed train, arm, wait until ready."""
        self._handle_commands()
        self.dose.apply(*self.dose.for_train(first))
        if self.plan.timing == "device":
            spec = TrainSpec(
                frequency_hz=first.frequency_hz, pulses=first.pulses, duration_s=first.duration_s
            )
            self.driver.configure_train(spec)
        self._rearm(Trigger.ARM)

    def _await_slot(self, train: PlannedTrain) -> None:
        """Wait for the train's onset: commands, the monitor, pauses and holds meanwhile
        (time spent paused or held shifts the rest of the schedule)."""
        next_poll = last = self.clock.now()
        while True:
            self._handle_commands()
            now = self.clock.now()
            if self._waiting_out():
                self.schedule.shift(now - last)
            last = now
            if now >= next_poll:
                self._apply_hold(self._poll())
                next_poll = now + self._poll_s
            onset = self.schedule.onset(
                train,
                last_train_end=self.guard.last_train_end,
                inter_train_s=self.plan.derived.inter_train_interval_s,
            )
            self.live.set_next_onset(onset)
            if self._waiting_out():
                self.clock.sleep_until(min(next_poll, now + WAIT_SLICE_S))
                continue
            if now >= onset:
                return
            self.clock.sleep_until(min(onset, next_poll, now + WAIT_SLICE_S))

    def _waiting_out(self) -> bool:
        return self._held or allowed(self.controller.current, Trigger.RESUME) is not None

    def _apply_hold(self, hold: bool) -> None:
        """DEV-2: a warm coil pauses (disarmed) until it cools, then the session resumes."""
        state = self.controller.current
        if hold and not self._held:
            self._held = True
            self.live.event("held: coil too warm for the next train")
            if allowed(state, Trigger.PAUSE) is not None:
                self._trigger(Trigger.PAUSE)
        elif not hold and self._held:
            self._held = False
            self.live.event("hold released: coil cooled")
            if allowed(state, Trigger.RESUME) is not None and not self._operator_paused:
                self._rearm(Trigger.RESUME)

    def _deliver(self, train: PlannedTrain) -> None:
        percent_mso, percent_rmt = self.dose.for_train(train)
        coil = self.live.coil_temperature
        now = self.clock.now()
        self.guard.before_train(now=now, pulses=train.pulses, percent_mso=percent_mso, coil_c=coil)
        self.dose.apply(percent_mso, percent_rmt)
        if allowed(self.controller.current, Trigger.START_TRAIN) is not None:
            self._wait_ready()  # armed and waiting for this train
        t0 = self.schedule.t0
        record = TrainRecord(
            index=train.index,
            planned_onset_s=self.schedule.planned_onset(train) - t0,
            actual_onset_s=self.clock.now() - t0,
            pulses_planned=train.pulses,
            intensity_percent_mso=percent_mso,
            intensity_percent_rmt=percent_rmt,
        )
        self.live.train_started(record)
        self._trigger(Trigger.START_TRAIN)
        self.recorder.train_start(train, record)
        try:
            if self.plan.timing == "host":
                self.delivery.host_timed(train, record, self.clock.now(), self.dose.percent_mso)
            else:
                self.delivery.device_timed(train, record, self.dose.percent_mso)
        finally:
            self._end_train(train, record)
        state = self.controller.current
        if state in TERMINAL:
            raise EndSession
        if train.index == len(self.plan.trains) - 1 or state is State.STOPPING:
            self._trigger(Trigger.FINISH)
            self.reason = (
                "stopped by operator at the end of a train"
                if self.live.stop_requested
                else "all trains delivered"
            )
            raise EndSession
        self._trigger(Trigger.END_TRAIN)
        if self.live.pause_requested:
            self.live.pause_requested = False
            self._trigger(Trigger.PAUSE)

    def _end_train(self, train: PlannedTrain, record: TrainRecord) -> None:
        now = self.clock.now()
        record.end_s = now - self.schedule.t0
        self.guard.train_ended(now)
        self.live.train_over()
        self.recorder.train_end(train, record)
        if self.on_progress is not None:
            self.on_progress(self.live.delivered, self.journal.head)

    def _rearm(self, trigger: Trigger) -> None:
        self._trigger(trigger)
        self._wait_ready()

    def _wait_ready(self) -> None:
        status = self.driver.wait_ready(timeout_s=self._ready_timeout_s, poll_s=0.05)
        self.monitor.note(status)

    def _poll(self) -> bool:
        """Read the device; raise its alarms; a fault ends the session. True: hold."""
        expect_armed = self.controller.current in DEVICE_MAY_BE_ARMED
        reading = self.monitor.poll(expect_armed=expect_armed)
        for alarm in reading.alarms:
            self._alarm(alarm)
        if reading.fault is not None:
            self._fail(reading.fault.message)
            raise EndSession
        return reading.hold

    def _check_interrupt(self) -> None:
        if self._gate.estop.is_set() or self._abort_reason is not None:
            self._handle_commands()
            if self._gate.estop.is_set():
                self._enter_estop()
                raise EndSession

    # -- commands ------------------------------------------------------------------------

    def _handle_commands(self) -> None:
        while (command := self._commands.take()) is not None:
            self._handle(command)

    def _handle(self, command: Command) -> None:
        actor = _actor(str(command.args().get("actor", "engine")))
        if not isinstance(command, DeviceFault | RecordsFailed):
            self.recorder.command(command, actor)
        state = self.controller.current
        live = self.live
        match command:
            case EStopDone():
                self._enter_estop()
                raise EndSession
            case DeviceFault(error=error, lost=lost):
                self._alarm(
                    Alarm("DEV-3" if lost else "DEVERR", Priority.HIGH, error, Action.FAULT)
                )
                self._fail(error)
                raise EndSession
            case EndForAdverseEvent():
                message = f"serious adverse event: {self._adverse_event}; the session is ended"
                self._alarm(Alarm("AE", Priority.HIGH, message, Action.FAULT))
                self.reason = f"stopped: serious adverse event ({self._adverse_event})"
                if self.controller.current not in TERMINAL:
                    self._trigger(Trigger.ABORT)
                raise EndSession
            case Abort(reason=reason):
                if self._adverse_event is not None:
                    return  # the adverse-event command that follows ends it, with its reason
                self.reason = reason or "operator abort"
                self._trigger(Trigger.ABORT)
                raise EndSession
            case Acknowledge():
                self.board.acknowledge()
                if state in LATCHED:
                    self.controller.acknowledge()
            case Pause():
                self._operator_paused = live.pause_requested = True
                if allowed(state, Trigger.PAUSE) is not None:
                    self._trigger(Trigger.PAUSE)
                    live.pause_requested = False
            case Resume():
                if self._adverse_event is not None:
                    live.event("resume refused: a serious adverse event ended the session")
                    return
                self._operator_paused = live.pause_requested = False
                if allowed(state, Trigger.RESUME) is not None and not self._held:
                    self._rearm(Trigger.RESUME)
            case Stop():
                live.stop_requested = True
                if allowed(state, Trigger.STOP) is State.COMPLETED:  # not mid-train
                    self.reason = "stopped by operator"
                    self._trigger(Trigger.STOP)
                    raise EndSession
            case ChangeIntensity():
                decision = self.dose.decide(command)
                self.recorder.intensity_change(decision.payload, actor)
                live.event(decision.event)
            case RecordsFailed(message=message):
                self._alarm(Alarm("RECORDS", Priority.MEDIUM, message, Action.NONE))
                live.event(f"records: {message}")
            case _:
                log.warning("unknown command %s", command.kind)

    # -- state, alarms, ending -----------------------------------------------------------

    def _trigger(self, trigger: Trigger) -> None:
        self.controller.fire_trigger(trigger)

    def _on_state(self, source: State, dest: State, trigger: str) -> None:
        self.recorder.state(str(source), str(dest), trigger)
        self.live.event(f"{source} -> {dest}")

    def _alarm(self, alarm: Alarm) -> None:
        if self.board.raise_alarm(alarm):
            self.recorder.alarm(alarm)
            self.live.event(f"ALARM {alarm.priority}: {alarm.message}")

    def _enter_estop(self) -> None:
        self._alarm(Alarm("ESTOP", Priority.HIGH, "emergency stop", Action.FAULT))
        self.reason = "emergency stop"
        if self.controller.current not in TERMINAL:
            self._trigger(Trigger.ESTOP)

    def _safe_stop(self) -> SafeStopReport:
        """Disarm through the driver's priority path; an unconfirmed disarm is latched.
        Never raises: this is the path every failure takes."""
        try:
            report = self.driver.safe_stop()
        except Exception as exc:  # a driver bug must not hide an armed device
            report = SafeStopReport(disarmed=False, error=f"safe stop failed: {exc}")
        if report.disarmed:
            self.board.disarm_confirmed()
        else:
            self._disarm_unconfirmed(report.error or "no confirmation")
        return report

    def _disarm_unconfirmed(self, error: str) -> None:
        alarm = self.board.disarm_unconfirmed(error)
        with contextlib.suppress(Exception):  # the alarm list matters more than its record
            self._alarm(alarm)

    def _journal_failed(self, exc: Exception) -> None:
        """The recorder could not write: disarm first, then alarm (not journaled)."""
        self._safe_stop()
        message = f"the journal cannot be written ({exc}); the session is stopped"
        self._alarm(Alarm("JOURNAL", Priority.HIGH, message, Action.FAULT))
        self.reason = self.reason or f"the journal cannot be written: {exc}"

    def _fail(self, reason: str) -> None:
        self.monitor.mark_fault()
        # Disarm first: the state change and its journal record come after, and may fail.
        self._safe_stop()
        if self._gate.estop.is_set():
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
        with self._lock:
            self._outcome_settled = True
            adverse = self._adverse_event
        status = end_status(
            state,
            stop_requested=self.live.stop_requested,
            adverse_event=adverse is not None,
            journal_failed=self.recorder.error is not None,
        )
        payload = end_payload(
            status=status,
            reason=self.reason,
            bounds=self.live.pulse_bounds(),
            planned=self.plan.total_pulses,
            trains_delivered=self.live.trains_ended,
            disarmed=report.disarmed,
            disarm_error=report.error,
            adverse_event=adverse,
        )
        try:
            self.recorder.session_end(payload)
        except JournalFailed:
            status = "fault"  # the closing record could not be written: never "completed"
        with contextlib.suppress(Exception):
            self.recorder.close()
        self._summary = self._build_summary(status, report.disarmed)

    def _emergency_finish(self, reason: str) -> None:
        """The last resort when the normal ending failed: disarm, summarise, never raise."""
        report = self._safe_stop()
        self.reason = self.reason or reason
        with contextlib.suppress(Exception):
            self.recorder.close()
        if self._summary is None:
            self._summary = self._build_summary("fault", report.disarmed)
        self._done.set()

    def _build_summary(self, status: str, disarmed: bool) -> Summary:
        return summarise(
            self.recorder,
            status=status,
            reason=self.reason,
            bounds=self.live.pulse_bounds(),
            trains=self.live.trains,
            duration_s=self.clock.now() - self.schedule.t0,
            alarms=self.board.lines(),
            disarmed=disarmed,
            disarm_error=self.board.disarm_error,
            adverse_event=self._adverse_event,
            interrupted_by=self._interrupted_by,
        )


class _Hooks:
    """What delivery may ask of the loop (`delivery.LoopHooks`)."""

    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine

    def check_interrupt(self) -> None:
        self._engine._check_interrupt()

    def enter_estop(self) -> None:
        self._engine._enter_estop()

    def poll(self) -> bool:
        return self._engine._poll()

    def fail(self, alarm: Alarm) -> None:
        self._engine._alarm(alarm)
        self._engine._fail(alarm.message)


class _Device:
    """What the controller may do to the device, with the engine's bookkeeping."""

    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine

    def arm(self) -> None:
        with self._engine._gate.lock:
            if self._engine._gate.estop.is_set():
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
