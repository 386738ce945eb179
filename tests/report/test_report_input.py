"""`stimctl report` on a file that is not a journal at all is bad input (exit 2), not a
tampered journal (exit 8): 8 stays for a real journal that fails verification."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from tests.journal.not_journals import NOT_JOURNALS
from tests.report.journals import real_session


@pytest.mark.parametrize("name", sorted(NOT_JOURNALS))
def test_report_on_a_file_that_is_not_a_journal_is_bad_input(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(NOT_JOURNALS[name])
    out = tmp_path / "r.html"
    assert main(["report", str(path), "-o", str(out)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "not a stimctl journal" in err and name in err
    assert "tamper" not in err.lower()
    assert not out.exists()


def test_a_real_journal_with_one_bad_line_is_still_tampered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "session").mkdir()
    journal = real_session(tmp_path / "session")
    lines = journal.read_text().splitlines()
    lines[1] = "this line was overwritten"
    copy = tmp_path / "edited.jsonl"
    copy.write_text("\n".join(lines) + "\n")
    assert main(["report", str(copy), "-o", str(tmp_path / "r.html")]) == ExitCode.TAMPERED
    assert "journal tampered" in capsys.readouterr().err
