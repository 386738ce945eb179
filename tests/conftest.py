"""Suite-wide guards: no test touches the user's real stimctl data.

Every test gets its own ``$STIMCTL_HOME`` under its tmp_path (tests that need a particular
home set it again; monkeypatch keeps the last value). A session-scoped check fingerprints
the real per-user data folder before the run and fails the run if anything under it was
created, changed or removed (issue 12 item 12: `make test` used to leave journals and a
database in ``~/.local/share/stimctl``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

_REAL_HOME_ENV = os.environ.get("STIMCTL_HOME", "")


def _real_data_dir() -> Path:
    if _REAL_HOME_ENV:
        return Path(_REAL_HOME_ENV).expanduser()
    return platformdirs.user_data_path("stimctl")


def fingerprint(folder: Path) -> dict[str, tuple[int, int]]:
    """Relative path -> (size, mtime_ns) of every file below `folder` (empty if absent)."""
    if not folder.exists():
        return {}
    found: dict[str, tuple[int, int]] = {}
    for path in folder.rglob("*"):
        if path.is_file() or path.is_symlink():
            info = path.lstat()
            found[str(path.relative_to(folder))] = (info.st_size, info.st_mtime_ns)
    return found


def changes(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """One line per file created, changed or removed between two fingerprints."""
    lines = [f"created {name}" for name in sorted(after.keys() - before.keys())]
    lines += [f"removed {name}" for name in sorted(before.keys() - after.keys())]
    lines += [
        f"changed {name}"
        for name in sorted(before.keys() & after.keys())
        if before[name] != after[name]
    ]
    return lines


@pytest.fixture(scope="session", autouse=True)
def _user_data_untouched() -> Iterator[None]:
    folder = _real_data_dir()
    before = fingerprint(folder)
    yield
    touched = changes(before, fingerprint(folder))
    if touched:
        pytest.fail(
            f"the test run wrote into the real stimctl data folder {folder}: "
            + "; ".join(touched[:10]),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _isolated_stimctl_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "isolated-stimctl-home"))
    # Cheap Argon2 parameters for the credentials tests create (stimctl.identity.kdf):
    # test-only, hundreds of password entries per run.
    monkeypatch.setenv("STIMCTL_KDF_PROFILE", "test")
    monkeypatch.delenv("STIMCTL_OPERATOR", raising=False)
