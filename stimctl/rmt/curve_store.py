"""Recruitment curves in the record store (table `recruitment_curves`, issue 19 item 2).

Only curves measured on a person (the operator's, or a replayed recording when asked)
are stored; a virtual subject's never is, as for thresholds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from stimctl.errors import RecordsError
from stimctl.records import Store
from stimctl.records.subjects import require_subject
from stimctl.records.values import new_id, now_utc, utc_text
from stimctl.rmt.curve import CurveResult

CurveSource = Literal["operator", "replay"]
Placement = Literal["fixed", "adaptive"]


@dataclass(frozen=True)
class StoredCurve:
    id: str
    subject_id: str
    recorded_at: str
    rmt: float
    s50: float
    k: float
    plateau_uv: float
    pulses: int
    source: str
    placement: Placement | None
    """'fixed' levels or 'adaptive' (`--adaptive N`); None for curves stored before the
    store recorded it."""


def record_curve(
    store: Store, subject_id: str, result: CurveResult, *, source: CurveSource
) -> StoredCurve:
    """Store one curve for a subject on record (an unknown subject is a ConfigError)."""
    curve_id = new_id()
    recorded_at = utc_text(now_utc())
    plan, fit = result.plan, result.fit
    pulses = [[p.intensity, p.amplitude_uv, p.time_s] for p in result.pulses]
    placement: Placement = "fixed" if plan.adaptive_pulses is None else "adaptive"
    with store.write() as conn:
        require_subject(conn, subject_id)
        conn.execute(
            "INSERT INTO recruitment_curves (id, subject_id, recorded_at, rmt_percent_mso,"
            " levels_percent_rmt, per_level, max_intensity, source, s50_percent_mso,"
            " k_percent_mso, plateau_uv, pulses, placement)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                curve_id,
                subject_id,
                recorded_at,
                plan.rmt,
                json.dumps(list(plan.levels_percent_rmt)),
                plan.per_level,
                plan.max_intensity,
                source,
                fit.s50,
                fit.k,
                fit.plateau_uv,
                json.dumps(pulses),
                placement,
            ),
        )
    return StoredCurve(
        curve_id, subject_id, recorded_at, plan.rmt, fit.s50, fit.k, fit.plateau_uv,
        len(pulses), source, placement,
    )  # fmt: skip


def list_curves(store: Store, subject_id: str) -> list[StoredCurve]:
    """A subject's stored curves, oldest first."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT id, subject_id, recorded_at, rmt_percent_mso, s50_percent_mso,"
            " k_percent_mso, plateau_uv, pulses, source, placement FROM recruitment_curves"
            " WHERE subject_id = ? ORDER BY recorded_at, id",
            (subject_id,),
        ).fetchall()
    return [
        StoredCurve(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            len(json.loads(r[7])),
            r[8],
            _placement(r[9]),
        )
        for r in rows
    ]


def _placement(value: object) -> Placement | None:
    if value is None:
        return None
    if value == "fixed":
        return "fixed"
    if value == "adaptive":
        return "adaptive"
    # the column's CHECK forbids anything else: a row that has it is inconsistent (exit 7)
    raise RecordsError(f"recruitment curve placement {value!r} is not fixed or adaptive")
