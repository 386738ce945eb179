"""Where the shipped configuration files are, and how names resolve against them.

In a wheel, `configs/` is shipped inside the package as `stimctl/_configs`; in a source
checkout (editable install, tests) it is the repository's top-level `configs/`.
`STIMCTL_CONFIGS` overrides both (a site's own library). See docs/decisions/0002.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from stimctl.errors import ConfigError

_PACKAGE_DIR = Path(__file__).resolve().parent


def configs_dir() -> Path:
    """The directory holding protocols/, devices/ and safety/."""
    override = os.environ.get("STIMCTL_CONFIGS")
    if override:
        path = Path(override)
        if not path.is_dir():
            raise ConfigError(f"STIMCTL_CONFIGS={override}: not a directory")
        return path
    return shipped_configs_dir()


def shipped_configs_dir() -> Path:
    """The configs that came with this stimctl, whatever STIMCTL_CONFIGS says."""
    for candidate in (_PACKAGE_DIR / "_configs", _PACKAGE_DIR.parent / "configs"):
        if (candidate / "safety").is_dir():
            return candidate
    raise ConfigError(f"shipped configs not found next to {_PACKAGE_DIR}")


def names_in(kind: str) -> list[str]:
    """Names (file stems) of the shipped files of one kind, e.g. `protocols`."""
    return sorted(p.stem for p in (configs_dir() / kind).glob("*.toml"))


def resolve(kind: str, name_or_path: str) -> Path:
    """A shipped name (`np-m1-10hz-90`) or a path to a file of that kind.

    A value that looks like a path (has a separator or a .toml suffix) is a path; anything
    else is a shipped name. An unknown name lists what is shipped.
    """
    looks_like_path = os.sep in name_or_path or "/" in name_or_path
    if looks_like_path or name_or_path.endswith(".toml"):
        path = Path(name_or_path)
        if not path.is_file():
            # a device or a folder exists but is no file to read: say which it is
            what = "not a regular file" if path.exists() else "no such file"
            raise ConfigError(f"{name_or_path}: {what}")
        return path
    path = configs_dir() / kind / f"{name_or_path}.toml"
    if not path.is_file():
        known = ", ".join(names_in(kind)) or "none"
        raise ConfigError(f"unknown {kind[:-1]} '{name_or_path}' (shipped: {known})")
    return path


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes: recorded with every verdict and session."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
