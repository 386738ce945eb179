"""The operator console: a Textual app that sends commands and renders snapshots.

The engine runs on its own thread and owns the device; this app polls
`engine.snapshot()` on a timer and calls the engine's thread-safe methods. The emergency
stop is a priority binding (F1, also F12) that works on every screen, dialogs included,
and calls `engine.estop` directly: it disarms from this thread at once, bypassing the
engine's queue. Closing the console mid-session aborts the session and waits for the
engine to disarm and close the journal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.widgets import Footer

from stimctl.console import notes
from stimctl.console.dialogs import (
    AdverseEvent,
    AdverseEventDialog,
    ConfirmDialog,
    IntensityDialog,
    IntensityRequest,
    NoteDialog,
)
from stimctl.console.engine_api import ConsoleEngine
from stimctl.console.live import SessionView
from stimctl.console.prestart import PreStartScreen
from stimctl.console.summary_screen import SummaryScreen
from stimctl.errors import StimctlError
from stimctl.hal import DeviceIdentity
from stimctl.session.runner import Prepared
from stimctl.session.summary import Snapshot, Summary
from stimctl.session.watchdog import Alarm, Priority

POLL_S = 0.25
INTENSITY_STEP_RMT = 5.0
WAIT_FOR_END_S = 30.0
SESSION_ACTIONS = frozenset(
    {"pause", "resume", "stop", "abort", "intensity", "acknowledge", "annotate", "adverse"}
)


def _default_wall() -> dt.datetime:
    return dt.datetime.now().astimezone()


class ConsoleApp(App[Summary | None]):
    CSS_PATH = "console.tcss"
    TITLE = "stimctl"
    ENABLE_COMMAND_PALETTE = False  # a clinical console offers only its own keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "estop", "E-STOP", priority=True),
        Binding("f12", "estop", "E-STOP", show=False, priority=True),
        # one key, two names: the key bar says what space will do now (issue 16)
        Binding("space", "pause", "Pause"),
        Binding("space", "resume", "Resume"),
        Binding("s", "stop", "Stop@end"),
        Binding("a", "abort", "Abort"),
        Binding("plus,up", "intensity(1)", "Int+"),
        Binding("minus,down", "intensity(-1)", "Int-"),
        Binding("k", "acknowledge", "Ack"),
        Binding("n", "annotate", "Note"),
        Binding("v", "adverse", "AE"),
        Binding("q", "request_quit", "Quit"),
    ]

    def __init__(
        self,
        engine: ConsoleEngine,
        prepared: Prepared,
        *,
        operator: str = "local",
        identity: DeviceIdentity | None = None,
        coil_limit_c: float = 40.0,
        report_dir: Path | None = None,
        wall: Callable[[], dt.datetime] = _default_wall,
        flash: bool = True,
        poll_s: float = POLL_S,
        cue_s: float | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.prepared = prepared
        self.operator = operator
        self.identity = identity
        self.coil_limit_c = coil_limit_c
        self.report_dir = report_dir
        self.wall = wall
        self.flash = flash
        self.poll_s = poll_s
        self.cue_s = cue_s
        """Ring the terminal bell this many seconds before each train (None: off)."""
        self.cues_given = 0
        self._cued_train: int | None = None
        self.started = False
        self.finished = False
        self.summary: Summary | None = None
        self.report_path: str = ""
        self.last_estop_disarmed: bool | None = None
        self.last_snapshot: Snapshot | None = None
        self.view = SessionView(id="session")
        self._tick = 0
        self._train_key: int | None = None
        self._train_started_s: float | None = None
        self._dismissed: set[str] = set()
        self._alarms_seen: set[str] = set()
        self._last_event: str | None = None
        self._bindings_live: tuple[bool, bool] | None = None

    # -- layout and lifecycle ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.view
        yield Footer(compact=True)

    def on_mount(self) -> None:
        protocol = self.prepared.protocol
        subject = self.prepared.subject.subject_id or "no subject id"
        self.view.set_title(f"{protocol.name} · {protocol.target.site} · subject {subject}")
        self._render(self.engine.snapshot())
        self.set_interval(self.poll_s, self.poll)
        self.push_screen(
            PreStartScreen(self.prepared, self.identity, self.operator), self._after_prestart
        )

    def _after_prestart(self, go: bool | None) -> None:
        if not go:
            # Declined (or e-stopped) before start: the engine still opens and closes the
            # journal, so the record says the session was refused; nothing is armed.
            self.engine.abort(self.operator, reason="the operator did not start the session")
        self.engine.start()
        self.started = True

    @property
    def actor(self) -> str:
        return self.operator

    def _session_live(self) -> bool:
        return self.started and not self.finished and self.engine.running

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in SESSION_ACTIONS:
            if not self._session_live():
                return False
            if action in ("pause", "resume"):
                snap = self.last_snapshot or self.engine.snapshot()
                return (action == "resume") == _paused(snap)
        return True

    # -- polling -------------------------------------------------------------------------

    def poll(self) -> None:
        self._tick += 1
        snap = self.engine.snapshot()
        self.last_snapshot = snap
        self._render(snap)
        if self.started and not self.finished and not self.engine.running:
            self._finish()

    def _render(self, snap: Snapshot) -> None:
        self._track_train(snap)
        alarms = self._visible_alarms(snap.alarms)
        self._announce(snap, alarms)
        view = self.view
        try:
            events_height = view.query_one("#events").size.height - 2
        except NoMatches:  # not composed yet
            return
        view.show(
            snap,
            self.engine.plan,
            train_elapsed_s=(
                None if self._train_started_s is None else snap.elapsed_s - self._train_started_s
            ),
            now=self.wall(),
            coil_limit_c=self.coil_limit_c,
            alarms=alarms,
            flash_on=self._flash_on(alarms),
            event_lines=events_height if events_height > 0 else 8,
        )
        self._cue(snap)
        live = (self._session_live(), _paused(snap))
        if live != self._bindings_live:  # the footer redraws itself on every refresh
            self._bindings_live = live
            self.refresh_bindings()

    def _cue(self, snap: Snapshot) -> None:
        """The audible cue: one bell when the next train is `cue_s` or less away, so the
        operator looking at the subject knows a train is coming."""
        if self.cue_s is None or not self.started or snap.next_train_in_s is None:
            return
        if snap.state in ("paused", "train", "stopping") or snap.pause_requested:
            return
        upcoming = snap.trains_delivered
        if 0.0 < snap.next_train_in_s <= self.cue_s and self._cued_train != upcoming:
            self._cued_train = upcoming
            self.cues_given += 1
            self.bell()

    def _track_train(self, snap: Snapshot) -> None:
        """The console's own train clock: the engine reports when trains end, not start."""
        if snap.state in ("train", "stopping"):
            if self._train_key != snap.trains_delivered:
                self._train_key = snap.trains_delivered
                self._train_started_s = snap.elapsed_s
        else:
            self._train_key = None
            self._train_started_s = None

    def _visible_alarms(self, alarms: list[Alarm]) -> list[Alarm]:
        # High alarms stay until the engine clears them (acknowledge); medium and low
        # ones until the operator dismisses them here.
        return [a for a in alarms if a.priority is Priority.HIGH or a.code not in self._dismissed]

    def _flash_on(self, alarms: list[Alarm]) -> bool:
        if not self.flash or not alarms:
            return True
        if any(a.priority is Priority.HIGH for a in alarms):
            return self._tick % 2 == 0  # 2 Hz at the 0.25 s poll
        return (self._tick // 4) % 2 == 0  # 0.5 Hz

    def _announce(self, snap: Snapshot, alarms: list[Alarm]) -> None:
        for alarm in alarms:
            if alarm.code not in self._alarms_seen:
                self._alarms_seen.add(alarm.code)
                if alarm.priority is not Priority.LOW:
                    self.bell()
        for line in self._new_events(snap.events):
            if "refused" in line:
                self.notify(line.split("  ", 1)[-1].strip(), severity="error", timeout=8)

    def _new_events(self, lines: list[str]) -> list[str]:
        """The event lines that arrived since the last poll (the engine keeps the last 50)."""
        new = lines
        if self._last_event is not None and self._last_event in lines:
            position = len(lines) - 1 - lines[::-1].index(self._last_event)
            new = lines[position + 1 :]
        if lines:
            self._last_event = lines[-1]
        return new

    def _finish(self) -> None:
        self.finished = True
        summary = self.engine.wait(timeout=WAIT_FOR_END_S)
        self.summary = summary
        note = ""
        if self.last_estop_disarmed is False or not _journal_says_disarmed(summary):
            note = (
                "The device did NOT confirm that it is disarmed: "
                "check it now and use the stimulator's own stop."
            )
        screen = SummaryScreen(summary, "writing the report ...", note)
        self.push_screen(screen)
        # matplotlib takes a moment: draw the report off the UI thread.
        self.run_worker(lambda: self._report_worker(summary, screen), thread=True, name="report")

    def _report_worker(self, summary: Summary, screen: SummaryScreen) -> None:
        path = self._write_report(summary)
        try:
            self.call_from_thread(self._report_written, screen, path)
        except RuntimeError:  # the console closed meanwhile; the file is written anyway
            self.report_path = path

    def _report_written(self, screen: SummaryScreen, path: str) -> None:
        self.report_path = path
        screen.set_report(path)

    def _write_report(self, summary: Summary) -> str:
        from stimctl.report import write_report

        journal = Path(summary.journal)
        output = None
        if self.report_dir is not None:
            output = self.report_dir / f"{journal.stem}.html"
        try:
            return str(write_report(journal, "html", output))
        except (StimctlError, OSError) as exc:
            return f"(report not written: {exc}; run `stimctl report {journal.stem}`)"

    # -- commands ------------------------------------------------------------------------

    def action_estop(self) -> None:
        """No confirmation, no queue: disarm now from this thread, then latch."""
        try:
            disarmed = self.engine.estop(self.actor)
        except StimctlError as exc:
            disarmed = False
            self.notify(f"emergency stop error: {exc}", severity="error", timeout=30)
        self.last_estop_disarmed = disarmed
        if disarmed:
            self.notify("EMERGENCY STOP: device disarmed", severity="error", timeout=10)
        else:
            self.notify(
                "EMERGENCY STOP: the device did NOT confirm it is disarmed. "
                "Use the stimulator's own stop now.",
                severity="error",
                timeout=60,
            )
        if not self.started and isinstance(self.screen, PreStartScreen):
            self.screen.dismiss(False)

    def action_pause(self) -> None:
        self.action_pause_resume()

    def action_resume(self) -> None:
        self.action_pause_resume()

    def action_pause_resume(self) -> None:
        """Space: pause, or resume when paused (what the engine says now, not the bar)."""
        snap = self.engine.snapshot()
        if _paused(snap):
            self.engine.resume(self.actor)
        else:
            self.engine.pause(self.actor)

    def action_stop(self) -> None:
        self.engine.stop(self.actor)
        self.notify("stopping at the end of the current train")

    def action_abort(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.engine.abort(self.actor, reason="operator abort")

        self.push_screen(
            ConfirmDialog("Abort the session now? The device is disarmed.", "Abort"), answered
        )

    def action_intensity(self, direction: int) -> None:
        snap = self.engine.snapshot()
        proposed = max(
            INTENSITY_STEP_RMT, snap.intensity_percent_rmt + direction * INTENSITY_STEP_RMT
        )

        def answered(request: IntensityRequest | None) -> None:
            if request is None:
                return
            self.engine.change_intensity(
                request.percent_rmt,
                operator=self.actor,
                reason=request.reason,
                confirmed=request.confirmed,
            )
            self.notify(f"intensity change to {request.percent_rmt:g}% RMT sent for re-validation")

        self.push_screen(
            IntensityDialog(snap.intensity_percent_rmt, proposed, snap.rmt_percent_mso), answered
        )

    def action_acknowledge(self) -> None:
        snap = self.engine.snapshot()
        self._dismissed |= {a.code for a in snap.alarms if a.priority is not Priority.HIGH}
        self.engine.acknowledge(self.actor)

    def action_annotate(self) -> None:
        def answered(text: str | None) -> None:
            if not text:
                return
            try:
                notes.annotate(
                    self.engine.journal, self.actor, text, self.engine.snapshot().elapsed_s
                )
            except StimctlError as exc:
                self.notify(str(exc), severity="error")
                return
            self.notify("note journaled")

        self.push_screen(NoteDialog(), answered)

    def action_adverse(self) -> None:
        self.engine.pause(self.actor)  # first: the subject needs attention, not the form

        def answered(event: AdverseEvent | None) -> None:
            if event is None:
                return
            snap = self.engine.snapshot()
            try:
                notes.adverse_event(
                    self.engine.journal,
                    self.actor,
                    kind=event.kind,
                    severity=event.severity,
                    notes=event.notes,
                    pulses_delivered=snap.pulses_delivered,
                    session_time_s=snap.elapsed_s,
                )
            except StimctlError as exc:
                self.notify(str(exc), severity="error")
                # a serious event ends the session even when it could not be recorded
                self._end_for_serious_event(event)
                return
            if self._end_for_serious_event(event):
                return
            self.notify("adverse event journaled; the session stays paused (space resumes)")

        self.push_screen(AdverseEventDialog(), answered)

    def _end_for_serious_event(self, event: AdverseEvent) -> bool:
        """A seizure, syncope or serious event ends the session: no resume (issue 12)."""
        if not self.engine.adverse_event(self.actor, kind=event.kind, severity=event.severity):
            return False
        self.notify(
            f"SERIOUS ADVERSE EVENT ({event.kind}, {event.severity}): the session is ended "
            "and the device disarmed; it cannot be resumed",
            severity="error",
            timeout=30,
        )
        return True

    def action_request_quit(self) -> None:
        if not (self.started and self.engine.running):
            self.exit(self.summary)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.action_quit_now()

        self.push_screen(
            ConfirmDialog("Abort the session and close the console?", "Abort and quit"), answered
        )

    async def action_quit(self) -> None:
        """Ctrl+Q and closing the terminal: never leave a session running."""
        self.action_quit_now()

    def action_quit_now(self) -> None:
        self.exit(self.stop_safely())

    def stop_safely(self) -> Summary | None:
        """Abort a running session and wait for the engine to disarm and close the journal."""
        if self.started and self.engine.running:
            self.engine.abort(self.actor, reason="console closed during the session")
        if self.started:
            self.summary = self.engine.wait(timeout=WAIT_FOR_END_S)
        return self.summary


def _paused(snap: Snapshot) -> bool:
    """Paused, or a pause requested for the end of this train: space resumes."""
    return snap.state == "paused" or snap.pause_requested


def _journal_says_disarmed(summary: Summary) -> bool:
    """The `disarmed` flag of the session_end record (the engine's last word on it)."""
    from stimctl.report import load_session

    try:
        end = load_session(Path(summary.journal)).end
    except StimctlError:
        return False
    return bool(end and end.get("disarmed"))
