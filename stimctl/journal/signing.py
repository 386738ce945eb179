"""Ed25519 signatures over journal records (seal and train-boundary checkpoints).

A signed record carries ``key_id`` and ``signature`` in its payload. The signature covers
the record's canonical bytes (`record.encode`) with ``payload.signature`` left out, behind
a domain prefix, so it binds everything the line says: ``seq``, ``utc``, ``actor``,
``event``, the payload and ``prev`` (the chain head it vouches for). A signature made for
one journal therefore cannot be moved to another chain or another position.

The private key never enters this module's callers' records; `stimctl.keys` creates and
loads it, and keeps the public keys on record in the store.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from stimctl.journal.record import JournalRecord, encode

DOMAIN: Final = b"stimctl-journal-signature-v1\x00"
ALGORITHM: Final = "ed25519"


def key_id_of(public_raw: bytes) -> str:
    """A key's id: the first 16 hex digits of the SHA-256 of its raw public bytes."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Signer:
    """An installation's private signing key, with its id."""

    key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def from_private(cls, key: Ed25519PrivateKey) -> Signer:
        return cls(key, key_id_of(public_raw(key)))

    @property
    def public_hex(self) -> str:
        return public_raw(self.key).hex()

    def sign(self, record: JournalRecord | dict[str, Any]) -> str:
        """The base64 signature of `record` (its ``payload.signature`` is ignored)."""
        return base64.b64encode(self.key.sign(signed_message(record))).decode("ascii")


def signed_message(record: JournalRecord | dict[str, Any]) -> bytes:
    """The bytes a signature covers: the record without ``payload.signature``."""
    payload = {k: v for k, v in record["payload"].items() if k != "signature"}
    return DOMAIN + encode({**record, "payload": payload})


def signature_valid(record: JournalRecord | dict[str, Any], public_hex: str) -> bool:
    """True if ``payload.signature`` is a valid signature of `record` by `public_hex`."""
    signature = record["payload"].get("signature")
    if not isinstance(signature, str):
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
        key.verify(raw, signed_message(record))
    except (ValueError, InvalidSignature):
        return False
    return True
