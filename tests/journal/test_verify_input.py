"""`stimctl journal verify` and `journal show` on a file that is not a journal at all is
bad input (exit 2, one line), not a tampered journal (exit 8): 8 stays for a real journal
that fails verification, also one emptied in the journals folder. The same rule as
`report`."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode

from .conftest import lines_of, write_session
from .not_journals import NOT_JOURNALS


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.mark.parametrize("command", ["verify", "show"])
@pytest.mark.parametrize("name", sorted(NOT_JOURNALS))
def test_verify_on_a_file_that_is_not_a_journal_is_bad_input(
    name: str, command: str, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `journal show` said "TAMPERED" (exit 8) for these until it shared verify's check.
    path = tmp_path / name
    path.write_bytes(NOT_JOURNALS[name])
    assert main(["journal", command, str(path)]) == ExitCode.BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"{path} is not a stimctl journal" in err
    assert "tamper" not in err.lower()


def test_a_real_journal_with_one_bad_line_is_still_tampered(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = write_session(tmp_path / "elsewhere", "S-0001")
    lines = lines_of(path)
    lines[1] = b"this line was overwritten\n"
    path.write_bytes(b"".join(lines))
    assert main(["journal", "verify", str(path)]) == ExitCode.TAMPERED
    assert "TAMPERED" in capsys.readouterr().out


def test_a_journal_emptied_in_the_journals_folder_is_tampered(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = write_session(home / "journals", "S-0001")
    path.write_bytes(b"")
    assert main(["journal", "verify", str(path)]) == ExitCode.TAMPERED
    assert "TAMPERED" in capsys.readouterr().out
