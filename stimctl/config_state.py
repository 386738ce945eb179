"""Which config files a check or session used, and whether each is the shipped one.

Every file is compared with the digests compiled into the package
(`stimctl/_shipped_digests.py`), not with a manifest next to the configs, which anyone
who edits the configs can regenerate (issue 13 item 5). A file under the configs
directory (`STIMCTL_CONFIGS` or the shipped one) is compared with the shipped file of the
same name; a file elsewhere (a site's own site file, a protocol given by path) is
"shipped" only if its bytes equal some shipped file of its folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from stimctl.configs import configs_dir, file_digest, shipped_configs_dir

Kind = Literal["protocol", "device profile", "energy table", "safety table", "site file"]
FOLDER: dict[Kind, str] = {
    "protocol": "protocols",
    "device profile": "devices",
    "energy table": "devices",
    "safety table": "safety",
    "site file": "site",
}
APPROVAL_KINDS: frozenset[Kind] = frozenset({"safety table", "site file"})
"""Kinds that, modified, need an engineer's approval on record in clinical mode."""


@dataclass(frozen=True)
class ConfigFile:
    kind: Kind
    name: str
    """`safety/limits.toml` for a file of a configs directory, else the path."""
    path: str
    sha256: str
    shipped_sha256: str | None
    """The digest of the shipped file it stands for (None: no shipped file of that name)."""

    @property
    def shipped(self) -> bool:
        return self.shipped_sha256 is not None and self.sha256 == self.shipped_sha256

    @property
    def status(self) -> str:
        if self.shipped:
            return "shipped"
        return "locally modified" if self.shipped_sha256 is not None else "not shipped"

    @property
    def locally_modified(self) -> bool:
        """Shown in red: a changed shipped file, or a table/profile/site file that is not
        shipped. A protocol the user wrote (no shipped file of that name) is their own
        file, not a modification; its digest is journaled all the same."""
        if self.shipped:
            return False
        return self.kind != "protocol" or self.shipped_sha256 is not None

    @property
    def needs_approval(self) -> bool:
        return self.kind in APPROVAL_KINDS and not self.shipped

    def line(self) -> str:
        """ "locally modified: safety/limits.toml" (what check, reports and the journal say)."""
        detail = "" if self.shipped_sha256 is not None else " (not a shipped file)"
        return f"locally modified: {self.name}{detail}"

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "name": self.name,
            "path": self.path,
            "sha256": self.sha256,
            "shipped_sha256": self.shipped_sha256,
            "matches_shipped": self.shipped,
            "status": self.status,
        }


def shipped_digests() -> dict[str, str]:
    from stimctl._shipped_digests import SHIPPED_CONFIG_DIGESTS

    return dict(SHIPPED_CONFIG_DIGESTS)


def _key_in(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def state_of(kind: Kind, path: Path) -> ConfigFile:
    """Digest `path` and compare it with the shipped file it stands for."""
    shipped = shipped_digests()
    digest = file_digest(path)
    key = _key_in(path, configs_dir()) or _key_in(path, shipped_configs_dir())
    if key is not None and key in shipped:
        return ConfigFile(kind, key, str(path), digest, shipped[key])
    folder = FOLDER[kind] + "/"
    for name, value in sorted(shipped.items()):
        if name.startswith(folder) and value == digest:
            return ConfigFile(kind, name, str(path), digest, value)
    return ConfigFile(kind, key or str(path), str(path), digest, None)


def safety_tables() -> list[ConfigFile]:
    """Every file of the safety tables folder in use (limits, duration, H-coil, screening)."""
    from stimctl.safety.tables import safety_dir

    return [state_of("safety table", p) for p in sorted(safety_dir().iterdir()) if p.is_file()]


def site_file(path: str | None) -> ConfigFile:
    return state_of("site file", Path(path) if path else configs_dir() / "site" / "default.toml")


def used_configs(
    protocol_path: Path | None,
    device_path: Path | None,
    energy_table: str | None,
    site_path: str | None,
) -> tuple[ConfigFile, ...]:
    """Every config file a check or session reads: protocol, profile, tables, site."""
    files: list[ConfigFile] = []
    if protocol_path is not None:
        files.append(state_of("protocol", protocol_path))
    if device_path is not None:
        files.append(state_of("device profile", device_path))
    if energy_table is not None:
        table = configs_dir() / "devices" / "tables" / f"{energy_table}.toml"
        files.append(state_of("energy table", table))
    files += safety_tables()
    files.append(site_file(site_path))
    return tuple(files)


def modified(files: tuple[ConfigFile, ...] | list[ConfigFile]) -> list[ConfigFile]:
    return [f for f in files if f.locally_modified]
