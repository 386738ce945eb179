"""Screening answers, validity and drugs (SCR-1..SCR-5) and screening files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from stimctl.errors import ConfigError
from stimctl.safety import Screening, SiteRules
from stimctl.safety.screening_file import load_screening
from stimctl.safety.tables import screening_table
from tests.builders import TODAY, check, clean_screening, rules_at, subject, train

P = train(10, 100, 4.0, 26.0)


def test_missing_screening_blocks_only_when_required() -> None:
    bare = subject()
    assert "SCR-4" in rules_at(check(P, subject=bare, require_screening=True), "block")
    assert "SCR-4" not in {f.rule for f in check(P, subject=bare).findings}


def test_stale_screening_blocks_at_session_start() -> None:
    old = Screening("rossi-2011", TODAY - dt.timedelta(days=31), clean_screening().answers)
    verdict = check(P, subject=subject(screening=old), require_screening=True)
    assert "SCR-4" in rules_at(verdict, "block")


def test_research_needs_same_day_screening() -> None:
    yesterday = Screening("rossi-2011", TODAY - dt.timedelta(days=1), clean_screening().answers)
    verdict = check(
        P,
        subject=subject(screening=yesterday),
        site=SiteRules(mode="research"),
        require_screening=True,
    )
    assert "SCR-4" in rules_at(verdict, "block")


@pytest.mark.parametrize(
    ("item", "severity", "rule"),
    [
        ("medication_pump", "block", "SCR-1"),
        ("metal_in_head", "block", "SCR-1"),
        ("implanted_neurostimulator", "override", "SCR-3"),
        ("pregnancy", "override", "SCR-2"),
        ("hearing_problems", "allow", "SCR-2"),
    ],
)
def test_each_answer_class(item: str, severity: str, rule: str) -> None:
    verdict = check(P, subject=subject(screening=clean_screening(**{item: True})))
    assert rule in rules_at(verdict, severity)


def test_strong_hazard_drug_needs_override() -> None:
    s = Screening(
        "rossi-2011", TODAY, clean_screening().answers, medications=("Clozapine", "sertraline")
    )
    verdict = check(P, subject=subject(screening=s))
    assert "SCR-5" in rules_at(verdict, "override")
    assert "SCR-5" in rules_at(verdict, "allow")  # sertraline recorded


def _write(tmp_path: Path, answers: dict[str, bool], extra: str = "") -> Path:
    lines = ['questionnaire = "rossi-2011"', "answered_on = 2026-11-24", extra, "[answers]"]
    lines += [f"{k} = {str(v).lower()}" for k, v in answers.items()]
    path = tmp_path / "screening.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_screening_file_round_trip(tmp_path: Path) -> None:
    answers = dict.fromkeys(screening_table().items, False)
    loaded = load_screening(_write(tmp_path, answers, 'medications = ["lithium"]'))
    assert loaded.answers == answers
    assert loaded.medications == ("lithium",)


def test_screening_file_with_a_missing_answer_names_it(tmp_path: Path) -> None:
    answers = dict.fromkeys(screening_table().items, False)
    del answers["syncope"]
    with pytest.raises(ConfigError, match=r"screening.toml: answers.syncope: missing answer"):
        load_screening(_write(tmp_path, answers))


def test_screening_file_with_a_string_answer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'questionnaire = "rossi-2011"\nanswered_on = 2026-11-24\n[answers]\nsyncope = "no"\n'
    )
    with pytest.raises(ConfigError, match=r"answers.syncope"):
        load_screening(path)
