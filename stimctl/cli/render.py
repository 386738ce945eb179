"""Human-readable output of verdicts (rich tables)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from stimctl.safety.verdict import Verdict

VERDICT_STYLE = {"allow": "bold green", "override": "bold yellow", "block": "bold red"}

TAG_LEGEND = {
    "V": "verified against the source named",
    "V2": "secondary: a source quoting the primary",
    "R": "recalled from the primary, not re-checked (verify against the PDF)",
    "U": "uncertain or conflicting",
    "P": "proposed by this project, not a published limit",
    "E": "envelope of a published table (a lowered cell, not a printed value)",
}
"""The status tags of safety-limits section 0, plus E for envelope cells (issue 15)."""


def _num(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return "" if value is None else str(value)


def _dose(d: dict[str, object]) -> str:
    if d.get("dose_percent_mso") is None:
        return "no dose: a threshold is missing"
    parts = [f"{_num(d[k])}% {k[-3:].upper()}" for k in ("percent_rmt", "percent_amt") if d.get(k)]
    line = " = ".join(parts) + f" = {_num(d['dose_percent_mso'])}% MSO"
    return line + (f" (threshold: {d['threshold']})" if d.get("threshold") else "")


def print_wrapped(console: Console, text: str, style: str = "", hang: int | None = None) -> None:
    """`text` wrapped to the console, continuation lines indented under its first word
    (a long source no longer runs back to column 0)."""
    import textwrap

    lead = len(text) - len(text.lstrip(" "))
    lines = textwrap.wrap(
        text.strip(),
        width=max(console.width - 1, 40),
        initial_indent=" " * lead,
        subsequent_indent=" " * (lead + 2 if hang is None else hang),
        break_on_hyphens=False,
    )
    for line in lines:
        console.print(line, style=style, markup=False, highlight=False, overflow="ignore")


def print_verdict(console: Console, verdict: Verdict) -> None:
    from rich.table import Table

    d = verdict.derived
    console.print(f"[bold]{d['name']}[/bold]: {d['title']}", highlight=False)
    print_wrapped(
        console,
        f"  {d['protocol_class']}, {d['total_pulses']} pulses in {d['trains']} train(s) of "
        f"{d['pulses_per_train']}, {_num(d['session_duration_s'] / 60)} min; {_dose(d)}",
    )
    table = Table(show_lines=False, expand=False)
    for column in ("", "rule", "finding"):
        table.add_column(column, overflow="fold")
    sources: dict[str, str] = {}
    for f in verdict.findings:
        style = VERDICT_STYLE[f.severity.value]
        table.add_row(f"[{style}]{f.severity.value}[/]", f.rule, f.message)
        sources.setdefault(f.source, f.rule)
    console.print(table)
    console.print("[dim]sources:[/dim]")
    for source, rule in sources.items():
        print_wrapped(console, f"  {rule}: {source}", style="dim")
    console.print("[dim]tags:[/dim]")
    for tag, meaning in TAG_LEGEND.items():
        print_wrapped(console, f"  [{tag}] {meaning}", style="dim")
    style = VERDICT_STYLE[verdict.verdict.value]
    console.print(f"verdict: [{style}]{verdict.verdict.value.upper()}[/]")


def print_verdict_table(*, device: str) -> None:
    """One line per shipped protocol: class, dose, verdict and what decided it, for the
    self-test's typical subject and site on `device` (so the demo table and `selftest`
    give the same verdicts for the same device)."""
    import datetime as dt

    from rich.console import Console
    from rich.table import Table

    from stimctl.configs import names_in
    from stimctl.device_profiles import load_profile
    from stimctl.protocol import load_protocol
    from stimctl.safety.engine import evaluate
    from stimctl.testing.expected import expected_site, typical_subject

    now = dt.datetime.now(dt.UTC)
    profile = load_profile(device)
    subject = typical_subject(now.date())
    site = expected_site()
    table = Table(title=f"{profile.title} ({device}), site allowing accelerated schedules")
    for column in ("protocol", "class", "% MSO", "verdict", "deciding finding"):
        table.add_column(column, overflow="fold")
    for name in names_in("protocols"):
        verdict = evaluate(load_protocol(name), subject, now=now, device=profile, site=site)
        style = VERDICT_STYLE[verdict.verdict.value]
        reason = (
            "; ".join(f"{f.rule}: {f.message}" for f in verdict.deciding())
            if verdict.verdict.value != "allow"
            else f"{len(verdict.findings)} checks passed"
        )
        table.add_row(
            name,
            str(verdict.derived["protocol_class"]),
            _num(verdict.derived["dose_percent_mso"]) or "-",
            f"[{style}]{verdict.verdict.value}[/]",
            reason,
        )
    Console().print(table)
