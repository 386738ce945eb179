"""The installation's private signing keys on disk.

``$STIMCTL_KEYS_DIR`` if set, else ``$STIMCTL_HOME/keys``: one PKCS#8 PEM file per key,
``<key_id>.key``, mode 0600 in a 0700 directory, and ``active`` naming the key that signs.
A key file that group or others may read is refused (the key is then no proof of who
wrote a journal), and so is a key folder inside the journals folder: whoever can rewrite
journals must not also find the key next to them.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from stimctl.errors import ConfigError
from stimctl.journal.fsutil import fsync_directory
from stimctl.journal.paths import journals_dir, stimctl_home
from stimctl.journal.signing import Signer

KEYS_ENV: Final = "STIMCTL_KEYS_DIR"
ACTIVE: Final = "active"
SUFFIX: Final = ".key"


def keys_dir() -> Path:
    value = os.environ.get(KEYS_ENV, "")
    directory = Path(value).expanduser() if value else stimctl_home() / "keys"
    journals = journals_dir().resolve()
    resolved = directory.resolve()
    if resolved == journals or journals in resolved.parents:
        raise ConfigError(f"signing keys folder {directory} is inside the journals folder")
    return directory


def key_path(key_id: str) -> Path:
    return keys_dir() / f"{key_id}{SUFFIX}"


def active_key_id() -> str | None:
    """The id of the key that signs new journals, or None if there is none."""
    marker = keys_dir() / ACTIVE
    try:
        text = marker.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {marker}: {exc}") from None
    return text or None


def load_signer(key_id: str) -> Signer:
    """Load a private key, refusing a file readable by group or others."""
    path = key_path(key_id)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"signing key {key_id} is missing: no file {path}") from None
    if sys.platform != "win32" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"signing key {path} is accessible to group or others"
            f" (mode {stat.S_IMODE(info.st_mode):04o}): run chmod 600 {path}"
        )
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"signing key {path} cannot be read: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"signing key {path} is not an Ed25519 key")
    signer = Signer.from_private(key)
    if signer.key_id != key_id:
        raise ConfigError(f"signing key {path} holds key {signer.key_id}, not {key_id}")
    return signer


def load_active_signer() -> Signer | None:
    """The installation's active signer, or None when no key was ever created.

    A key that is active on record but has no file here is an error, not "unsigned":
    journals written without it would read as stripped of their signatures."""
    key_id = active_key_id()
    if key_id is not None:
        return load_signer(key_id)
    on_record = _active_on_record()
    if on_record is not None:
        raise ConfigError(
            f"signing key {on_record} is active on record but {keys_dir()} has no active"
            " key: restore the key folder, or run `stimctl keys init` to replace the key"
        )
    return None


def _active_on_record() -> str | None:
    from stimctl.records.store import Store, default_db_path

    if not default_db_path().exists():
        return None  # no store, nothing on record (and none created just to look)
    from stimctl.keys.registry import keys_on_record

    with Store.open() as store:
        active = [k.key_id for k in keys_on_record(store).values() if k.active]
    return active[0] if active else None


def create_key(*, activate: bool = True) -> Signer:
    """Create a new key file (0600); make it the active key unless `activate` is False
    (the caller puts it on record first, then calls `set_active`)."""
    directory = keys_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if sys.platform != "win32":
        os.chmod(directory, 0o700)
    signer = Signer.from_private(Ed25519PrivateKey.generate())
    pem = signer.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    _write_new(key_path(signer.key_id), pem)
    if activate:
        set_active(signer.key_id)
    return signer


def set_active(key_id: str) -> None:
    directory = keys_dir()
    tmp = directory / f".{ACTIVE}.tmp"
    tmp.unlink(missing_ok=True)
    _write_new(tmp, f"{key_id}\n".encode("ascii"))
    os.replace(tmp, directory / ACTIVE)
    fsync_directory(directory)


def remove_key(key_id: str) -> None:
    """Delete a retired private key (its public key stays on record for verification)."""
    key_path(key_id).unlink(missing_ok=True)
    fsync_directory(keys_dir())


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
