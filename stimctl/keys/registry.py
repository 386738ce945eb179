"""Public signing keys on record (table ``signing_keys``): what `journal verify` trusts.

At most one key is active (``retired_at`` NULL); a rotated key stays on record, retired,
so the journals it signed stay verifiable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from stimctl.errors import ConfigError
from stimctl.journal.signing import ALGORITHM, Signer
from stimctl.records.store import Store
from stimctl.records.values import maybe_utc, utc_text


@dataclass(frozen=True)
class KeyOnRecord:
    key_id: str
    public_key: str
    created_at: dt.datetime
    retired_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.retired_at is None


def register(store: Store, signer: Signer, now: dt.datetime) -> KeyOnRecord:
    """Put a new key on record as the active one, retiring the previous active key."""
    with store.write() as conn:
        known = conn.execute(
            "SELECT key_id FROM signing_keys WHERE key_id = ?", (signer.key_id,)
        ).fetchone()
        if known is not None:
            raise ConfigError(f"signing key {signer.key_id} is already on record")
        conn.execute(
            "UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL", (utc_text(now),)
        )
        conn.execute(
            "INSERT INTO signing_keys (key_id, algorithm, public_key, created_at)"
            " VALUES (?, ?, ?, ?)",
            (signer.key_id, ALGORITHM, signer.public_hex, utc_text(now)),
        )
    return KeyOnRecord(signer.key_id, signer.public_hex, now, None)


def keys_on_record(store: Store) -> dict[str, KeyOnRecord]:
    with store.read() as conn:
        rows = conn.execute(
            "SELECT key_id, public_key, created_at, retired_at FROM signing_keys"
            " ORDER BY created_at"
        ).fetchall()
    result = {}
    for key_id, public_key, created, retired in rows:
        created_at = maybe_utc(created)
        assert created_at is not None
        result[key_id] = KeyOnRecord(key_id, public_key, created_at, maybe_utc(retired))
    return result
