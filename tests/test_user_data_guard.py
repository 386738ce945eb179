"""The suite's guard against writing into the user's real data folder can fail."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import changes, fingerprint


def test_every_test_runs_under_its_own_home(tmp_path: Path) -> None:
    assert os.environ["STIMCTL_HOME"] == str(tmp_path / "isolated-stimctl-home")


def test_the_fingerprint_sees_a_new_a_changed_and_a_removed_file(tmp_path: Path) -> None:
    (tmp_path / "journals").mkdir()
    kept = tmp_path / "journals" / "a.jsonl"
    kept.write_text("one\n")
    gone = tmp_path / "stimctl.db"
    gone.write_text("db")
    before = fingerprint(tmp_path)
    kept.write_text("one\ntwo\n")
    gone.unlink()
    (tmp_path / "journals" / "b.jsonl").write_text("new\n")
    assert changes(before, fingerprint(tmp_path)) == [
        "created journals/b.jsonl",
        "removed stimctl.db",
        "changed journals/a.jsonl",
    ]


def test_an_absent_folder_has_an_empty_fingerprint(tmp_path: Path) -> None:
    assert fingerprint(tmp_path / "absent") == {}
