"""The session view: state, dose, time, coil, link, alarms and the last events.

Every widget is redrawn from one `Snapshot` per poll (`SessionView.show`); nothing here
talks to the engine.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from stimctl.console.format import (
    PRIORITY_MARKS,
    STATE_COLOURS,
    clock_text,
    expected_end,
    in_time_order,
    link_text,
    remaining_s,
    sparkline,
    state_word,
    train_left_s,
    trend_scale,
)
from stimctl.session.plan import Plan
from stimctl.session.summary import Snapshot
from stimctl.session.watchdog import Alarm, Priority

TREND_FLOOR_C = 20.0
"""Bottom of the coil trend scale (room temperature); the top is the stop limit."""


class StateBadge(Static):
    """The state in one word, on its colour."""

    def show(self, state: str) -> None:
        self.update(f" {state_word(state)} ")
        for colour in set(STATE_COLOURS.values()):
            self.remove_class(f"state-{colour}")
        self.add_class(f"state-{STATE_COLOURS.get(state, 'grey')}")


class AlarmBanner(Static):
    """The most urgent active alarm, IEC 60601-1-8 style: `***` high (red, flashing,
    latched until acknowledged), `**` medium (yellow, flashing), `*` low (cyan, steady)."""

    def show(self, alarms: list[Alarm], flash_on: bool) -> None:
        for name in ("alarm-high", "alarm-medium", "alarm-low", "flash-off"):
            self.remove_class(name)
        if not alarms:
            self.display = False
            return
        self.display = True
        order = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}
        ranked = sorted(alarms, key=lambda a: order[a.priority])
        top = ranked[0]
        self.add_class(f"alarm-{top.priority}")
        if not flash_on and top.priority is not Priority.LOW:
            self.add_class("flash-off")
        text = f"{PRIORITY_MARKS[top.priority]} {top.priority.upper()} {top.code}: {top.message}"
        if len(ranked) > 1:
            text += f"  (+{len(ranked) - 1} more)"
        hint = "  (K) acknowledge" if top.priority is Priority.HIGH else "  (K) dismiss"
        self.update(Text(text + hint))


class SessionView(Vertical):
    """The main screen body during a session."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="topline"):
            yield StateBadge(id="state")
            yield Static(id="title")
        yield AlarmBanner(id="alarm")
        with Horizontal(id="panels"):
            with Vertical(id="dose", classes="panel"):
                yield Static(id="intensity")
                yield Static(id="rmt")
                yield Static(id="pulses")
                yield Static(id="trains")
                yield Static(id="countdown")
            with Vertical(id="device", classes="panel"):
                yield Static(id="times")
                yield Static(id="ends")
                yield Static(id="coil")
                yield Static(id="coil-trend")
                yield Static(id="link")
        yield Static(id="progress")
        yield Static(id="events")

    def set_title(self, text: str) -> None:
        self.query_one("#title", Static).update(text)

    def show(
        self,
        snap: Snapshot,
        plan: Plan,
        *,
        train_elapsed_s: float | None,
        now: dt.datetime,
        coil_limit_c: float,
        alarms: list[Alarm],
        flash_on: bool,
        event_lines: int,
    ) -> None:
        self.query_one(StateBadge).show(snap.state)
        self.query_one(AlarmBanner).show(alarms, flash_on)
        self._dose(snap, plan, train_elapsed_s)
        remaining = remaining_s(snap, plan, train_elapsed_s)
        self.query_one("#times", Static).update(
            Text.assemble(
                ("Elapsed ", "dim"),
                (clock_text(snap.elapsed_s), "bold"),
                ("   Left ", "dim"),
                (clock_text(remaining), "bold"),
            )
        )
        self.query_one("#ends", Static).update(
            Text.assemble(("Ends    ", "dim"), (expected_end(now, remaining), "bold"))
        )
        self._coil(snap, coil_limit_c)
        text, healthy = link_text(snap)
        self.query_one("#link", Static).update(
            Text.assemble(("Link    ", "dim"), (text, "" if healthy else "bold red"))
        )
        self._progress(snap)
        ordered = in_time_order(snap.events)
        lines = ordered[-event_lines:] if event_lines > 0 else []
        self.query_one("#events", Static).update(Text("\n".join(lines) or "no events yet"))

    def _dose(self, snap: Snapshot, plan: Plan, train_elapsed_s: float | None) -> None:
        self.query_one("#intensity", Static).update(
            Text.assemble(
                ("Intensity ", "dim"),
                (f"{snap.intensity_percent_mso}% MSO", "bold"),
                " | ",
                (f"{snap.intensity_percent_rmt:g}% RMT", "bold"),
            )
        )
        self.query_one("#rmt", Static).update(
            Text.assemble(("RMT       ", "dim"), f"{snap.rmt_percent_mso:g}% MSO")
        )
        # the engine counts pulses as they are delivered (issue 14); where the device
        # reports none (Rapid² device-timed trains) it counts by the clock and says so
        estimated = getattr(snap, "pulses_estimated", False) is True
        self.query_one("#pulses", Static).update(
            Text.assemble(
                ("Pulses    ", "dim"),
                (f"{snap.pulses_delivered} / {snap.pulses_planned}", "bold"),
                (" (by clock)" if estimated else "", "dim"),
            )
        )
        self.query_one("#trains", Static).update(
            Text.assemble(
                ("Trains    ", "dim"), (f"{snap.trains_delivered} / {snap.trains_planned}", "bold")
            )
        )
        self.query_one("#countdown", Static).update(_countdown(snap, plan, train_elapsed_s))

    def _progress(self, snap: Snapshot) -> None:
        widget = self.query_one("#progress", Static)
        planned = max(1, snap.pulses_planned)
        share = min(1.0, snap.pulses_delivered / planned)
        label = f" {100 * share:3.0f}% of pulses"
        width = max(10, widget.size.width - len(label) - 2)
        done = round(share * width)
        widget.update(Text.assemble(("█" * done, "green"), ("░" * (width - done), "grey37"), label))

    def _coil(self, snap: Snapshot, limit_c: float) -> None:
        temperature = snap.coil_temperature_c
        if temperature is None:
            reading = Text("not reported", style="dim")
        else:
            style = "bold red" if temperature >= limit_c - 2.0 else "bold"
            reading = Text(f"{temperature:.1f} °C", style=style)
        self.query_one("#coil", Static).update(
            Text.assemble(("Coil    ", "dim"), reading, (f" / limit {limit_c:g} °C", "dim"))
        )
        low_label, high_label = trend_scale(TREND_FLOOR_C, limit_c)
        label = "Trend   "
        room = len(label) + len(low_label) + len(high_label) + 2
        width = max(8, self.query_one("#coil-trend").size.width - room)
        bars = sparkline([c for _, c in snap.coil_history], TREND_FLOOR_C, limit_c, width)
        if not bars:
            trend = Text.assemble((label, "dim"), ("no readings yet", "dim"))
        else:
            trend = Text.assemble(
                (label, "dim"),
                (low_label, "dim"),
                (bars.ljust(width, " "), "orange1"),
                (high_label, "bold red"),
            )
        self.query_one("#coil-trend", Static).update(trend)


def _countdown(snap: Snapshot, plan: Plan, train_elapsed_s: float | None) -> Text:
    left = train_left_s(snap, plan, train_elapsed_s)
    if left is not None:
        then = ""
        if snap.stop_requested or snap.state == "stopping":
            then = ", then stop"
        elif snap.pause_requested:
            then = ", then pause"
        return Text.assemble(
            ("Train     ", "dim"), (f"{left:4.1f} s left", "bold orange1"), (then, "bold")
        )
    if snap.next_train_in_s is not None and snap.state not in ("paused",):
        return Text.assemble(
            ("Next train", "dim"), (f" in {max(0.0, snap.next_train_in_s):4.1f} s", "bold")
        )
    if snap.state == "paused":
        return Text("Paused: resumes at the next train boundary", style="bold")
    if snap.pause_requested:
        return Text("Pause requested: after this train", style="bold")
    return Text("")
