"""Where journals live: STIMCTL_HOME, the platform default, session-id resolution."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from stimctl.errors import ConfigError
from stimctl.journal import journal_path, journals_dir, resolve_journal, stimctl_home


def test_stimctl_home_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path))
    assert stimctl_home() == tmp_path
    assert journals_dir() == tmp_path / "journals"
    assert journal_path("abc") == tmp_path / "journals" / "abc.jsonl"


@pytest.mark.parametrize("value", [None, ""])
def test_stimctl_home_defaults_to_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("STIMCTL_HOME", raising=False)
    else:
        monkeypatch.setenv("STIMCTL_HOME", value)
    assert stimctl_home() == platformdirs.user_data_path("stimctl")


def test_resolve_prefers_an_existing_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    file = tmp_path / "x.jsonl"
    file.write_bytes(b"")
    assert resolve_journal(str(file)) == file


def test_resolve_a_session_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path))
    (tmp_path / "journals").mkdir()
    (tmp_path / "journals" / "2026-11-24-S01.jsonl").write_bytes(b"")
    assert resolve_journal("2026-11-24-S01") == tmp_path / "journals" / "2026-11-24-S01.jsonl"


@pytest.mark.parametrize("name", ["unknown-session", "dir/absent.jsonl", "absent.jsonl", "../x"])
def test_resolve_nothing_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path))
    cwd = tmp_path / "cwd"  # relative names resolve here, not in whatever cwd pytest has
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    with pytest.raises(ConfigError, match="no journal at"):
        resolve_journal(name)


def test_journal_path_rejects_ids_that_escape_the_directory() -> None:
    with pytest.raises(ConfigError, match="invalid session id"):
        journal_path("../etc/passwd")
