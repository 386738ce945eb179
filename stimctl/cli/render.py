"""Human-readable output of verdicts (rich tables)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from stimctl.safety.verdict import Verdict

VERDICT_STYLE = {"allow": "bold green", "override": "bold yellow", "block": "bold red"}


def _num(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return "" if value is None else str(value)


def print_verdict(console: Console, verdict: Verdict) -> None:
    from rich.table import Table

    d = verdict.derived
    console.print(
        f"[bold]{d['name']}[/bold]: {d['title']}\n"
        f"  {d['protocol_class']}, {d['total_pulses']} pulses in {d['trains']} train(s) of "
        f"{d['pulses_per_train']}, {_num(d['session_duration_s'] / 60)} min; "
        f"{_num(d['percent_rmt'])}% RMT = {_num(d['dose_percent_mso'])}% MSO"
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
        console.print(f"[dim]  {rule}: {source}[/dim]", highlight=False)
    style = VERDICT_STYLE[verdict.verdict.value]
    console.print(f"verdict: [{style}]{verdict.verdict.value.upper()}[/]")
