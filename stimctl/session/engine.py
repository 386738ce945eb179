"""The session engine: one thread owns the state machine and runs the plan.

This module is the public API and the loop (ADR 0021); each concept lives in its own
module: commands arrive typed through the `inbox` and act through `dispatch`; the
`schedule` gives onsets; the `monitor` polls the device; `delivery` fires host-timed
pulses and runs device-timed trains with the pulse counter; `dose_control` sets and
changes the intensity; `alarms` latches alarms; `failsafe` disarms, faults and ends;
`live` is the console's snapshot; the `recorder` writes the journal and the summary.
State policy comes from the transition table (`states.allowed`).

The emergency stop bypasses the inbox: the caller's thread disarms the device at once
through `Stimulator.safe_stop` and sets a latch delivery obeys before every pulse
(ARCHITECTURE rule 5). The journal is the record of truth for what was delivered.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import Any

from stimctl.clock import Clock, participating
from stimctl.errors import ConnectionLost, DriverError, SafetyViolation, StateError, StimctlError
from stimctl.hal import Stimulator, TrainSpec
from stimctl.journal import Journal
from stimctl.session.alarms import DISARM_ALARM, AlarmBoard
from stimctl.session.delivery import WAIT_SLICE_S, Delivery, OutputGate
from stimctl.session.dispatch import Pauses, dispatch
from stimctl.session.dispatch import actor_of as _actor
from stimctl.session.dose_control import DoseControl, Revalidate
from stimctl.session.ending import EndSession
from stimctl.session.failsafe import Failsafe
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
from stimctl.session.recorder import Recorder
from stimctl.session.schedule import Schedule
from stimctl.session.states import DEVICE_MAY_BE_ARMED, TERMINAL, State, Trigger, allowed
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
        self._gate = OutputGate()  # e-stop latch vs. fire: no pulse after the latch
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self.schedule = Schedule()
        self.board = AlarmBoard()
        self.live = LiveState(plan, clock, self.schedule)
        self.recorder = Recorder(journal, plan, self.schedule, on_failure=self._journal_failed)
        self.monitor = DeviceMonitor(driver, clock, self.limits, self.live, self.recorder)
        self.dose = DoseControl(driver, plan, guard, self.live, self.recorder, revalidate)
        self.failsafe = Failsafe(driver, clock, self._gate, self.board, self.live, self.monitor)
        self.controller = self.failsafe.controller
        self.delivery = Delivery(
            driver, clock, guard, self.live, self.recorder, self.monitor, self._gate,
            _Hooks(self), poll_s=poll_s,
        )  # fmt: skip
        self.pauses = Pauses()  # the operator's pause, the DEV-2 coil hold
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
                return self._emergency_finish("the engine thread died")
            raise StateError("the session is still running")
        assert self.failsafe.summary is not None
        return self.failsafe.summary

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
        with self.failsafe.lock:
            self.failsafe.abort_reason = self.failsafe.abort_reason or reason
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
        failsafe = self.failsafe
        with failsafe.lock:
            if failsafe.outcome_settled:
                return False  # the session had already ended
            failsafe.adverse_event = failsafe.adverse_event or f"{kind} ({severity})"
            failsafe.abort_reason = failsafe.abort_reason or "serious adverse event"
        self._commands.put(EndForAdverseEvent(actor, kind, severity))
        return True

    def note_interrupt(self, signal_name: str) -> None:
        """A signal asked the process to end; the summary names it."""
        with self.failsafe.lock:
            self.failsafe.interrupted_by = self.failsafe.interrupted_by or signal_name

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
        Returns True when the device confirmed it is disarmed."""
        self._gate.estop.set()
        with self._gate.lock:
            report = self.failsafe.safe_stop()
        self._commands.put(EStopDone(actor, report.disarmed, report.error))
        return report.disarmed

    def snapshot(self) -> Snapshot:
        controller = self.controller
        snap = self.live.snapshot(
            state=controller.state, latched=controller.latched, alarms=self.board.alarms
        )
        # A stop given during a train is taken at its end; until then the console shows
        # it as coming ("then stop"), so the operator sees the key was heard.
        if not snap.stop_requested and self._commands.waiting(Stop):
            snap = dataclasses.replace(snap, stop_requested=True)
        return snap

    # -- the loop (engine thread) ------------------------------------------------------

    def _driver_fault(self, exc: StimctlError) -> None:
        self._commands.put(DeviceFault(str(exc), lost=isinstance(exc, ConnectionLost)))

    def _journal_failed(self, exc: Exception) -> None:
        self.failsafe.journal_failed(exc)

    def _emergency_finish(self, reason: str) -> Summary:
        summary = self.failsafe.emergency_finish(reason)
        self._done.set()
        return summary

    def _run(self) -> None:
        try:
            with participating(self.clock):
                self._run_session()
        finally:
            self._done.set()

    def _run_session(self) -> None:
        failsafe = self.failsafe
        try:
            try:
                self._session()
            except BaseException as exc:  # the engine thread must never die silently
                log.exception("engine failed")
                failsafe.fault(Alarm("ENGINE", Priority.HIGH, f"engine error: {exc}", Action.FAULT))
            finally:
                failsafe.finish()
        except EndSession:
            if failsafe.summary is None:  # a journal failure while ending
                self._emergency_finish("the session could not be closed")
        except BaseException as exc:  # even the ending failed: disarm, summarise, end
            log.exception("ending the session failed")
            self._emergency_finish(f"ending the session failed: {exc}")

    def _session(self) -> None:
        failsafe = self.failsafe
        self.recorder.opening(self._start_payload)
        self.schedule.start(self.clock.now())
        failsafe.trigger(Trigger.PREPARE)
        try:
            self._get_ready(self.plan.trains[0])
            self.schedule.start(self.clock.now())  # the schedule starts when the device is ready
            for train in self.plan.trains:
                self._await_slot(train)
                self._deliver(train)
                if self.live.stop_requested:
                    break
            if self.controller.current not in TERMINAL:
                failsafe.trigger(Trigger.FINISH)
                stopped = self.live.stop_requested
                failsafe.reason = failsafe.reason or (
                    "stopped by operator" if stopped else "all trains delivered"
                )
        except EndSession:
            pass
        except StimctlError as exc:
            if self._gate.estop.is_set():  # the device refused because it was e-stopped
                failsafe.enter_estop()
            else:
                failsafe.fault(Alarm(_alarm_code(exc), Priority.HIGH, str(exc), Action.FAULT))

    def _get_ready(self, first: PlannedTrain) -> None:
        """Set the first intensity, load a device-timed train, arm, wait until ready."""
        self._handle_commands()
        self.dose.apply(*self.dose.for_train(first))
        if self.plan.timing == "device":
            spec = TrainSpec(first.frequency_hz, first.pulses, duration_s=first.duration_s)
            self.driver.configure_train(spec)
        self.rearm(Trigger.ARM)

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
        return self.pauses.held or allowed(self.controller.current, Trigger.RESUME) is not None

    def _apply_hold(self, hold: bool) -> None:
        """DEV-2: a warm coil pauses (disarmed) until it cools, then the session resumes."""
        state = self.controller.current
        pauses = self.pauses
        if hold and not pauses.held:
            pauses.held = True
            self.live.event("held: coil too warm for the next train")
            if allowed(state, Trigger.PAUSE) is not None:
                self.failsafe.trigger(Trigger.PAUSE)
        elif not hold and pauses.held:
            pauses.held = False
            self.live.event("hold released: coil cooled")
            if allowed(state, Trigger.RESUME) is not None and not pauses.operator_paused:
                self.rearm(Trigger.RESUME)

    def _deliver(self, train: PlannedTrain) -> None:
        percent_mso, percent_rmt = self.dose.for_train(train)
        coil, now = self.live.coil_temperature, self.clock.now()
        self.guard.before_train(now=now, pulses=train.pulses, percent_mso=percent_mso, coil_c=coil)
        self.dose.apply(percent_mso, percent_rmt)
        if allowed(self.controller.current, Trigger.START_TRAIN) is not None:
            self._wait_ready()  # armed, waiting for this train
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
        self.failsafe.trigger(Trigger.START_TRAIN)
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
            self.failsafe.trigger(Trigger.FINISH)
            self.failsafe.reason = (
                "stopped by operator at the end of a train"
                if self.live.stop_requested
                else "all trains delivered"
            )
            raise EndSession
        self.failsafe.trigger(Trigger.END_TRAIN)
        if self.live.pause_requested:
            self.live.pause_requested = False
            self.failsafe.trigger(Trigger.PAUSE)

    def _end_train(self, train: PlannedTrain, record: TrainRecord) -> None:
        now = self.clock.now()
        record.end_s = now - self.schedule.t0
        self.guard.train_ended(now)
        self.live.train_over()
        self.recorder.train_end(train, record)
        if self.on_progress is not None:
            self.on_progress(self.live.delivered, self.journal.head)

    def rearm(self, trigger: Trigger) -> None:
        """Arm (or resume) and wait until the device is ready (the loop's, and dispatch's)."""
        self.failsafe.trigger(trigger)
        self._wait_ready()

    def _wait_ready(self) -> None:
        status = self.driver.wait_ready(timeout_s=self._ready_timeout_s, poll_s=0.05)
        self.monitor.note(status)

    def _poll(self) -> bool:
        """Read the device; raise its alarms; a fault ends the session. True: hold."""
        expect_armed = self.controller.current in DEVICE_MAY_BE_ARMED
        reading = self.monitor.poll(expect_armed=expect_armed)
        for alarm in reading.alarms:
            self.failsafe.alarm(alarm)
        if reading.fault is not None:
            self.failsafe.fail(reading.fault.message)
            raise EndSession
        return reading.hold

    def _check_interrupt(self) -> None:
        if self._gate.estop.is_set() or self.failsafe.abort_reason is not None:
            self._handle_commands()
            if self._gate.estop.is_set():
                self.failsafe.enter_estop()
                raise EndSession

    # -- commands: taken between pulses and while waiting ------------------------------

    def _handle_commands(self) -> None:
        while (command := self._commands.take()) is not None:
            self._handle(command)

    def _handle(self, command: Command) -> None:
        dispatch(self, command)


class _Hooks:
    """What delivery may ask of the loop (`delivery.LoopHooks`)."""

    def __init__(self, engine: SessionEngine) -> None:
        self._engine = engine

    def check_interrupt(self) -> None:
        self._engine._check_interrupt()

    def enter_estop(self) -> None:
        self._engine.failsafe.enter_estop()

    def poll(self) -> bool:
        return self._engine._poll()

    def fail(self, alarm: Alarm) -> None:
        self._engine.failsafe.fault(alarm)


def _alarm_code(exc: StimctlError) -> str:
    """The alarm a failure raises: every fault is a latched high-priority alarm."""
    if isinstance(exc, SafetyViolation):
        return exc.rule or "GUARD"
    if isinstance(exc, ConnectionLost):
        return "DEV-3"  # link lost
    if isinstance(exc, DriverError):
        return "DEVERR"
    return "ENGINE"
