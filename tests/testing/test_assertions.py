"""The assertion helpers: each one fails on the bug it is named after, with the evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.testing import (
    assert_allowed,
    assert_blocked,
    assert_journal_intact,
    assert_needs_override,
    assert_pulses_delivered,
    assert_verdict,
    check_protocol,
    run_session,
)
from stimctl.testing.manifest import main as manifest_main
from stimctl.testing.sessions import SessionResult
from tests.testing.docs_example import example_files


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> SessionResult:
    home = tmp_path_factory.mktemp("assertions")
    study = home / "study.toml"
    study.write_text(example_files()["protocols/our-study-10hz.toml"])
    return run_session(study, rmt=50, journal_dir=home / "journals")


def test_an_allowed_protocol_expected_blocked_says_so() -> None:
    verdict = check_protocol("np-m1-10hz-90", rmt=50)
    assert_allowed(verdict)
    with pytest.raises(AssertionError, match=r"^protocol 'np-m1-10hz-90' is allowed, expected"):
        assert_blocked(verdict)


# Needs an override (10 s trains at 10 Hz); no shipped protocol does (issue 15 item 7).
OVERRIDE_PROTOCOL = str(Path(__file__).resolve().parents[1] / "data" / "pain-10hz-10s-trains.toml")


def test_an_override_by_another_rule_names_the_deciding_one() -> None:
    verdict = check_protocol(OVERRIDE_PROTOCOL, rmt=55)
    assert_needs_override(verdict, rule="WASS1998_T4")
    with pytest.raises(AssertionError) as failure:
        assert_needs_override(verdict, rule="ITI-4")
    message = str(failure.value)
    assert "is override but not by rule ITI-4" in message
    assert "- WASS1998_T4 (override):" in message
    assert "(source: Wassermann 1998" in message


def test_an_unexpected_override_is_not_called_a_block() -> None:
    with pytest.raises(AssertionError, match="needs an override by rule WASS1998_T4, expected"):
        assert_verdict(check_protocol(OVERRIDE_PROTOCOL, rmt=55), "allow")


def test_pulse_counts_that_disagree_are_all_shown(session: SessionResult) -> None:
    assert_pulses_delivered(session, 200)
    with pytest.raises(
        AssertionError, match=r"expected 199 pulses delivered, got summary 200, journal 200, "
    ):
        assert_pulses_delivered(session, 199)


def test_an_edited_journal_fails_at_the_edited_line(session: SessionResult, tmp_path: Path) -> None:
    assert_journal_intact(session)
    lines = session.journal_path.read_bytes().splitlines(keepends=True)
    lines[3] = lines[3].replace(b'"actor":"engine"', b'"actor":"device"')
    session.journal_path.write_bytes(b"".join(lines))
    with pytest.raises(AssertionError, match="fails verification at line 4: "):
        assert_journal_intact(session)


def test_the_manifest_command_notices_a_changed_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configs = Path(__file__).resolve().parents[2] / "configs"
    assert manifest_main(["--configs", str(configs)]) == 0
    changed = tmp_path / "configs"
    changed.mkdir()
    (changed / "limits.toml").write_text("x = 1\n")
    assert manifest_main(["--configs", str(changed)]) == 1
    assert "is out of date: run with --write" in capsys.readouterr().err


def test_check_protocol_takes_an_active_threshold() -> None:
    # issue 15 item 1: ctbs-m1 is 80% AMT (Huang 2005); without an AMT it names what to measure
    assert_blocked(check_protocol("ctbs-m1", rmt=55), rule="MT-NEED")
    assert_allowed(check_protocol("ctbs-m1", rmt=55, amt=44))
