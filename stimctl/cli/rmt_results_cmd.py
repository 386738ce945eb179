"""`stimctl rmt results SUBJECT`: a subject's stored measurements beyond the threshold.

Recruitment curves, paired-pulse (SICI/ICF) results and hotspot searches from the record
store, oldest first within each kind, with the journal each was fired under (if any).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import click

from stimctl.errors import ExitCode

if TYPE_CHECKING:
    from stimctl.rmt.results_store import JournalLink


@click.command()
@click.argument("subject")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def results(subject: str, as_json: bool) -> int:
    """List SUBJECT's stored recruitment curves, paired-pulse results and hotspot searches."""
    from stimctl.records import Store, get_subject
    from stimctl.rmt.curve_store import list_curves
    from stimctl.rmt.results_store import list_hotspots, list_paired

    with Store.open() as records:
        get_subject(records, subject)  # an unknown subject is a ConfigError, not "none"
        curves = list_curves(records, subject)
        paired = list_paired(records, subject)
        hotspots = list_hotspots(records, subject)
    if as_json:
        payload = {
            "subject": subject,
            "curves": [asdict(c) for c in curves],
            "paired": [asdict(p) for p in paired],
            "hotspots": [asdict(h) for h in hotspots],
        }
        click.echo(json.dumps(payload, indent=2))
        return ExitCode.OK
    if not (curves or paired or hotspots):
        click.echo(f"no stored curves, paired-pulse results or hotspot searches for {subject}")
        return ExitCode.OK
    for c in curves:
        click.echo(
            f"{c.recorded_at}  curve    S50 {c.s50:.1f} % MSO, k {c.k:.2f}, plateau "
            f"{c.plateau_uv:.0f} uV, {c.pulses} pulses{_placement(c.placement)} "
            f"({c.source}) [{c.id}]"
        )
    for p in paired:
        low, high = p.ratio_interval
        click.echo(
            f"{p.recorded_at}  {p.paradigm:<8} {p.interval_ms:g} ms: ratio {p.ratio:.2f} "
            f"({low:.2f}-{high:.2f}), CS {p.conditioning} TS {p.test} % MSO, {p.trials} trials "
            f"({p.source}{_journal(p.journal)}) [{p.id}]"
        )
    for h in hotspots:
        click.echo(
            f"{h.recorded_at}  hotspot  {h.proposed} at {h.intensity} % MSO: median "
            f"{h.proposed_median_uv:.0f} uV, {h.positions} positions x {h.per_position} "
            f"({h.source}{_journal(h.journal)}) [{h.id}]"
        )
    return ExitCode.OK


def _placement(placement: str | None) -> str:
    return "" if placement is None else f" {placement}"


def _journal(link: JournalLink | None) -> str:
    return "" if link is None else f", journal {link.session_id}"
