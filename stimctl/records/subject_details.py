"""What the rules need to know about a subject besides thresholds and screening: age
(birth date, or an age known on a date), recorded risk factors, and scalp-to-cortex
distances (issue 15 items 5 and 7). Checked on the way in: never clipped, never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
from typing import Any

from stimctl.errors import ConfigError
from stimctl.records.models import RISK_FACTORS, SubjectRecord
from stimctl.records.values import date_text, from_date_text, from_utc_text
from stimctl.safety.inputs import age_in_years

SUBJECT_COLUMNS = (
    "id, created_at, notes, birth_date, age_years, age_recorded_on, risk_factors, scalp_cortex_mm"
)
MAX_AGE_YEARS = 130.0
MAX_SCALP_CORTEX_MM = 60.0
"""Far above any adult head (scalp-to-cortex distances are tens of millimetres): a
larger number is a unit mistake (cm for mm, a depth in the wrong column)."""


def subject_record(row: tuple[Any, ...]) -> SubjectRecord:
    return SubjectRecord(
        id=row[0],
        created_at=from_utc_text(row[1]),
        notes=row[2],
        birth_date=None if row[3] is None else from_date_text(row[3]),
        age_years=None if row[4] is None else float(row[4]),
        age_recorded_on=None if row[5] is None else from_date_text(row[5]),
        risk_factors=tuple(json.loads(row[6])),
        scalp_cortex_mm={k: float(v) for k, v in json.loads(row[7]).items()},
    )


def check_details(
    *,
    birth_date: dt.date | None,
    age_years: float | None,
    today: dt.date,
    risk_factors: tuple[str, ...],
    scalp_cortex_mm: dict[str, float],
) -> None:
    if birth_date is not None and age_years is not None:
        raise ConfigError("give a birth date or an age, not both")
    if birth_date is not None and birth_date > today:
        raise ConfigError(f"birth date {birth_date.isoformat()} is after today")
    if age_years is not None and not (math.isfinite(age_years) and 0 <= age_years < MAX_AGE_YEARS):
        raise ConfigError(f"age {age_years!r} is not a number of years in [0, 130)")
    unknown = [r for r in risk_factors if r not in RISK_FACTORS]
    if unknown:
        raise ConfigError(f"unknown risk factor {unknown[0]!r} (known: {', '.join(RISK_FACTORS)})")
    from typing import get_args

    from stimctl.protocol.models import Site

    sites = get_args(Site)
    for site, mm in scalp_cortex_mm.items():
        if site not in sites:
            raise ConfigError(f"scalp-to-cortex site {site!r} is not one of {', '.join(sites)}")
        if not (math.isfinite(mm) and 0 < mm <= MAX_SCALP_CORTEX_MM):
            raise ConfigError(
                f"scalp-to-cortex distance {mm!r} mm at {site} is outside (0, "
                f"{MAX_SCALP_CORTEX_MM:g}] mm"
            )


def write_details(conn: sqlite3.Connection, record: SubjectRecord) -> None:
    conn.execute(
        "UPDATE subjects SET birth_date = ?, age_years = ?, age_recorded_on = ?,"
        " risk_factors = ?, scalp_cortex_mm = ? WHERE id = ?",
        (
            None if record.birth_date is None else date_text(record.birth_date),
            record.age_years,
            None if record.age_recorded_on is None else date_text(record.age_recorded_on),
            json.dumps(sorted(set(record.risk_factors))),
            json.dumps(record.scalp_cortex_mm, sort_keys=True),
            record.id,
        ),
    )


def age_on(record: SubjectRecord, day: dt.date) -> float | None:
    """Age in years on `day` (None: neither a birth date nor an age on record)."""
    return age_in_years(record.birth_date, record.age_years, record.age_recorded_on, day)
