"""`stimctl records audit`: one line per difference between journals and rows, and the
exit codes (8 tampered/missing/unknown/shared, 6 only unfinished, 0 otherwise; unsigned
journals are listed, and are 8 with --require-signature)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.records import Store

from .tamper_world import World, build, record, write_journal


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    home = tmp_path / "home"
    monkeypatch.setenv("STIMCTL_HOME", str(home))
    monkeypatch.delenv("STIMCTL_KEYS_DIR", raising=False)
    return build(home)


def _audit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    capsys.readouterr()
    code = main(["records", "audit", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_a_clean_installation_has_no_finding(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = _audit(capsys)
    assert (code, lines) == (ExitCode.OK, [])
    assert err.strip() == "audit: 2 sessions, 2 journals, 0 findings"


def test_a_missing_journal(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.b.unlink()
    code, lines, _ = _audit(capsys)
    assert code == ExitCode.TAMPERED
    assert [line.split(":")[0] for line in lines] == ["MISSING sess-B"]


def test_two_rows_naming_one_journal(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    with Store.open() as store, store.write() as conn:
        conn.execute("UPDATE sessions SET journal_path = ? WHERE id = 'sess-B'", (str(world.a),))
    code, lines, _ = _audit(capsys)
    assert code == ExitCode.TAMPERED
    assert lines[0] == f"SHARED sess-B: names the journal of session sess-A: {world.a.resolve()}"
    assert lines[1].startswith(f"UNKNOWN sess-B: journal {world.b}")  # now named by no row
    assert len(lines) == 2


def test_a_running_session_is_unfinished_exit_6(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.open() as store:
        record(store, write_journal("sess-C", close=False), ended=False)
    code, lines, _ = _audit(capsys)
    assert code == ExitCode.STATE
    assert len(lines) == 1 and lines[0].startswith("UNFINISHED sess-C: unfinished: ends at")


def test_unsigned_journals_are_listed_and_fail_only_when_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "unsigned"))
    write_journal("dry-1", signer=None, start={"subject": {"id": None}})
    code, lines, _ = _audit(capsys)
    assert code == ExitCode.OK
    assert len(lines) == 1 and lines[0].startswith("UNSIGNED dry-1: intact but UNSIGNED")
    assert _audit(capsys, "--require-signature")[0] == ExitCode.TAMPERED
