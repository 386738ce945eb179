"""Which record store a console uses: SQLite in $STIMCTL_HOME, or a clinic's PostgreSQL.

``STIMCTL_DATABASE_URL`` (``postgresql://...``) wins, then the site file's
``database_url``; with neither, the embedded SQLite file (nothing to set up). A URL of any
other scheme is refused: a typo must not silently fall back to a console-local store whose
history the other consoles cannot see (issue 17).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from stimctl.errors import ConfigError

URL_ENV = "STIMCTL_DATABASE_URL"
SCHEMES = ("postgresql", "postgres")


def database_url() -> str | None:
    """The PostgreSQL URL in force, or None for the SQLite default."""
    from_env = os.environ.get(URL_ENV, "").strip()
    if from_env:
        return checked_url(from_env, URL_ENV)
    from stimctl.site import load_site_file, site_path

    configured = load_site_file().database_url
    if configured is None:
        return None
    return checked_url(configured, f"database_url in {site_path()}")


def checked_url(url: str, where: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES:
        raise ConfigError(
            f"{where}: {redacted(url)!r} is not a postgresql:// URL (the record store is"
            " either the local SQLite file, with no URL, or a PostgreSQL server)"
        )
    return url


def redacted(url: str) -> str:
    """`url` without its password (for messages and `records info`)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
