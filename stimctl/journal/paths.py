"""Where journals live: ``$STIMCTL_HOME/journals/<session_id>.jsonl``.

``STIMCTL_HOME`` (environment) overrides the per-user data directory that `platformdirs`
picks (``~/.local/share/stimctl`` on Linux, ``%LOCALAPPDATA%\\stimctl`` on Windows).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from stimctl.errors import ConfigError
from stimctl.journal.writer import JOURNAL_SUFFIX, validate_session_id

HOME_ENV = "STIMCTL_HOME"


def stimctl_home() -> Path:
    """``$STIMCTL_HOME`` if set and non-empty, else the user data directory for stimctl."""
    value = os.environ.get(HOME_ENV, "")
    if value:
        return Path(value).expanduser()
    return platformdirs.user_data_path("stimctl")


def journals_dir() -> Path:
    """The directory holding every session journal."""
    return stimctl_home() / "journals"


def journal_path(session_id: str) -> Path:
    """The journal file of a session id (the file need not exist)."""
    return journals_dir() / f"{validate_session_id(session_id)}{JOURNAL_SUFFIX}"


def resolve_journal(path_or_session_id: str) -> Path:
    """A journal given as a file path or as a session id under `journals_dir()`.

    An existing path wins; otherwise a bare session id (no separator, no ``.jsonl``)
    names ``journals_dir()/<id>.jsonl``. Raises `ConfigError` when neither exists.
    """
    candidate = Path(path_or_session_id)
    if candidate.exists():
        return candidate
    looks_like_id = (
        os.sep not in path_or_session_id
        and "/" not in path_or_session_id
        and not path_or_session_id.endswith(JOURNAL_SUFFIX)
    )
    if looks_like_id:
        try:
            by_id = journal_path(path_or_session_id)
        except ConfigError:
            by_id = None
        if by_id is not None and by_id.exists():
            return by_id
        if by_id is not None:
            raise ConfigError(
                f"no journal at {path_or_session_id!r} and no session"
                f" {path_or_session_id!r} in {journals_dir()}"
            )
    raise ConfigError(f"no journal at {path_or_session_id}")
