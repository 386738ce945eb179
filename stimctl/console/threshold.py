"""The threshold screen: a motor-threshold hunt shown pulse by pulse (issue 7).

`ThresholdApp` runs a hunt job on its own thread and shows one row per pulse (index,
% MSO, MEP amplitude, response, running estimate), the current estimate in large
digits, the pulses used against the cap, and at the end the result (RMT, outcome,
reason) and whether the device confirmed its disarm. With an operator as the source of
responses, each response is asked in a dialog (`HuntControl.ask`). With a live EMG source
(`--mep lsl:NAME`, issue 18) the last trials are drawn as small plots with their
measurement and background windows, amplitude and verdict (`HuntControl.trace`), and a
trial rejected for background EMG gets its own row (`HuntControl.rejected`).

The job is whatever opens the stimulator and calls `stimctl.rmt.hunt` (the CLI's
`stimctl rmt hunt --console` builds one); it takes a `HuntControl` and must pass its
pulses to `control.pulse`, hunt on `control.clock(clock)` with
`stimulate=control.guard(stimulate)`, and report the final disarm with
`control.report_disarm`. The runner has no cancellation hook of its own, so the e-stop
key (F1, also F12) sets the control's stop flag: the next sleep between pulses (checked
every `STOP_CHECK_S`) or the next pulse raises `HuntStopped`, no pulse is fired after
it, and the job's device context runs its `safe_stop` on the way out. The console never
talks to the device itself: all device I/O stays on the job's thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Digits, Footer, Input, Label, Static

from stimctl.clock import Clock
from stimctl.console.mep_plot import trace_plot
from stimctl.errors import StateError
from stimctl.lab.mep_window import MepTrace
from stimctl.rmt.result import HuntResult, Outcome, PulseRecord

STOP_CHECK_S = 0.1
"""Longest clock time a sleep between pulses runs before it looks at the stop flag."""

MEP_PLOTS = 3
"""How many of the latest trials are drawn."""

WAIT_FOR_END_S = 30.0
"""How long closing the console waits for the job to disarm and close the device."""

OUTCOME_STYLE = {
    Outcome.CONVERGED: "bold white on dark_green",
    Outcome.INTENSITY_CAP: "bold black on dark_orange",
    Outcome.FLOOR: "bold black on dark_orange",
    Outcome.PULSE_CAP: "bold black on dark_orange",
}

CSS = """
#hunt-title { height: 1; padding: 0 1; color: $text-muted; }
#hunt-top { height: auto; }
#estimate-box { width: 34; height: auto; border: round $primary-darken-2; padding: 0 1; }
#estimate { width: auto; }
#hunt-facts { width: 1fr; height: auto; border: round $primary-darken-2; padding: 0 1; }
#hunt-facts Static { height: 1; }
#trace { height: 1fr; }
#meps { height: auto; display: none; }
#meps Static { width: auto; height: auto; border: round $primary-darken-2; padding: 0 1; }
#result { height: auto; padding: 0 1; display: none; }
ModalScreen { align: center middle; }
.dialog { width: 70; max-width: 95%; height: auto; border: thick $warning; background: $panel;
          padding: 1 2; }
.question { text-style: bold; margin: 0 0 1 0; }
.buttons { height: auto; margin: 1 0 0 0; }
.buttons Button { margin: 0 2 0 0; }
"""


class HuntStopped(StateError):
    """The operator stopped the hunt (e-stop, or the console closed)."""


class HuntControl:
    """The link between the screen and the job's thread: pulses out, a stop flag in."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.reason = ""
        self.disarmed: bool | None = None
        """The job's final disarm: True confirmed, False not confirmed, None no device."""
        self.listener: Callable[[PulseRecord], None] | None = None
        self.asker: Callable[[Question], None] | None = None
        self.teller: Callable[[str], None] | None = None
        self.trace_listener: Callable[[MepTrace], None] | None = None
        self.rejection_listener: Callable[[int, str], None] | None = None

    def request_stop(self, reason: str) -> None:
        if not self._stop.is_set():
            self.reason = reason
            self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def check(self) -> None:
        if self._stop.is_set():
            raise HuntStopped(f"threshold hunt stopped: {self.reason}")

    def pulse(self, record: PulseRecord) -> None:
        listener = self.listener
        if listener is not None:
            listener(record)

    def trace(self, trace: MepTrace) -> None:
        """One trial as a live EMG source measured it (any thread)."""
        listener = self.trace_listener
        if listener is not None:
            listener(trace)

    def rejected(self, intensity: int, reason: str) -> None:
        """The last pulse's trial was rejected (background EMG); the hunt repeats it."""
        listener = self.rejection_listener
        if listener is not None:
            listener(intensity, reason)

    def ask(self, question: str) -> str:
        """The operator's answer to `question`, typed on the screen (an `OperatorSource`
        prompt). Waits on the job's thread; a stop meanwhile raises `HuntStopped`."""
        asker = self.asker
        if asker is None:
            raise StateError("no screen to answer on: the threshold console is not running")
        pending = Question(question)
        asker(pending)
        while not pending.answered.wait(STOP_CHECK_S):
            self.check()
        return pending.answer

    def tell(self, message: str) -> None:
        """A message for the operator (an answer the source could not read)."""
        teller = self.teller
        if teller is not None:
            teller(message)

    def guard(self, stimulate: Callable[[int], None] | None) -> Callable[[int], None]:
        """`stimulate` that refuses to fire once a stop was requested. Without a device
        (None) it fires nothing, as `hunt` does without `stimulate`, but still stops."""

        def guarded(intensity: int) -> None:
            self.check()
            if stimulate is not None:
                stimulate(intensity)

        return guarded

    def clock(self, clock: Clock) -> Clock:
        return StoppableClock(clock, self)

    def report_disarm(self, disarmed: bool | None) -> None:
        self.disarmed = disarmed


class Question:
    """One question to the operator, answered from the screen's thread."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.answer = ""
        self.answered = threading.Event()

    def give(self, answer: str) -> None:
        self.answer = answer
        self.answered.set()


class StoppableClock:
    """`clock` for the hunt's pacing: its sleeps end early with `HuntStopped` on a stop.

    The inter-pulse sleep (5-6 s in real time) is slept in slices of `STOP_CHECK_S` so the
    stop takes effect between pulses at once rather than at the next pulse. Deadlines are
    absolute, so slicing changes no pulse time.
    """

    def __init__(self, clock: Clock, control: HuntControl) -> None:
        self.inner = clock
        self.control = control

    def now(self) -> float:
        return self.inner.now()

    def sleep_until(self, deadline: float) -> None:
        while True:
            self.control.check()
            now = self.inner.now()
            if now >= deadline:
                return
            self.inner.sleep_until(min(deadline, now + STOP_CHECK_S))

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time: {seconds}")
        self.sleep_until(self.now() + seconds)


HuntJob = Callable[[HuntControl], HuntResult]


@dataclass(frozen=True)
class HuntEnd:
    """How the hunt ended: its result, or the error that ended it (a stop included)."""

    result: HuntResult | None
    error: BaseException | None
    stopped: bool
    disarmed: bool | None


class PulseShown(Message):
    def __init__(self, record: PulseRecord) -> None:
        super().__init__()
        self.record = record


class TraceShown(Message):
    def __init__(self, trace: MepTrace) -> None:
        super().__init__()
        self.trace = trace


class TrialRejectedShown(Message):
    def __init__(self, intensity: int, reason: str) -> None:
        super().__init__()
        self.intensity = intensity
        self.reason = reason


class ResponseAsked(Message):
    def __init__(self, question: Question) -> None:
        super().__init__()
        self.question = question


class OperatorTold(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ResponseDialog(ModalScreen[str]):
    """The response to the pulse just delivered: yes/no (visible twitch) or µV.

    No cancel: a hunt needs every response; the e-stop (F1) ends the hunt instead.
    """

    def __init__(self, question: Question) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.question.text), classes="question")
            yield Input(placeholder="yes / no / amplitude in µV", id="answer")
            with Horizontal(classes="buttons"):
                yield Button("Yes", variant="success", id="yes")
                yield Button("No", id="no")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss("yes" if event.button.id == "yes" else "no")


class HuntEnded(Message):
    def __init__(self, end: HuntEnd) -> None:
        super().__init__()
        self.end = end


class ThresholdApp(App[HuntEnd | None]):
    CSS = CSS
    TITLE = "stimctl · motor threshold"
    ENABLE_COMMAND_PALETTE = False  # a clinical console offers only its own keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "estop", "E-STOP", priority=True),
        Binding("f12", "estop", "E-STOP", show=False, priority=True),
        Binding("q", "request_quit", "Quit"),
    ]

    def __init__(
        self,
        job: HuntJob,
        *,
        title: str,
        max_pulses: int,
        control: HuntControl | None = None,
    ) -> None:
        super().__init__()
        self.job = job
        self.hunt_title = title
        self.max_pulses = max_pulses
        self.control = control or HuntControl()
        self.records: list[PulseRecord] = []
        self.traces: list[MepTrace] = []
        self.rejections = 0
        self.end: HuntEnd | None = None
        self._exit_when_done = False
        self._thread = threading.Thread(target=self._work, name="threshold-hunt")

    # -- layout and lifecycle ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self.hunt_title, id="hunt-title")
        with Horizontal(id="hunt-top"):
            with Vertical(id="estimate-box"):
                yield Static(Text("Estimate, % MSO", style="dim"))
                yield Digits("--", id="estimate")
            with Vertical(id="hunt-facts"):
                yield Static(id="pulses")
                yield Static(id="last")
                yield Static(id="state")
        yield Horizontal(id="meps")
        yield DataTable(id="trace", cursor_type="none", zebra_stripes=True)
        yield Static(id="result")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#trace", DataTable)
        table.add_columns("#", "% MSO", "MEP µV", "Response", "Estimate")
        self._facts()
        self.control.listener = self._post_pulse
        self.control.asker = lambda question: self._post(ResponseAsked(question))
        self.control.teller = lambda text: self._post(OperatorTold(text))
        self.control.trace_listener = lambda trace: self._post(TraceShown(trace))
        self.control.rejection_listener = lambda intensity, reason: self._post(
            TrialRejectedShown(intensity, reason)
        )
        self._thread.start()

    def _post_pulse(self, record: PulseRecord) -> None:
        self._post(PulseShown(record))

    def _post(self, message: Message) -> None:
        self.post_message(message)  # thread-safe, and never waits for the screen

    def _work(self) -> None:
        """The job's thread: the hunt and every device command run here."""
        try:
            result = self.job(self.control)
            end = HuntEnd(result, None, False, self.control.disarmed)
        except BaseException as exc:  # reported on screen and re-raised by the caller
            end = HuntEnd(None, exc, self.control.stopped, self.control.disarmed)
        self.end = end
        self.post_message(HuntEnded(end))

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout_s: float = WAIT_FOR_END_S) -> HuntEnd | None:
        """Stop a hunt still running and wait for its job to end (device disarmed)."""
        if self._thread.is_alive():
            self.control.request_stop("the console closed")
            self._thread.join(timeout_s)
        return self.end

    # -- what the job reports ---------------------------------------------------------

    def on_pulse_shown(self, message: PulseShown) -> None:
        record = message.record
        self.records.append(record)
        table = self.query_one("#trace", DataTable)
        table.add_row(*pulse_row(record), key=str(record.index))
        table.scroll_end(animate=False)  # keep the newest pulse in view
        self._facts()

    def on_trace_shown(self, message: TraceShown) -> None:
        self.traces.append(message.trace)
        panel = self.query_one("#meps", Horizontal)
        panel.display = True
        panel.mount(Static(trace_plot(message.trace), classes="mep-plot"))
        plots = panel.query(".mep-plot")
        for old in list(plots)[: max(0, len(plots) - MEP_PLOTS)]:
            old.remove()

    def on_trial_rejected_shown(self, message: TrialRejectedShown) -> None:
        self.rejections += 1
        table = self.query_one("#trace", DataTable)
        table.add_row(
            "-",
            str(message.intensity),
            "-",
            Text("rejected", style="bold dark_orange"),
            "",
            key=f"rejected-{self.rejections}",
        )
        table.scroll_end(animate=False)
        self.notify(f"trial rejected: {message.reason}", severity="warning", timeout=6)

    def on_response_asked(self, message: ResponseAsked) -> None:
        question = message.question
        self.bell()  # the operator may be looking at the subject, not the screen

        def answered(answer: str | None) -> None:
            question.give(answer or "")

        self.push_screen(ResponseDialog(question), answered)

    def on_operator_told(self, message: OperatorTold) -> None:
        self.notify(message.text, severity="warning", timeout=8)

    def on_hunt_ended(self, message: HuntEnded) -> None:
        end = message.end
        while isinstance(self.screen, ResponseDialog):  # a stop while a question was open
            self.pop_screen()
        self._facts()
        result = self.query_one("#result", Static)
        result.update(result_table(end))
        result.display = True
        if end.error is not None and not end.stopped:
            self.notify(f"the hunt failed: {end.error}", severity="error", timeout=30)
        if end.disarmed is False:
            self.bell()
        if self._exit_when_done:
            self.exit(end)

    def _facts(self) -> None:
        estimate = self.records[-1].estimate if self.records else None
        self.query_one("#estimate", Digits).update(estimate_text(estimate))
        self.query_one("#pulses", Static).update(
            Text.assemble(
                ("Pulses   ", "dim"), (f"{len(self.records)} / {self.max_pulses}", "bold")
            )
        )
        last = self.records[-1] if self.records else None
        self.query_one("#last", Static).update(
            Text.assemble(
                ("Last     ", "dim"),
                "-" if last is None else f"{last.intensity} % MSO, {response_word(last)}",
            )
        )
        self.query_one("#state", Static).update(Text.assemble(("State    ", "dim"), *self._state()))

    def _state(self) -> tuple[tuple[str, str], ...]:
        end = self.end
        if end is None:
            if self.control.stopped:
                return (("STOPPING", "bold red"),)
            return (("hunting", "bold"),)
        if end.stopped:
            return (("STOPPED", "bold red"),)
        if end.error is not None:
            return (("FAILED", "bold red"),)
        return (("done", "bold green"),)

    # -- keys -------------------------------------------------------------------------

    def action_estop(self) -> None:
        """No confirmation: no pulse after this key; the job disarms on its way out."""
        self.control.request_stop("emergency stop by the operator")
        self._facts()
        self.notify("EMERGENCY STOP: no further pulse; disarming", severity="error", timeout=10)

    def action_request_quit(self) -> None:
        if self.end is not None:
            self.exit(self.end)
            return
        # Quitting mid-hunt stops it first; the app closes once the device is disarmed.
        self.control.request_stop("the operator closed the console")
        self._exit_when_done = True
        self._facts()

    async def action_quit(self) -> None:
        """Ctrl+Q and closing the terminal: never leave a hunt firing."""
        self.action_request_quit()


def estimate_text(estimate: float | None) -> str:
    return "--" if estimate is None else f"{estimate:.1f}"


def response_word(record: PulseRecord) -> str:
    return "yes" if record.response else "no"


def pulse_row(record: PulseRecord) -> tuple[str | Text, ...]:
    amplitude = "-" if record.amplitude_uv is None else f"{record.amplitude_uv:.1f}"
    response = Text("yes", style="bold green") if record.response else Text("no", style="dim")
    return (
        str(record.index),
        str(record.intensity),
        amplitude,
        response,
        estimate_text(record.estimate),
    )


def disarm_text(disarmed: bool | None) -> Text:
    if disarmed is None:
        return Text("no stimulator was driven (nothing fired by stimctl)", style="dim")
    if disarmed:
        return Text("device disarmed (confirmed)", style="bold green")
    return Text(
        "the device did NOT confirm the disarm: check it now and use its own stop",
        style="bold red",
    )


def result_table(end: HuntEnd) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    result = end.result
    if result is not None:
        rmt = "none" if result.rmt is None else f"{result.rmt:g} % MSO"
        table.add_row("RMT", Text(rmt, style="bold"))
        table.add_row(
            "Outcome", Text(f" {result.outcome.value} ", OUTCOME_STYLE.get(result.outcome, ""))
        )
        table.add_row("Reason", result.reason)
        table.add_row("Method", f"{result.method}, {result.criterion}")
        table.add_row("Pulses", str(result.pulses))
    else:
        outcome = "stopped" if end.stopped else "failed"
        table.add_row("RMT", Text("none", style="bold"))
        table.add_row("Outcome", Text(f" {outcome} ", "bold white on red"))
        table.add_row("Reason", str(end.error) or type(end.error).__name__)
    table.add_row("Device", disarm_text(end.disarmed))
    table.add_row("", Text("Press q to close.", style="dim"))
    return table


def run_threshold_console(job: HuntJob, *, title: str, max_pulses: int) -> HuntEnd:
    """Run the threshold screen until the operator closes it; the hunt has ended and its
    device is disarmed (or said it could not be) when this returns."""
    app = ThresholdApp(job, title=title, max_pulses=max_pulses)
    try:
        app.run()
    finally:
        end = app.wait()
    if end is None:  # the job did not end within WAIT_FOR_END_S of the stop
        raise StateError("the threshold hunt did not stop; check the stimulator now")
    return end


__all__ = [
    "HuntControl",
    "HuntEnd",
    "HuntJob",
    "HuntStopped",
    "Question",
    "ResponseDialog",
    "StoppableClock",
    "ThresholdApp",
    "run_threshold_console",
]
