"""A treated subject for the export and course-report tests: real rows, real journals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from stimctl.records import (
    AdverseEventRecord,
    CourseRecord,
    Store,
    ThresholdRecord,
    begin_session,
    end_session,
    record_adverse_event,
    record_threshold,
    start_course,
)
from tests.records.conftest import DIGEST, NOW, TODAY, write_journal


def add_session(store: Store, tmp_path: Path, sid: str, day: int, **kwargs: Any) -> None:
    """A completed session of S-01 on day `day` after NOW: 2 trains of 10 pulses, 45% MSO."""
    start = NOW + dt.timedelta(days=day)
    path, head, pulses = write_journal(tmp_path / "journals", sid, start=start)
    begin_session(
        store,
        session_id=sid,
        subject_id="S-01",
        protocol_name="dep-fda-10hz",
        protocol_digest=DIGEST,
        pulses_planned=pulses,
        started_at=start,
        journal_path=path,
        device="magstim-rapid2-super-240v",
        coil="D70",
        operator_id="op-1",
        **kwargs,
    )
    end_session(
        store,
        sid,
        status="completed",
        pulses_delivered=pulses,
        chain_head=head,
        ended_at=start + dt.timedelta(minutes=20),
    )


def treat(store: Store, subject: str, tmp_path: Path) -> Store:
    """A course of S-01: three sessions (the third dosed from a new threshold), one dry
    run on the simulator, one adverse event during the second session."""
    start_course(store, CourseRecord(subject, "dep-fda-10hz", DIGEST, 30, TODAY))
    add_session(store, tmp_path, "sess-1", 0)
    add_session(store, tmp_path, "sess-2", 1)
    record_threshold(
        store,
        ThresholdRecord(subject, 52.0, "visual", TODAY + dt.timedelta(days=2), muscle="APB"),
    )
    add_session(store, tmp_path, "sess-3", 2)
    add_session(store, tmp_path, "dry-1", 3, simulated=True)
    record_adverse_event(
        store,
        AdverseEventRecord(
            subject,
            "headache",
            "mild",
            NOW + dt.timedelta(days=1, minutes=30),
            session_id="sess-2",
            notes="after the session",
        ),
    )
    return store
