"""`stimctl journal verify|show`: exit codes, one-line verdicts, session-id lookup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stimctl.cli import main

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
    assert "intact: 9 records, closed (completed)" in out
    assert head in out


def test_verify_by_session_id(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = _journal(home)
    assert main(["journal", "verify", "S-0001"]) == 0
    assert str(path) in capsys.readouterr().out


def test_verify_tampered_exits_1_with_one_line(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _journal(home)
    lines = lines_of(path)
    lines[3] = lines[3].replace(b'"index":1', b'"index":2')
    path.write_bytes(b"".join(lines))
    assert main(["journal", "verify", "S-0001"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "TAMPERED: line 4: line 4 was altered" in out[0]


def test_verify_with_a_stored_head(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, head = _journal(home)
    path.write_bytes(b"".join(lines_of(path)[:-1]))
    assert main(["journal", "verify", "S-0001"]) == 0
    assert main(["journal", "verify", "S-0001", "--head", head]) == 1
    assert "expected chain head" in capsys.readouterr().out


def test_verify_torn_last_line_exits_0_and_says_so(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _journal(home, close=False)
    path.write_bytes(path.read_bytes() + b'{"actor":')
    assert main(["journal", "verify", str(path)]) == 0
    assert "truncated last record at line 9" in capsys.readouterr().out


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
    assert len(out) == 10
    assert "session_start" in out[0]
    assert '{"index": 0, "train": 0}' in out[2]
    assert "closed (completed)" in out[-1]


def test_show_marks_the_bad_line_and_exits_1(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _journal(home)
    lines = lines_of(path)
    lines[4] = b"garbage\n"
    path.write_bytes(b"".join(lines))
    assert main(["journal", "show", str(path)]) == 1
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
