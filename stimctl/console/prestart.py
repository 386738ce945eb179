"""Before start: who, what, on which device, the verdict with every finding and source,
today's rule checks, the override signature where the verdict needs one, and an
explicit confirmation. Nothing reaches the device until the operator starts.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from stimctl.console.format import percent_mso_for
from stimctl.hal import DeviceIdentity
from stimctl.protocol import derive
from stimctl.protocol.describe import duration, pattern_text
from stimctl.safety.verdict import Finding, Severity
from stimctl.session.runner import Prepared

CHECK_TEXT = "subject identity, coil position, hearing protection"
UNTICKED = f"NOT CHECKED: {CHECK_TEXT}"
TICKED = f"CHECKED: {CHECK_TEXT}"
"""The checklist's two states differ in words, not only in colour (issue 16)."""

TODAY_PREFIXES = ("SES-", "SCR-")
"""Rules about today's history and screening (sessions today, gap, course, screening)."""


def todays_findings(findings: tuple[Finding, ...]) -> list[Finding]:
    """Findings about today: sessions and gaps, screening, daily pulses, RMT age/method."""
    chosen = []
    for finding in findings:
        message = finding.message.lower()
        daily = finding.rule.startswith("PUL-") and ("day" in message or "today" in message)
        rmt = "rmt" in message and any(w in message for w in ("old", "visual", "measured", "age"))
        if finding.rule.startswith(TODAY_PREFIXES) or daily or rmt:
            chosen.append(finding)
    return chosen


def _findings_table(findings: list[Finding]) -> Table:
    table = Table(expand=True, show_edge=False, pad_edge=False, box=None)
    table.add_column("rule", no_wrap=True, style="bold")
    table.add_column("result", no_wrap=True)
    table.add_column("finding and source", ratio=1)
    colours = {
        Severity.ALLOW: "green",
        Severity.OVERRIDE: "bold yellow",
        Severity.BLOCK: "bold red",
    }
    # Worst first: what decides the verdict is what the operator must read.
    for f in sorted(findings, key=lambda f: -f.severity.rank):
        detail = Text(f.message)
        detail.append(f"\n  source: {f.source}", style="dim")
        table.add_row(f.rule, Text(str(f.severity), style=colours[f.severity]), detail)
    return table


class PreStartScreen(Screen[bool]):
    """Dismisses with True when the operator starts, False when they decline.

    Keyboard-only: the focus starts on the pre-session check (space ticks it), then F5
    starts; with an override the signature field comes first.
    """

    AUTO_FOCUS = "#sign, #checked"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "start", "Start", show=True),
        Binding("q", "decline", "Do not start"),
    ]

    def __init__(self, prepared: Prepared, identity: DeviceIdentity | None, operator: str) -> None:
        super().__init__()
        self.prepared = prepared
        self.identity = identity
        self.operator = operator

    @property
    def needs_override(self) -> bool:
        return self.prepared.verdict.verdict is Severity.OVERRIDE

    def compose(self) -> ComposeResult:
        p = self.prepared
        protocol = p.protocol
        rmt = p.subject.rmt
        age = (p.now.date() - rmt.measured_on).days
        intensity = protocol.intensity
        dose_rmt = (
            intensity.percent_amt if intensity.percent_amt is not None else intensity.percent_rmt
        )
        with VerticalScroll(id="prestart"):
            yield Static(Text(f"Before start: {protocol.title}", style="bold"), classes="h1")
            yield Static(self._facts(age, dose_rmt), id="facts")
            # A shipped file edited, or a safety table / site file not shipped, is shown in
            # red before anything else is decided (issue 13 item 5); a protocol of the
            # site's own, given by path, is normal and not flagged here.
            changed = [
                c.line() for c in p.configs if c.status == "locally modified" or c.needs_approval
            ]
            if changed:
                yield Static(Text("\n".join(changed), style="bold red"), id="configs")
            verdict = p.verdict.verdict
            yield Static(
                Text(f"Safety verdict: {str(verdict).upper()}", style="bold"),
                classes=f"h2 verdict-{verdict}",
            )
            yield Static(_findings_table(list(p.verdict.findings)), id="findings")
            yield Static(Text("Today's checks", style="bold"), classes="h2")
            yield Static(self._today(age), id="today")
            if self.needs_override:
                yield from self._override_reasons()
        with Vertical(id="confirm"):
            if self.needs_override and self.prepared.override is not None:
                yield Input(
                    placeholder=f"type '{self.prepared.override.operator}' to sign the override",
                    id="sign",
                    compact=True,
                )
            yield Checkbox(UNTICKED, id="checked", compact=True)
            with Horizontal(classes="buttons"):
                yield Button(
                    "Start session (F5)", variant="success", id="start", disabled=True, compact=True
                )
                yield Button("Do not start (q)", id="decline", compact=True)
            yield Label("", id="problem", classes="problem")
        yield Footer(compact=True)

    def _facts(self, age_days: int, dose_rmt: float | None) -> Table:
        p = self.prepared
        protocol = p.protocol
        rmt = p.subject.rmt
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        table.add_row("Subject", p.subject.subject_id or "(no subject id: RMT given by hand)")
        table.add_row(
            "RMT",
            f"{rmt.percent_mso:g}% MSO, {rmt.method}, measured {rmt.measured_on.isoformat()}"
            f" ({age_days} days ago)" + (f" on {rmt.device}" if rmt.device else ""),
        )
        table.add_row(
            "Protocol",
            f"{protocol.name} (schema v{protocol.schema_version}), {protocol.indication}",
        )
        table.add_row("Target", f"{protocol.target.site}, {protocol.target.hemisphere}")
        # frequency, pulses per train, pause and trains, then the whole dose and duration
        derived = derive(protocol)
        table.add_row("Pattern", pattern_text(protocol, derived))
        table.add_row(
            "Duration",
            f"{derived.total_pulses} pulses in {duration(derived.session_duration_s)}",
        )
        if dose_rmt is not None:
            # % of the threshold the dose refers to (RMT or AMT; SAINT: depth-adjusted)
            kind = p.threshold.kind.upper()
            adjusted = " (depth-adjusted)" if protocol.intensity.depth_adjusted else ""
            table.add_row(
                "Intensity",
                f"{dose_rmt:g}% {kind}{adjusted} = "
                f"{percent_mso_for(dose_rmt, p.reference_percent_mso)}% MSO",
            )
        coil = protocol.coil.family + (f" {protocol.coil.model}" if protocol.coil.model else "")
        table.add_row("Coil", coil)
        device = p.device.title
        if self.identity is not None:
            ident = self.identity
            device += f"; answered: {ident.vendor} {ident.model}"
            if ident.serial_number:
                device += f", serial {ident.serial_number}"
            if ident.software_version:
                device += f", software {ident.software_version}"
        table.add_row("Device", device)
        table.add_row("Operator", self.operator)
        return table

    def _today(self, age_days: int) -> Table | Text:
        rmt = self.prepared.subject.rmt
        found = todays_findings(self.prepared.verdict.findings)
        lines = Text(f"RMT age {age_days} days, method {rmt.method}\n")
        if not found:
            lines.append(
                "no history checks: the session history was not given (use --subject)",
                style="dim",
            )
            return lines
        return _findings_table(found)

    def _override_reasons(self) -> ComposeResult:
        given = self.prepared.override
        deciding = "; ".join(f.rule for f in self.prepared.verdict.deciding())
        yield Static(Text(f"Override needed for {deciding}", style="bold yellow"), classes="h2")
        if given is None:
            yield Label("No override was given: start is not possible.", classes="problem")
            return
        yield Label(Text(f"Override by {given.operator}: {given.reason}"))

    def _allowed(self) -> str:
        """Why start is not allowed yet ('' when it is)."""
        if not self.query_one("#checked", Checkbox).value:
            return "not started: tick the pre-session check first (space)"
        if self.needs_override:
            given = self.prepared.override
            if given is None:
                return "an override verdict needs --override-operator and --override-reason"
            if self.query_one("#sign", Input).value.strip() != given.operator:
                return f"sign the override by typing '{given.operator}'"
        return ""

    def _refresh_start(self) -> None:
        self.query_one("#start", Button).disabled = bool(self._allowed())

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.checkbox.label = TICKED if event.value else UNTICKED
        if event.value:
            self.query_one("#problem", Label).update("")
        self._refresh_start()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._refresh_start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()
        else:
            self.action_decline()

    def action_start(self) -> None:
        problem = self._allowed()
        if problem:
            self.query_one("#problem", Label).update(problem)
            return
        self.dismiss(True)

    def action_decline(self) -> None:
        self.dismiss(False)
