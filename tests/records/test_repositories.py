"""Repository functions: what they refuse, and what they return."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import pytest

from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError, StateError
from stimctl.journal import Journal, events
from stimctl.records import (
    AdverseEventRecord,
    CourseRecord,
    OverrideRecord,
    Store,
    ThresholdRecord,
    add_subject,
    begin_session,
    close_course,
    end_session,
    get_session,
    get_subject,
    journal_override,
    list_adverse_events,
    list_sessions,
    override_payload,
    overrides_of,
    record_adverse_event,
    record_override,
    record_screening,
    record_threshold,
    review_adverse_event,
    screenings_of,
    start_course,
    subject_for,
    update_session_progress,
)
from stimctl.records.clinical import screening_from
from tests.builders import clean_screening
from tests.records.conftest import DIGEST, NOW, TODAY


@pytest.fixture
def store(any_store: Store) -> Store:
    """Every test here runs on SQLite and on PostgreSQL (issue 17)."""
    return any_store


def test_an_unknown_subject_is_a_config_error_naming_it(store: Store) -> None:
    with pytest.raises(ConfigError, match="unknown subject 'S-404'"):
        get_subject(store, "S-404")
    with pytest.raises(ConfigError, match="unknown subject"):
        record_threshold(store, ThresholdRecord("S-404", 50.0, "emg", TODAY))


def test_a_subject_id_is_added_once_and_must_be_a_pseudonym(store: Store) -> None:
    add_subject(store, "S-01")
    with pytest.raises(ConfigError, match="already exists"):
        add_subject(store, "S-01")
    with pytest.raises(ConfigError, match="invalid subject id"):
        add_subject(store, "Jane Doe")


@pytest.mark.parametrize("value", [100.5, 120.0, 0.0, -5.0, math.nan, math.inf])
def test_a_threshold_outside_0_100_mso_is_refused_not_clipped(
    store: Store, subject: str, value: float
) -> None:
    with pytest.raises(ConfigError, match="% MSO"):
        record_threshold(store, ThresholdRecord(subject, value, "emg", TODAY))
    assert subject_for(store, subject).rmt.percent_mso == 50.0


def test_exactly_100_mso_is_a_valid_threshold(store: Store, subject: str) -> None:
    record_threshold(store, ThresholdRecord(subject, 100.0, "emg", TODAY))
    assert subject_for(store, subject).rmt.percent_mso == 100.0


def test_the_latest_threshold_is_by_measurement_date_with_its_provenance(
    store: Store, subject: str
) -> None:
    record_threshold(
        store,
        ThresholdRecord(
            subject, 60.0, "visual", TODAY - dt.timedelta(days=3), device="magstim-200"
        ),
    )  # recorded later but measured earlier
    rmt = subject_for(store, subject).rmt
    assert (rmt.percent_mso, rmt.method) == (50.0, "emg")


def test_screening_round_trips_and_feeds_the_subject(store: Store, subject: str) -> None:
    answers = clean_screening(hearing_problems=True)
    stored = record_screening(
        store, dataclasses.replace(screening_from(subject, answers), reviewer="dr-lee")
    )
    assert screenings_of(store, subject) == [stored]
    screening = subject_for(store, subject).screening
    assert screening is not None
    assert screening.answers["hearing_problems"] is True
    assert screening.reviewer == "dr-lee"


def test_one_active_course_per_subject(store: Store, subject: str) -> None:
    start_course(store, CourseRecord(subject, "dep-saint", DIGEST, 50, TODAY))
    with pytest.raises(ConfigError, match="already has an active course"):
        start_course(store, CourseRecord(subject, "dep-fda-10hz", DIGEST, 36, TODAY))
    close_course(store, subject)
    start_course(store, CourseRecord(subject, "dep-fda-10hz", DIGEST, 36, TODAY))


def _begin(store: Store, subject: str, session_id: str = "sess-1") -> str:
    return begin_session(
        store,
        session_id=session_id,
        subject_id=subject,
        protocol_name="dep-fda-10hz",
        protocol_digest=DIGEST,
        pulses_planned=3000,
        started_at=NOW,
        operator_id="op-1",
    ).id


def test_session_lifecycle_begin_progress_end(store: Store, subject: str) -> None:
    start_course(store, CourseRecord(subject, "dep-fda-10hz", DIGEST, 36, TODAY))
    sid = _begin(store, subject)
    row = get_session(store, sid)
    assert (row.status, row.pulses_delivered) == ("running", 0)
    assert row.threshold_id is not None and row.course_id is not None
    update_session_progress(store, sid, pulses_delivered=1200, chain_head="1" * 64)
    ended = end_session(
        store,
        sid,
        status="stopped",
        pulses_delivered=1240,
        chain_head="2" * 64,
        ended_at=NOW + dt.timedelta(minutes=9),
    )
    assert (ended.status, ended.pulses_delivered, ended.chain_head) == ("stopped", 1240, "2" * 64)
    assert list_sessions(store, subject) == [ended]


def test_a_session_is_ended_once_and_its_count_never_goes_down(store: Store, subject: str) -> None:
    sid = _begin(store, subject)
    update_session_progress(store, sid, pulses_delivered=100, chain_head="1" * 64)
    with pytest.raises(ConfigError, match="cannot go down"):
        update_session_progress(store, sid, pulses_delivered=50, chain_head="1" * 64)
    with pytest.raises(ConfigError, match="status"):
        end_session(
            store, sid, status="finished", pulses_delivered=100, chain_head="1" * 64, ended_at=NOW
        )
    end_session(
        store, sid, status="completed", pulses_delivered=100, chain_head="1" * 64, ended_at=NOW
    )
    with pytest.raises(StateError, match="already ended"):
        end_session(
            store, sid, status="completed", pulses_delivered=100, chain_head="1" * 64, ended_at=NOW
        )


def test_a_bad_chain_head_or_session_id_is_refused(store: Store, subject: str) -> None:
    with pytest.raises(ConfigError, match="chain head"):
        begin_session(
            store,
            subject_id=subject,
            protocol_name="p",
            protocol_digest=DIGEST,
            pulses_planned=1,
            started_at=NOW,
            chain_head="not-a-hash",
        )
    with pytest.raises(ConfigError, match="invalid session id"):
        _begin(store, subject, session_id="../escape")


def test_overrides_need_an_operator_and_a_reason(store: Store, subject: str) -> None:
    with pytest.raises(ConfigError, match="reason"):
        record_override(store, OverrideRecord(subject, ("SES-1",), "dr-lee", "  ", NOW))
    with pytest.raises(ConfigError, match="invalid operator id"):
        record_override(store, OverrideRecord(subject, ("SES-1",), "", "second session", NOW))
    stored = record_override(
        store, OverrideRecord(subject, ("SES-1", "PUL-1"), "dr-lee", "make-up session", NOW)
    )
    assert overrides_of(store, subject) == [stored]
    payload = override_payload(stored)
    assert payload["signer"] == "dr-lee" and payload["rules"] == ["SES-1", "PUL-1"]


def test_adverse_events_validate_kind_and_review_once(store: Store, subject: str) -> None:
    with pytest.raises(ConfigError, match="kind"):
        record_adverse_event(store, AdverseEventRecord(subject, "fit", "severe", NOW))
    sid = _begin(store, subject)
    event = record_adverse_event(
        store,
        AdverseEventRecord(subject, "seizure", "severe", NOW, session_id=sid, pulse_index=812),
    )
    assert event.blocks
    with pytest.raises(ConfigError, match="notes"):
        review_adverse_event(store, event.id, reviewed_by="dr-lee", notes="")
    reviewed = review_adverse_event(store, event.id, reviewed_by="dr-lee", notes="resume")
    assert not reviewed.blocks and reviewed.reviewed_by == "dr-lee"
    with pytest.raises(StateError, match="already reviewed"):
        review_adverse_event(store, event.id, reviewed_by="dr-lee", notes="again")
    assert list_adverse_events(store, subject)[0].pulse_index == 812


def test_an_adverse_event_in_another_subjects_session_is_refused(
    store: Store, subject: str
) -> None:
    add_subject(store, "S-02")
    sid = _begin(store, subject)
    with pytest.raises(ConfigError, match="belongs to subject"):
        record_adverse_event(
            store, AdverseEventRecord("S-02", "headache", "mild", NOW, session_id=sid)
        )


def test_an_override_is_stored_and_journaled_signed_by_its_operator(
    store: Store, subject: str, tmp_path: Path
) -> None:
    clock = VirtualClock()
    with Journal.create(tmp_path, "sess-1", clock=clock) as journal:
        journal.append(events.SESSION_START, {"session_id": "sess-1"})
        sid = _begin(store, subject)
        record = journal_override(
            store,
            journal,
            OverrideRecord(subject, ("SES-1",), "dr-lee", "make-up session", NOW, session_id=sid),
        )
    assert record["event"] == "override" and record["actor"] == "operator:dr-lee"
    stored = overrides_of(store, subject)[0]
    assert record["payload"]["override_id"] == stored.id
    assert stored.session_id == sid


def test_a_journaled_override_without_a_reason_writes_neither(
    store: Store, subject: str, tmp_path: Path
) -> None:
    with Journal.create(tmp_path, "sess-1", clock=VirtualClock()) as journal:
        journal.append(events.SESSION_START, {"session_id": "sess-1"})
        with pytest.raises(ConfigError, match="reason"):
            journal_override(store, journal, OverrideRecord(subject, ("SES-1",), "dr-lee", "", NOW))
        assert journal.records == 1
    assert overrides_of(store, subject) == []
