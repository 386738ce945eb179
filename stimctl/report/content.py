"""The report as plain data: the JSON output, and the context the HTML template renders.

One function builds it so the JSON holds everything the HTML shows.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from stimctl.report.model import Moment, SessionData, TrainRow

TSV_COLUMNS = (
    "train",
    "timing",
    "planned_onset_s",
    "actual_onset_s",
    "onset_error_ms",
    "end_s",
    "pulses_planned",
    "pulses",
    "estimated",
    "intensity_percent_mso",
    "intensity_percent_rmt",
    "delivered_percent_rmt",
    "journal",
    "simulated",
)


def coil_limits() -> tuple[float | None, float | None]:
    """(warn, stop) coil temperature limits (DEV-2, DEV-1) from the safety tables."""
    from stimctl.errors import StimctlError
    from stimctl.safety.tables import limits

    try:
        device = limits().device
    except StimctlError:
        return None, None
    return device.coil_temperature_warn_c.value, device.coil_temperature_stop_c.value


def train_dict(train: TrainRow) -> dict[str, Any]:
    return {
        "train": train.index + 1,
        "timing": train.timing,
        "planned_onset_s": round(train.planned_onset_s, 6),
        "actual_onset_s": round(train.actual_onset_s, 6),
        "onset_error_ms": train.onset_error_ms,
        "end_s": None if train.end_s is None else round(train.end_s, 6),
        "pulses_planned": train.pulses_planned,
        "pulses": train.pulses,
        "estimated": train.estimated,
        "intensity_percent_mso": train.intensity_percent_mso,
        "intensity_percent_rmt": train.intensity_percent_rmt,
        "delivered_percent_rmt": train.delivered_percent_rmt,
    }


def _moment(moment: Moment) -> dict[str, Any]:
    return asdict(moment)


def report_dict(data: SessionData) -> dict[str, Any]:
    """Everything the report shows, JSON-ready (deterministic key order when dumped sorted)."""
    start = data.start
    protocol = data.protocol
    errors = sorted(abs(t.onset_error_ms) for t in data.trains)
    warn_c, stop_c = coil_limits()
    from stimctl.report import summary

    return {
        "session_id": data.session_id,
        # the top of the report (issue 16): when, serious adverse events, dose
        "when": summary.when(data),
        "serious_adverse_events": summary.serious_adverse_events(data),
        "dose": summary.dose(data),
        "journal": {
            "verifies": data.verification.ok,
            "tampered": not data.verification.ok,
            "reason": data.verification.reason,
            "chain_head": data.verification.head,
            "records": data.verification.records,
            "first_bad_line": data.verification.first_bad_line,
            "outcome": data.verification.outcome,
            "finding": data.verification.finding,
            "signed_by_key": data.verification.key_id,
        },
        "simulated": is_simulated(data),
        "study_id": start.get("study_id"),
        "software": start.get("software"),
        "operator": start.get("operator"),
        "operator_identity": start.get("operator_identity"),
        "subject": start.get("subject"),
        "protocol": {
            "name": protocol.get("name"),
            "title": protocol.get("title"),
            "schema_version": protocol.get("schema_version"),
            "digest": start.get("protocol_digest"),
            "indication": protocol.get("indication"),
            "target": protocol.get("target"),
            "coil": protocol.get("coil"),
            "intensity": protocol.get("intensity"),
            "pattern": protocol.get("pattern"),
            "source": protocol.get("source"),
        },
        "device": start.get("device"),
        "site": start.get("site"),
        "plan": start.get("plan"),
        "table_version": start.get("table_version"),
        "table_digests": start.get("table_digests"),
        # issue 13 item 5: every config file with its digest; the modified ones and their
        # approvals are shown at the top of the facts (absent in older journals)
        "configs": start.get("configs", []),
        "locally_modified": start.get("locally_modified", []),
        "config_approvals": start.get("config_approvals", []),
        "verdict": {
            "verdict": data.verdict.get("verdict"),
            "findings": data.verdict.get("findings", []),
        },
        "override": data.override,
        "signatures": signatures(data),
        "monitoring": start.get("monitoring"),
        "outcome": data.end,
        "trains": [train_dict(t) for t in data.trains],
        "trains_planned": len(data.planned_trains),
        "planned_schedule": [
            {"onset_s": onset, "duration_s": duration} for onset, duration in data.planned_trains
        ],
        "onset_error_ms": {
            "median": errors[len(errors) // 2] if errors else None,
            "max": errors[-1] if errors else None,
        },
        "intensity": [
            {"t_s": t, "percent_mso": mso, "percent_rmt": rmt} for t, mso, rmt in data.intensity
        ],
        "coil_temperature": {
            "samples": [{"t_s": t, "celsius": c} for t, c in data.coil_temperature],
            "warn_c": warn_c,
            "stop_c": stop_c,
        },
        "alarms": [_moment(m) for m in data.alarms],
        "operator_actions": [_moment(m) for m in data.operator_actions],
        "adverse_events": [_moment(m) for m in data.adverse_events],
        "states": [_moment(m) for m in data.states],
    }


def signatures(data: SessionData) -> list[dict[str, Any]]:
    """The electronic signatures the journal carries (today: the override's)."""
    signed = (data.override or {}).get("signature")
    return [signed] if isinstance(signed, dict) else []


def tsv(data: SessionData) -> str:
    """One row per train started, tab-separated, with a header; empty cells for unknowns.

    The first line is a comment with the journal's verdict (``# journal: tampered: ...``)
    and every row repeats the verdict in the ``journal`` column, so a tampered journal
    stays marked in a file that is filtered, sorted or has no rows."""
    verdict = data.verification
    lines = [
        _cell(f"# journal: {verdict.outcome}: {verdict.reason}"),
        "\t".join(TSV_COLUMNS),
    ]
    for train in data.trains:
        row = train_dict(train)
        row["train"] = train.index + 1
        row["journal"] = verdict.outcome
        row["simulated"] = is_simulated(data)
        lines.append("\t".join(_cell(row.get(column)) for column in TSV_COLUMNS))
    return "\n".join(lines) + "\n"


def is_simulated(data: SessionData) -> bool:
    """A dry run on the built-in simulator (journaled in `session_start`), not treatment."""
    return data.start.get("simulated") is True


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") or "0"
    return str(value).replace("\t", " ").replace("\n", " ")
