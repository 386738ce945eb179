"""Journal signing keys: private keys on disk (`files`), public keys on record (`registry`).

See docs/journal-signing.md for where a clinic keeps the key and what a signature proves.
"""

from __future__ import annotations

from stimctl.keys.files import (
    active_key_id,
    create_key,
    keys_dir,
    load_active_signer,
    load_signer,
)

__all__ = ["active_key_id", "create_key", "keys_dir", "load_active_signer", "load_signer"]
