"""The row of a session on record: claimed before the device opens, closed if it cannot."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.records import Store, add_subject
from tests.session.records_helpers import (
    PASSWORD,
    SIGN_IN,
    enroll,
    init_signing_key,
    sessions_of,
    sign_in_ready,
    write_protocol,
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STIMCTL_SITE", raising=False)
    return tmp_path / "home"


def test_a_device_that_cannot_be_opened_closes_the_claimed_row(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    enroll(home)
    # a clinical run on a stimulator: the operator signs in, the journal is signed
    sign_in_ready(home)
    init_signing_key(home)
    protocol = str(write_protocol(tmp_path, pulses=2))
    missing = str(tmp_path / "no-such-tty")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    code, _, err = run(
        capsys, "run", protocol, "--subject", "S-01", "--device", "magpro-x100", "--port",
        missing, "--headless", "--yes", *SIGN_IN,
    )  # fmt: skip
    assert code == ExitCode.CONNECTION and "cannot open serial port" in err, err
    [row] = sessions_of(home)
    assert row.status == "aborted" and row.pulses_delivered == 0
    assert row.close_note is not None and row.close_note.startswith("not started:")
    # an aborted start delivered nothing: the next session needs no override
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    code, _, err = run(
        capsys, "run", protocol, "--subject", "S-01", "--device", "magpro-x100", "--port",
        "stimsim://magpro-x100", "--headless", "--yes", *SIGN_IN,
    )  # fmt: skip
    assert code == 0, err


def test_a_clinical_session_takes_the_rmt_from_the_records_only(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enroll(home, rmt=40.0)
    protocol = str(write_protocol(tmp_path, pulses=2))
    code, _, err = run(capsys, "dry-run", protocol, "--subject", "S-01", "--rmt", "30")
    assert code == ExitCode.BAD_INPUT and "RMT from the subject's records" in err
    assert sessions_of(home) == []


def test_a_subject_without_a_threshold_has_no_rmt_source(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.open(home / "stimctl.db") as store:
        add_subject(store, "S-01")
    protocol = str(write_protocol(tmp_path, pulses=2))
    code, _, err = run(capsys, "dry-run", protocol, "--subject", "S-01")
    assert code == ExitCode.BAD_INPUT and "no motor threshold" in err
