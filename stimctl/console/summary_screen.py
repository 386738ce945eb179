"""After the session: what was delivered, how it ended, and where the report is."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from stimctl.protocol.describe import duration
from stimctl.session.summary import Summary

STATUS_STYLE = {
    "completed": "bold white on dark_green",
    "stopped": "bold white on dark_green",
    "aborted": "bold black on dark_orange",
    "estopped": "bold white on red",
    "fault": "bold white on red",
}


class SummaryScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.quit", "Quit"),
        Binding("enter", "app.quit", "Quit", show=False),
    ]

    def __init__(self, summary: Summary, report: str, disarmed_note: str = "") -> None:
        super().__init__()
        self.summary = summary
        self.report = report
        self.note = disarmed_note

    def _facts(self) -> Table:
        s = self.summary
        data = s.as_dict()
        onset = data["train_onset_error_ms"]
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        table.add_row("Session", s.session_id)
        table.add_row(
            "Outcome", Text.assemble((f" {s.status.upper()} ", STATUS_STYLE.get(s.status, "")))
        )
        table.add_row("Reason", s.reason or "-")
        table.add_row("Pulses", f"{s.pulses_delivered} / {s.pulses_planned}")
        table.add_row("Trains", f"{s.trains_delivered} / {s.trains_planned}")
        # minutes for people; the exact seconds stay in the report and the journal
        table.add_row(
            "Duration",
            f"{duration(s.duration_s)} (planned {duration(s.planned_duration_s)})",
        )
        table.add_row("Onset error", f"median {onset['median']} ms, max {onset['max']} ms")
        table.add_row("Alarms", "\n".join(s.alarms) or "none")
        table.add_row("Journal", s.journal)
        table.add_row("Report", Text(self.report, style="bold"))
        return table

    def set_report(self, report: str) -> None:
        self.report = report
        # The report may be written before the screen is composed (a session that ends
        # at once, a loaded machine): compose then shows it; only a shown screen updates.
        facts = self.query("#facts")
        if facts:
            facts.first(Static).update(self._facts())

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary"):
            yield Static(Text("Session ended", style="bold"), classes="h1")
            yield Static(self._facts(), id="facts")
            if self.note:
                yield Static(Text(self.note, style="bold red"))
            yield Static(Text("\nPress q to close the console.", style="dim"))
        yield Footer(compact=True)
