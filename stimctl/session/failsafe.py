"""Fail closed: alarms, disarming, the fault path and the session's ending.

Every failure takes the same path, in the same order: disarm first (the driver's
priority `safe_stop`, which never raises; an unconfirmed disarm latches the DISARM
alarm), then the alarm and the state change, which may themselves fail. `finish`
writes the closing record and builds the summary whatever happened; `emergency_finish`
is the last resort when even that failed.
"""

from __future__ import annotations

import contextlib
import threading

from stimctl.clock import Clock
from stimctl.errors import DriverError, StateError, StimctlError
from stimctl.hal import SafeStopReport, Stimulator
from stimctl.session.alarms import AlarmBoard
from stimctl.session.controller import SessionController
from stimctl.session.delivery import OutputGate
from stimctl.session.ending import JournalFailed, end_status
from stimctl.session.live import LiveState
from stimctl.session.monitor import DeviceMonitor
from stimctl.session.recorder import Recorder, end_payload, summarise
from stimctl.session.states import TERMINAL, Trigger
from stimctl.session.summary import Summary
from stimctl.session.watchdog import Action, Alarm, Priority


class Failsafe:
    def __init__(
        self,
        driver: Stimulator,
        clock: Clock,
        gate: OutputGate,
        board: AlarmBoard,
        live: LiveState,
        monitor: DeviceMonitor,
    ) -> None:
        self.driver = driver
        self.clock = clock
        self.gate = gate
        self.board = board
        self.live = live
        self.monitor = monitor
        self.recorder: Recorder = monitor.recorder
        self.controller = SessionController(_Device(self), on_state=self._on_state)
        self.lock = threading.Lock()  # the abort reason, the adverse event, the outcome
        self.reason = ""
        self.abort_reason: str | None = None
        self.adverse_event: str | None = None  # a serious AE ended the session
        self.interrupted_by: str | None = None
        self.outcome_settled = False  # set once the closing status is decided
        self.summary: Summary | None = None

    def trigger(self, trigger: Trigger) -> None:
        self.controller.fire_trigger(trigger)

    def _on_state(self, source: object, dest: object, trigger: str) -> None:
        self.recorder.state(str(source), str(dest), trigger)
        self.live.event(f"{source} -> {dest}")

    def alarm(self, alarm: Alarm) -> None:
        if self.board.raise_alarm(alarm):
            self.recorder.alarm(alarm)
            self.live.event(f"ALARM {alarm.priority}: {alarm.message}")

    def enter_estop(self) -> None:
        self.alarm(Alarm("ESTOP", Priority.HIGH, "emergency stop", Action.FAULT))
        self.reason = "emergency stop"
        if self.controller.current not in TERMINAL:
            self.trigger(Trigger.ESTOP)

    def safe_stop(self) -> SafeStopReport:
        """Disarm through the driver's priority path; an unconfirmed disarm is latched.
        Never raises: this is the path every failure takes."""
        try:
            report = self.driver.safe_stop()
        except Exception as exc:  # a driver bug must not hide an armed device
            report = SafeStopReport(disarmed=False, error=f"safe stop failed: {exc}")
        if report.disarmed:
            self.board.disarm_confirmed()
        else:
            self.disarm_unconfirmed(report.error or "no confirmation")
        return report

    def disarm_unconfirmed(self, error: str) -> None:
        alarm = self.board.disarm_unconfirmed(error)
        with contextlib.suppress(Exception):  # the alarm list matters more than its record
            self.alarm(alarm)

    def journal_failed(self, exc: Exception) -> None:
        """The recorder could not write: disarm first, then alarm (not journaled)."""
        self.safe_stop()
        message = f"the journal cannot be written ({exc}); the session is stopped"
        self.alarm(Alarm("JOURNAL", Priority.HIGH, message, Action.FAULT))
        self.reason = self.reason or f"the journal cannot be written: {exc}"

    def fault(self, alarm: Alarm) -> None:
        self.alarm(alarm)
        self.fail(alarm.message)

    def fail(self, reason: str) -> None:
        self.monitor.mark_fault()
        # Disarm first: the state change and its journal record come after, and may fail.
        self.safe_stop()
        if self.gate.estop.is_set():
            # whatever the device says now follows from the e-stop that disarmed it
            with contextlib.suppress(StimctlError):
                self.enter_estop()
            return
        self.reason = self.reason or reason
        if self.controller.current not in TERMINAL:
            with contextlib.suppress(StimctlError):
                self.trigger(Trigger.FAULT)

    def finish(self) -> None:
        state = self.controller.current
        if state not in TERMINAL:
            self.fail(self.reason or "the engine ended unexpectedly")
            state = self.controller.current
        report = self.safe_stop()  # fail closed whatever happened
        with self.lock:
            self.outcome_settled = True
            adverse = self.adverse_event
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
            planned=self.recorder.plan.total_pulses,
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
        self.summary = self._summarise(status, report.disarmed)

    def emergency_finish(self, reason: str) -> Summary:
        """The last resort when the normal ending failed: disarm, summarise, never raise."""
        report = self.safe_stop()
        self.reason = self.reason or reason
        with contextlib.suppress(Exception):
            self.recorder.close()
        if self.summary is None:
            self.summary = self._summarise("fault", report.disarmed)
        return self.summary

    def _summarise(self, status: str, disarmed: bool) -> Summary:
        return summarise(
            self.recorder,
            status=status,
            reason=self.reason,
            bounds=self.live.pulse_bounds(),
            trains=self.live.trains,
            duration_s=self.clock.now() - self.live.schedule.t0,
            alarms=self.board.lines(),
            disarmed=disarmed,
            disarm_error=self.board.disarm_error,
            adverse_event=self.adverse_event,
            interrupted_by=self.interrupted_by,
        )


class _Device:
    """What the controller may do to the device around transitions (fail closed)."""

    def __init__(self, failsafe: Failsafe) -> None:
        self._failsafe = failsafe

    def arm(self) -> None:
        gate = self._failsafe.gate
        with gate.lock:
            if gate.estop.is_set():
                raise StateError("emergency stop latched: not arming")
            self._failsafe.driver.arm()

    def disarm(self) -> None:
        status = self._failsafe.driver.disarm()
        if status.may_be_armed:
            # no transition to a disarmed state the device did not confirm (fail closed)
            self._failsafe.disarm_unconfirmed(f"device reports {status.arm_state.value}")
            raise DriverError(
                f"the device did not confirm the disarm (it reports {status.arm_state.value})"
            )

    def safe_stop(self) -> None:
        self._failsafe.safe_stop()
