"""Course records (issue 17 item 4): outcome scores on their scales (out of range refused,
never clipped), signed course changes with reasons, coil placement per session, and the
course report. Repository tests on both backends; CLI tests on SQLite."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ConfigError, ExitCode
from stimctl.records import CourseRecord, Store, list_courses, start_course
from stimctl.records.course_changes import CourseChange, change_course, changes_of
from stimctl.records.outcomes import (
    OutcomeRecord,
    TargetRecord,
    list_outcomes,
    record_outcome,
    record_target,
    targets_of,
)
from stimctl.records.scales import SCALES
from stimctl.report.course import course_report, render_course_html
from tests.identity.people import SECRETS, register
from tests.records.conftest import DIGEST, TODAY
from tests.records.treated import treat


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


@pytest.mark.parametrize(
    ("key", "low", "high"),
    [
        ("nrs", 0, 10),
        ("vas", 0, 100),
        ("phq9", 0, 27),
        ("madrs", 0, 60),
        ("hamd17", 0, 52),
        ("bpi", 0, 10),
    ],
)
def test_each_scale_has_its_published_range_and_a_source(key: str, low: float, high: float) -> None:
    scale = SCALES[key]
    assert (scale.low, scale.high) == (low, high)
    assert any(ch.isdigit() for ch in scale.source)  # a citation with a year


@pytest.mark.parametrize(
    ("key", "value"), [("phq9", 28), ("phq9", -1), ("nrs", 10.5), ("hamd17", 53), ("vas", 100.1)]
)
def test_a_value_outside_the_scale_is_refused_not_clipped(
    store: Store, subject: str, key: str, value: float
) -> None:
    with pytest.raises(ConfigError, match=f"{key}"):
        record_outcome(store, OutcomeRecord(subject, key, value, TODAY))
    assert list_outcomes(store, subject) == []


def test_a_fraction_on_a_whole_point_scale_is_refused(store: Store, subject: str) -> None:
    with pytest.raises(ConfigError, match="whole points"):
        record_outcome(store, OutcomeRecord(subject, "madrs", 12.5, TODAY))
    assert record_outcome(store, OutcomeRecord(subject, "bpi", 4.25, TODAY)).value == 4.25


def test_outcomes_join_the_active_course_and_come_back_in_date_order(
    store: Store, subject: str
) -> None:
    course = start_course(store, CourseRecord(subject, "dep-fda-10hz", DIGEST, 30, TODAY))
    later = record_outcome(store, OutcomeRecord(subject, "phq9", 9, TODAY), today=TODAY)
    record_outcome(store, OutcomeRecord(subject, "phq9", 19, TODAY - dt.timedelta(days=14)))
    assert later.course_id == course.id
    assert [o.value for o in list_outcomes(store, subject)] == [19.0, 9.0]
    with pytest.raises(ConfigError, match="future"):
        record_outcome(
            store, OutcomeRecord(subject, "phq9", 9, TODAY + dt.timedelta(days=1)), today=TODAY
        )


def test_sessions_added_update_the_course_and_keep_who_and_why(store: Store, subject: str) -> None:
    start_course(store, CourseRecord(subject, "dep-fda-10hz", DIGEST, 30, TODAY))
    change = change_course(
        store,
        CourseChange(subject, "sessions-added", "payer approved 6 more", "dr-lee", {"sessions": 6}),
    )
    assert list_courses(store, subject)[0].planned_sessions == 36
    (stored,) = changes_of(store, subject)
    assert stored.id == change.id
    assert stored.detail == {
        "sessions": 6,
        "previous_sessions": 30,
        "planned_sessions": 36,
        "delivered_so_far": 0,
    }
    assert (stored.reason, stored.changed_by) == ("payer approved 6 more", "dr-lee")


def test_protocol_and_intensity_changes_are_recorded(store: Store, subject: str) -> None:
    start_course(store, CourseRecord(subject, "dep-fda-10hz", DIGEST, 30, TODAY))
    change_course(
        store,
        CourseChange(
            subject,
            "protocol-changed",
            "no response at session 20",
            "dr-lee",
            {"protocol_name": "dep-itbs", "protocol_digest": "e" * 64},
        ),
    )
    change_course(
        store,
        CourseChange(
            subject, "intensity-changed", "tolerated", "dr-lee", {"intensity_percent_mt": 120}
        ),
    )
    assert list_courses(store, subject)[0].protocol_name == "dep-itbs"
    kinds = [(c.kind, c.detail.get("previous_protocol")) for c in changes_of(store, subject)]
    assert kinds == [("protocol-changed", "dep-fda-10hz"), ("intensity-changed", None)]


@pytest.mark.parametrize(
    ("kind", "detail", "reason", "message"),
    [
        ("sessions-added", {"sessions": 0}, "x", "whole number"),
        ("sessions-added", {"sessions": 500}, "x", "more than a course"),
        ("intensity-changed", {"intensity_percent_mt": 400}, "x", "% MT"),
        ("sessions-added", {"sessions": 2}, "  ", "reason"),
        (
            "protocol-changed",
            {"protocol_name": "dep-fda-10hz", "protocol_digest": DIGEST},
            "x",
            "already prescribes",
        ),
    ],
)
def test_a_bad_change_is_refused_and_the_course_is_unchanged(
    store: Store, subject: str, kind: str, detail: dict[str, object], reason: str, message: str
) -> None:
    start_course(store, CourseRecord(subject, "dep-fda-10hz", DIGEST, 30, TODAY))
    with pytest.raises(ConfigError, match=message):
        change_course(store, CourseChange(subject, kind, reason, "dr-lee", detail))  # type: ignore[arg-type]
    assert list_courses(store, subject)[0].planned_sessions == 30
    assert changes_of(store, subject) == []


def test_a_change_needs_an_active_course(store: Store, subject: str) -> None:
    with pytest.raises(ConfigError, match="no active course"):
        change_course(
            store, CourseChange(subject, "sessions-added", "x", "dr-lee", {"sessions": 2})
        )


def test_coil_placement_is_kept_once_per_session(
    store: Store, subject: str, tmp_path: Path
) -> None:
    treat(store, subject, tmp_path)
    record_target(store, TargetRecord("sess-1", "beam-f3", "L-DLPFC"))
    with pytest.raises(ConfigError, match="already"):
        record_target(store, TargetRecord("sess-1", "5cm-rule"))
    with pytest.raises(ConfigError, match="unknown targeting method"):
        record_target(store, TargetRecord("sess-2", "by-eye"))
    with pytest.raises(ConfigError, match="needs --notes"):
        record_target(store, TargetRecord("sess-2", "other"))
    assert {k: (v.method, v.site) for k, v in targets_of(store, subject).items()} == {
        "sess-1": ("beam-f3", "L-DLPFC")
    }


def test_the_course_report_shows_calendar_dose_outcomes_events_and_changes(
    store: Store, subject: str, tmp_path: Path
) -> None:
    treat(store, subject, tmp_path)
    record_target(store, TargetRecord("sess-1", "neuronavigation-mri", "L-DLPFC"))
    record_outcome(store, OutcomeRecord(subject, "phq9", 18, TODAY))
    record_outcome(
        store,
        OutcomeRecord(subject, "phq9", 12, TODAY + dt.timedelta(days=2)),
        today=TODAY + dt.timedelta(days=3),
    )
    change_course(
        store,
        CourseChange(subject, "sessions-added", "payer approved 6 more", "dr-lee", {"sessions": 6}),
    )
    report = course_report(store, subject)
    assert [s.session_id for s in report.sessions] == ["sess-1", "sess-2", "sess-3", "dry-1"]
    assert [s.intensity_mt for s in report.sessions][:1] == [90.0]
    assert report.months[0][0] == "November 2026"
    days = {day: cls for week in report.months[0][1] for day, cls in week if cls}
    assert days == {24: "done", 25: "done", 26: "done"}  # the dry run on the 27th is not
    html = render_course_html(report)
    for text in (
        "Course report: S-01",
        "neuronavigation (own MRI), L-DLPFC",
        "Patient Health Questionnaire-9",
        "payer approved 6 more",
        "headache",
        "(dry run)",
        "<svg",
    ):
        assert text in html, text


# --- CLI (SQLite) -------------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def home_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STIMCTL_DATABASE_URL", raising=False)
    opened = Store.open()
    from stimctl.records import ThresholdRecord, add_subject, record_threshold

    add_subject(opened, "S-01")
    record_threshold(opened, ThresholdRecord("S-01", 50.0, "emg", TODAY))
    with opened:
        yield opened


def test_cli_outcome_out_of_range_is_one_line_exit_2(
    home_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "outcome", "record", "S-01", "--scale", "phq9", "--value", "31")
    assert code == ExitCode.BAD_INPUT
    assert err.strip().splitlines() == [
        "stimctl: error: phq9 value 31 is outside the scale's range 0-27"
        " (Patient Health Questionnaire-9 (depression))"
    ]
    code, out, _ = _run(
        capsys,
        "outcome",
        "record",
        "S-01",
        "--scale",
        "phq9",
        "--value",
        "14",
        "--date",
        TODAY.isoformat(),
    )
    assert code == 0 and "recorded phq9 14" in out
    assert "phq9" in _run(capsys, "outcome", "list", "S-01")[1]


def test_cli_course_change_is_signed_by_a_physician(
    home_store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register(home_store, "dr-lee", "op-ann")
    start_course(home_store, CourseRecord("S-01", "dep-fda-10hz", DIGEST, 30, TODAY))
    argv = ("course", "change", "S-01", "--add-sessions", "6", "--reason", "payer approved 6 more")
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRETS["op-ann"] + "\n"))
    code, _, _ = _run(capsys, *argv, "--by", "op-ann", "--password-stdin")
    assert code == ExitCode.AUTH  # an operator cannot approve sessions
    assert list_courses(home_store, "S-01")[0].planned_sessions == 30
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRETS["dr-lee"] + "\n"))
    code, out, err = _run(capsys, *argv, "--by", "dr-lee", "--password-stdin")
    assert code == 0, err
    assert "+6 sessions (30 -> 36)" in out and "Dr. Ann Lee" in out
    out_file = tmp_path / "course.html"
    code, out, _ = _run(capsys, "course", "report", "S-01", "-o", str(out_file))
    assert code == 0
    html = out_file.read_text(encoding="utf-8")
    assert "approved 6 more sessions for S-01" in html  # the signature's meaning
    from stimctl.identity.signatures import signatures_of

    [signed] = signatures_of(home_store, "course_change")
    assert signed.signer_id == "dr-lee" and "6 more sessions" in signed.meaning
    assert f"course_change <code>{signed.record_id}</code>" in html


def test_cli_session_target_and_unknown_method(
    home_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "sessions", "target", "nope", "--method", "beam-f3")
    assert code == ExitCode.BAD_INPUT and "unknown session" in err
