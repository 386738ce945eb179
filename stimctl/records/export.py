"""Exports of a subject's course: CSV (one row per train) and JSON (everything).

Intensity appears in both % MSO (what the device was set to, from the journal) and
% RMT (against the threshold the session was dosed from), with that threshold's
provenance, coil and device on every row. The BIDS-style export is in `bids`.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

from stimctl import __version__
from stimctl.errors import ConfigError
from stimctl.records.adverse import list_adverse_events
from stimctl.records.clinical import list_thresholds, screenings_of
from stimctl.records.courses import list_courses
from stimctl.records.overrides import overrides_of
from stimctl.records.store import Store
from stimctl.records.subjects import get_subject
from stimctl.records.trains import TrainRow, course_trains
from stimctl.records.values import now_utc

TRAIN_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(TrainRow))


def export_csv(store: Store, subject_id: str, out_dir: Path) -> Path:
    """``<out_dir>/<subject>_trains.csv``: one row per train, empty cells for unknowns."""
    rows = [t for s in course_trains(store, subject_id) for t in s.trains]
    path = _prepare(out_dir) / f"{subject_id}_trains.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRAIN_COLUMNS)
        for row in rows:
            values = row.as_dict()
            writer.writerow(["" if values[c] is None else values[c] for c in TRAIN_COLUMNS])
    return path


def export_json(store: Store, subject_id: str, out_dir: Path) -> Path:
    """``<out_dir>/<subject>_course.json``: subject, thresholds, screenings, courses,
    sessions with their trains and journal heads, adverse events and overrides."""
    document = course_document(store, subject_id)
    path = _prepare(out_dir) / f"{subject_id}_course.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def course_document(store: Store, subject_id: str) -> dict[str, Any]:
    subject = get_subject(store, subject_id)
    sessions = course_trains(store, subject_id)
    return {
        "generated_by": {"name": "stimctl", "version": __version__},
        "generated_at": now_utc().isoformat(),
        "subject": plain_record(subject),
        "thresholds": [plain_record(t) for t in list_thresholds(store, subject_id)],
        "screenings": [plain_record(s) for s in screenings_of(store, subject_id)],
        "courses": [plain_record(c) for c in list_courses(store, subject_id)],
        "sessions": [
            {
                **plain_record(s.session),
                "number": s.number,
                "trains": [t.as_dict() for t in s.trains],
            }
            for s in sessions
        ],
        "adverse_events": [plain_record(e) for e in list_adverse_events(store, subject_id)],
        "overrides": [plain_record(o) for o in overrides_of(store, subject_id)],
    }


def plain_record(record: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in dataclasses.asdict(record).items():
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def _prepare(out_dir: Path) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the output directory {out_dir}: {exc}") from None
    return out_dir
