"""`course start` checks the prescription on the subject's records (issue 12 item 11)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.records import Store, list_courses, overrides_of
from tests.identity.people import SECRETS, register
from tests.session.records_helpers import enroll

# a protocol whose standard session needs an override (WASS1998_T4 '>' cell, issue 15)
OVERRIDE_PROTOCOL = str(Path(__file__).resolve().parents[1] / "data" / "pain-10hz-10s-trains.toml")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    if args[:2] == ("course", "start"):
        # a prescription is signed by a physician with a fresh password (issue 13)
        args = (*args, "--by", "dr-lee", "--password-stdin")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(SECRETS["dr-lee"] + "\n"))
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STIMCTL_SITE", raising=False)
    with Store.open() as store:
        register(store, "dr-lee")
    return tmp_path / "home"


def courses(home: Path) -> int:
    with Store.open(home / "stimctl.db") as store:
        return len(list_courses(store, "S-01"))


def test_a_blocked_protocol_is_not_prescribed(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enroll(home, rmt=52.0)
    depths = ("--scalp-cortex", "M1-hand=14", "--scalp-cortex", "L-DLPFC=16")
    assert run(capsys, "subject", "edit", "S-01", *depths)[0] == 0
    # SAINT at a site that does not allow accelerated schedules: `check` blocks (SES-3)
    code, _, err = run(capsys, "course", "start", "S-01", "dep-saint", "--sessions", "50")
    assert code == ExitCode.BLOCKED and "SES-3" in err
    assert len(err.strip().splitlines()) == 1
    assert courses(home) == 0


def test_a_subject_without_a_threshold_gets_no_course(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "subject", "add", "S-01")
    code, _, err = run(capsys, "course", "start", "S-01", "np-m1-10hz-90", "--sessions", "10")
    assert code == ExitCode.BAD_INPUT and "no motor threshold" in err
    assert courses(home) == 0


def test_an_unreviewed_seizure_blocks_the_prescription(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enroll(home, rmt=52.0)
    run(capsys, "ae", "record", "S-01", "--kind", "seizure", "--severity", "severe")
    code, _, err = run(capsys, "course", "start", "S-01", "np-m1-10hz-90", "--sessions", "10")
    assert code == ExitCode.BLOCKED and "SES-4" in err
    assert courses(home) == 0


def test_a_device_that_cannot_deliver_it_blocks(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enroll(home, rmt=90.0)
    # 120% of 90% MSO is beyond any stimulator's output
    code, _, err = run(
        capsys, "course", "start", "S-01", "dep-fda-10hz", "--sessions", "30",
        "--device", "magpro-x100",
    )  # fmt: skip
    assert code == ExitCode.BLOCKED and "not deliverable" in err
    assert courses(home) == 0


def test_an_override_verdict_needs_an_operator_and_a_reason_and_is_stored(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enroll(home, rmt=50.0)
    code, _, err = run(capsys, "course", "start", "S-01", OVERRIDE_PROTOCOL, "--sessions", "5")
    assert code == ExitCode.OVERRIDE_REQUIRED and "override required" in err
    assert courses(home) == 0
    code, _, err = run(
        capsys, "course", "start", "S-01", OVERRIDE_PROTOCOL, "--sessions", "5",
        "--override-operator", "dr-lee",
    )  # fmt: skip
    assert code == ExitCode.OVERRIDE_REQUIRED
    code, out, err = run(
        capsys, "course", "start", "S-01", OVERRIDE_PROTOCOL, "--sessions", "5",
        "--override-operator", "dr-lee", "--override-reason", "Hodaj regime, 20 Hz",
    )  # fmt: skip
    assert code == 0, err
    assert "override of" in out
    assert courses(home) == 1
    with Store.open(home / "stimctl.db") as store:
        [override] = overrides_of(store, "S-01")
    assert override.operator_id == "dr-lee" and override.reason == "Hodaj regime, 20 Hz"
    assert override.rules and override.at.date() == dt.datetime.now(dt.UTC).date()


def test_an_allowed_prescription_starts(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    enroll(home, rmt=52.0)
    code, out, err = run(capsys, "course", "start", "S-01", "np-m1-10hz-90", "--sessions", "10")
    assert code == 0, err
    assert "started course" in out and courses(home) == 1


def test_an_override_named_for_someone_else_is_no_acceptance(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The prescriber signs with a password; a name typed into --override-operator was
    # recorded as that person's acceptance without their credential or signature.
    enroll(home, rmt=50.0)
    code, _, err = run(
        capsys, "course", "start", "S-01", OVERRIDE_PROTOCOL, "--sessions", "5",
        "--override-operator", "dr-nobody", "--override-reason", "Hodaj regime, 20 Hz",
    )  # fmt: skip
    assert code == ExitCode.AUTH
    assert "prescribing physician" in err and len(err.strip().splitlines()) == 1
    assert courses(home) == 0
    with Store.open(home / "stimctl.db") as store:
        assert overrides_of(store, "S-01") == []


def test_an_accepted_override_is_part_of_the_prescribers_signature(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stimctl.identity import signatures_of

    enroll(home, rmt=50.0)
    code, _, err = run(
        capsys, "course", "start", "S-01", OVERRIDE_PROTOCOL, "--sessions", "5",
        "--override-operator", "dr-lee", "--override-reason", "Hodaj regime, 20 Hz",
    )  # fmt: skip
    assert code == 0, err
    with Store.open(home / "stimctl.db") as store:
        [course] = list_courses(store, "S-01")
        [signature] = signatures_of(store, "course", course.id)
    assert "accepting the override of" in signature.meaning
    assert "Hodaj regime, 20 Hz" in signature.meaning
