"""An example course for the course-report screenshot (docs/screenshots.md).

Builds a depression course in $STIMCTL_HOME (which must be a throwaway folder): 15
sessions over three weeks with real signed-off records and real journals, weekly PHQ-9
and MADRS scores, six sessions added on a payer's approval, an intensity change, one
session cut short, one dry run, a headache. Then `stimctl course report EX-01`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stimctl.clock import VirtualClock
from stimctl.identity import add_operator, authenticate, authorize_signature, insert_signature
from stimctl.identity.signatures import RecordType
from stimctl.journal import Journal, events
from stimctl.records import (
    AdverseEventRecord,
    CourseRecord,
    Store,
    ThresholdRecord,
    add_subject,
    begin_session,
    end_session,
    record_adverse_event,
    record_threshold,
    start_course,
)
from stimctl.records.course_changes import CourseChange, change_course
from stimctl.records.outcomes import OutcomeRecord, TargetRecord, record_outcome, record_target

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
DIGEST = "a" * 64


def journal(
    folder: Path, sid: str, start: dt.datetime, trains: int, mso: float
) -> tuple[Path, str, int]:
    clock = VirtualClock(start=1000.0)
    origin = clock.now()

    def wall() -> dt.datetime:
        return start + dt.timedelta(seconds=clock.now() - origin)

    delivered = 0
    with Journal.create(folder, sid, clock=clock, utc_now=wall) as j:
        j.append(events.SESSION_START, {"session_id": sid, "subject_id": "EX-01"})
        for index in range(trains):
            j.append(
                events.TRAIN_START,
                {
                    "train": index,
                    "pulses_planned": 40,
                    "frequency_hz": 10.0,
                    "intensity_pct_mso": mso,
                },
            )
            for _ in range(40):
                j.append(events.PULSE, {"train": index, "index": delivered})
                delivered += 1
                clock.advance(0.1)
            j.append(events.TRAIN_END, {"train": index, "pulses": 40})
            clock.advance(26.0)
        j.append(events.SESSION_END, {"status": "completed", "pulses_delivered": delivered})
        return j.path, j.head, delivered


def main() -> None:
    home = Path(os.environ["STIMCTL_HOME"])
    store = Store.open()
    add_operator(
        store, "dr-lee", name="Dr. Ann Lee", role="physician", secret="lee-pass-1", by=None
    )
    lee = authenticate(store, "dr-lee", "lee-pass-1", purpose="example")
    add_operator(store, "op-ann", name="Ann Operator", role="operator", secret="ann-pass-1", by=lee)
    add_subject(store, "EX-01")
    record_threshold(
        store, ThresholdRecord("EX-01", 48.0, "emg", START.date(), criterion="50 uV in 5 of 10")
    )

    def signed(meaning: str, record_type: RecordType) -> Callable[[Any, Any], object]:
        grant = authorize_signature(store, "dr-lee", "lee-pass-1", meaning=meaning)
        return lambda conn, rec: insert_signature(
            conn,
            grant,
            meaning=meaning,
            record_type=record_type,
            record_id=rec.id,
            content={"id": rec.id},
        )

    meaning = "prescribed course of dep-fda-10hz, 10 sessions from 2026-11-02 for EX-01"
    start_course(
        store,
        CourseRecord("EX-01", "dep-fda-10hz", DIGEST, 10, START.date()),
        within=signed(meaning, "course"),
    )
    record_outcome(store, OutcomeRecord("EX-01", "phq9", 21, START.date(), notes="baseline"))
    record_outcome(store, OutcomeRecord("EX-01", "madrs", 32, START.date(), notes="baseline"))
    day, number = START, 0
    while number < 15:
        if day.weekday() < 5:
            number += 1
            sid = f"EX-01-s{number:02d}"
            short = number == 6
            path, head, pulses = journal(
                home / "journals", sid, day, 5 if short else 10, 58.0 if number > 8 else 54.0
            )
            begin_session(
                store, session_id=sid, subject_id="EX-01", protocol_name="dep-fda-10hz",
                protocol_digest=DIGEST, pulses_planned=400, started_at=day, journal_path=path,
                device="magstim-rapid2", coil="D70 Alpha", operator_id="op-ann",
            )  # fmt: skip
            end_session(
                store, sid, status="stopped" if short else "completed", pulses_delivered=pulses,
                chain_head=head, ended_at=day + dt.timedelta(minutes=19),
            )  # fmt: skip
            method = "neuronavigation-mri" if number == 1 else "beam-f3"
            record_target(store, TargetRecord(sid, method, "L-DLPFC", recorded_by="op-ann"))
            if number == 6:
                record_adverse_event(
                    store,
                    AdverseEventRecord(
                        "EX-01",
                        "headache",
                        "mild",
                        day + dt.timedelta(minutes=10),
                        session_id=sid,
                        notes="stopped at the subject's request",
                    ),
                )
            if number == 8:
                change = CourseChange(
                    "EX-01",
                    "intensity-changed",
                    "tolerated well; to 120% MT",
                    "dr-lee",
                    {"intensity_percent_mt": 120},
                    changed_at=day + dt.timedelta(hours=1),
                )
                change_course(
                    store,
                    change,
                    within=signed("changed the intensity of EX-01's course to 120% MT", "other"),
                )
            if number == 10:
                change = CourseChange(
                    "EX-01",
                    "sessions-added",
                    "payer approved 6 more",
                    "dr-lee",
                    {"sessions": 6},
                    changed_at=day + dt.timedelta(hours=1),
                )
                change_course(
                    store, change, within=signed("approved 6 more sessions for EX-01", "other")
                )
            if number % 5 == 0:
                record_outcome(
                    store, OutcomeRecord("EX-01", "phq9", 21 - number * 0.8 // 1, day.date())
                )
                record_outcome(
                    store, OutcomeRecord("EX-01", "madrs", 32 - number * 1.2 // 1, day.date())
                )
        day += dt.timedelta(days=1)
    sid = "EX-01-dry"
    path, head, pulses = journal(home / "journals", sid, day, 2, 50.0)
    begin_session(
        store, session_id=sid, subject_id="EX-01", protocol_name="dep-fda-10hz",
        protocol_digest=DIGEST, pulses_planned=80, started_at=day, journal_path=path,
        simulated=True,
    )  # fmt: skip
    end_session(
        store, sid, status="completed", pulses_delivered=pulses, chain_head=head, ended_at=day
    )
    store.close()
    print("example course EX-01 written to", home, file=sys.stderr)


if __name__ == "__main__":
    main()
