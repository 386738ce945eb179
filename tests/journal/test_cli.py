"""`stimctl journal verify|show`: exit codes, one-line verdicts, session-id lookup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode

from .conftest import lines_of, write_session


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path))
    return tmp_path


def _journal(home: Path, **kwargs: object) -> tuple[Path, str]:
    return write_session(home / "journals", "S-0001", **kwargs)  # type: ignore[arg-type]


def test_verify_intact_exits_0(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, head = _journal(home)
    assert main(["journal", "verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "intact but UNSIGNED: 10 records, completed, 5 pulses" in out
    assert head in out


def test_verify_by_session_id(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = _journal(home)
    assert main(["journal", "verify", "S-0001"]) == 0
    assert str(path) in capsys.readouterr().out


def test_verify_tampered_exits_8_with_one_line(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _journal(home)
    lines = lines_of(path)
    lines[3] = lines[3].replace(b'"index":1', b'"index":2')
    path.write_bytes(b"".join(lines))
    assert main(["journal", "verify", "S-0001"]) == ExitCode.TAMPERED
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "TAMPERED: line 4: line 4 was altered" in out[0]


def test_verify_with_a_stored_head(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, head = _journal(home)
    assert main(["journal", "verify", "S-0001", "--head", head]) == 0
    lines = lines_of(path)
    lines[-1] = lines[-1].replace(b'"sealed_by":"session"', b'"sealed_by":"recovery"')
    path.write_bytes(b"".join(lines))  # an edit of the last record: only a head sees it
    capsys.readouterr()
    assert main(["journal", "verify", "S-0001", "--head", head]) == ExitCode.TAMPERED
    assert "expected chain head" in capsys.readouterr().out


def test_verify_torn_last_line_exits_6_unfinished_and_says_so(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _journal(home, close=False)
    path.write_bytes(path.read_bytes() + b'{"actor":')
    assert main(["journal", "verify", str(path)]) == ExitCode.STATE
    assert "unfinished: ends at record 8 (train_end)" in capsys.readouterr().out


@pytest.mark.parametrize("target", ["no-such-session", "/no/such/file.jsonl"])
def test_verify_missing_exits_2_with_one_line_on_stderr(
    home: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    assert main(["journal", "verify", target]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("stimctl: error: no journal at")
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err


def test_verify_unreadable_exits_2(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (home / "journals").mkdir()
    assert main(["journal", "verify", str(home / "journals")]) == 2
    assert "cannot read journal" in capsys.readouterr().err


def test_verify_bad_head_exits_2(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _journal(home)
    assert main(["journal", "verify", "S-0001", "--head", "xyz"]) == 2
    assert "not a SHA-256" in capsys.readouterr().err


def test_show_lists_every_record(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _journal(home)
    assert main(["journal", "show", "S-0001"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 11
    assert "session_start" in out[0]
    assert "seal" in out[-2]
    assert '{"index": 0, "train": 0}' in out[2]
    assert "closed (completed), sealed" in out[-1]


def test_show_marks_the_bad_line_and_exits_8(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _journal(home)
    lines = lines_of(path)
    lines[4] = b"garbage\n"
    path.write_bytes(b"".join(lines))
    assert main(["journal", "show", str(path)]) == ExitCode.TAMPERED
    out = capsys.readouterr().out.splitlines()
    assert out[4].startswith("!!")
    assert "unparseable: garbage" in out[4]
    assert "TAMPERED: line 5" in out[-1]


def test_show_json(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _journal(home, close=False)
    path = home / "journals" / "S-0001.jsonl"
    path.write_bytes(path.read_bytes() + b'{"torn')
    assert main(["journal", "show", "--json", "S-0001"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["truncated"] is True
    assert report["closed"] is False
    assert [e["seq"] for e in report["entries"]] == list(range(8))
    assert report["entries"][2]["payload"] == {"train": 0, "index": 0}
