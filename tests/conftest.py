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


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A real PostgreSQL server for the test session (issue 17): the one named by
    $STIMCTL_TEST_DATABASE_URL, else one started from the `pgserver` wheel (PostgreSQL 16
    binaries, a private data folder, a Unix socket; about a second). Never skipped: a test
    that needs PostgreSQL fails if there is none (docs/testing.md).

    As root (CI), pgserver runs the server as a system user ``pgserver`` that it creates
    with ``useradd`` (PostgreSQL refuses to run as root), so the data folder is made
    directly under the system temp folder, whose parents every user can traverse."""
    given = os.environ.get("STIMCTL_TEST_DATABASE_URL", "").strip()
    if given:
        yield given
        return
    import shutil
    import tempfile

    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - the test extras install it
        pytest.fail(f"pgserver is not installed ({exc}): pip install -e '.[test]'", False)
    folder = Path(tempfile.mkdtemp(prefix="stimctl-pg-"))
    try:
        server = pgserver.get_server(folder / "data", cleanup_mode="stop")
    except Exception as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"cannot start PostgreSQL from pgserver in {folder}: {exc}", False)
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def pg_schema_url(server_url: str, schema: str) -> str:
    """`server_url` with its search_path set to `schema` (one fresh schema per test)."""
    separator = "&" if "?" in server_url else "?"
    return f"{server_url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A URL to an empty PostgreSQL schema of its own, dropped after the test."""
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}".encode())
    try:
        yield pg_schema_url(pg_server_url, schema)
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE".encode())
