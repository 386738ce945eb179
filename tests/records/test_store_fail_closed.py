"""The store never starts afresh over a file that held records (issue 12 item 9).

Only a path that does not exist is created; an existing file that is empty, not SQLite,
or another application's SQLite is refused with exit 7 and one line, through the CLI.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from stimctl.errors import ExitCode, RecordsError
from stimctl.records import Store, add_subject, list_subjects


def stimctl(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stimctl", *args],
        env={**os.environ, "STIMCTL_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _not_sqlite(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 a zip file, not a database" * 100)


def _other_apps_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.execute("CREATE TABLE sessions (id TEXT)")
    conn.commit()
    conn.close()


def _empty_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.execute("VACUUM")  # a valid, empty SQLite file (one page)
    conn.close()
    assert path.stat().st_size > 0


@pytest.mark.parametrize(
    ("make", "text"),
    [
        (_empty, "is empty (0 bytes)"),
        (_not_sqlite, "is corrupted"),
        (_other_apps_sqlite, "not a stimctl record store"),
        (_empty_sqlite, "not a stimctl record store"),
    ],
)
@pytest.mark.parametrize("command", [("subject", "list"), ("sessions", "reconcile")])
def test_an_existing_foreign_or_empty_file_is_refused_with_exit_7(
    tmp_path: Path, make: object, text: str, command: tuple[str, ...]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    db = home / "stimctl.db"
    make(db)  # type: ignore[operator]
    before = db.read_bytes()
    result = stimctl(home, *command)
    assert result.returncode == ExitCode.RECORDS, result.stderr
    assert text in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert db.read_bytes() == before  # nothing written over it


def test_a_truncated_store_does_not_lose_an_adverse_event_block(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert stimctl(home, "subject", "add", "S-01").returncode == 0
    assert (
        stimctl(home, "ae", "record", "S-01", "--kind", "seizure", "--severity", "severe")
    ).returncode == 0
    (home / "stimctl.db").write_bytes(b"")  # the file truncated (a failed copy, a bad disk)
    for leftover in home.glob("stimctl.db-*"):
        leftover.unlink()
    result = stimctl(home, "dry-run", "np-m1-10hz-90", "--subject", "S-01")
    assert result.returncode == ExitCode.RECORDS, result.stderr
    assert "is empty" in result.stderr


def test_only_a_missing_path_is_created_and_no_half_made_file_is_visible(
    tmp_path: Path,
) -> None:
    db = tmp_path / "stimctl.db"
    with Store.open(db) as store:
        add_subject(store, "S-01")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with Store.open(db) as store:
        assert [s.id for s in list_subjects(store)] == ["S-01"]


def test_a_corrupted_page_mid_query_is_exit_7_not_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with Store.open(home / "stimctl.db") as store:
        for index in range(400):
            add_subject(store, f"S-{index:03d}", notes="x" * 300)
    data = bytearray((home / "stimctl.db").read_bytes())
    data[2 * 4096 :] = b"\x13" * (len(data) - 2 * 4096)  # header and schema intact
    (home / "stimctl.db").write_bytes(bytes(data))
    for command in (("subject", "show", "S-399"), ("subject", "list"), ("sessions", "list")):
        result = stimctl(home, *command)
        assert result.returncode == ExitCode.RECORDS, result.stderr
        assert "corrupted" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    with pytest.raises(RecordsError, match="corrupted"), Store.open(home / "stimctl.db") as s:
        assert s.integrity_check() == "ok"
