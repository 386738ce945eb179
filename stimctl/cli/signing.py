"""A signature the CLI collects before it writes the record it signs.

`PendingSignature` asks the signer's credential (hidden prompt or the next line of
standard input), checks it and the role at once, then `sign` writes the signature row
inside the record's own transaction (`within=` of the repository function), so a signed
record and its signature are stored together or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stimctl.cli.credentials import read_secret
from stimctl.errors import AuthError

if TYPE_CHECKING:
    from stimctl.identity.signatures import RecordType, Signature
    from stimctl.records import Store


class PendingSignature:
    def __init__(
        self,
        store: Store,
        signer_id: str | None,
        *,
        meaning: str,
        record_type: RecordType,
        from_stdin: bool,
    ) -> None:
        from stimctl.identity import authorize_signature, check_operator_id

        if not signer_id:
            raise AuthError(f"{meaning!r} needs a physician's signature: give --by ID")
        check_operator_id(signer_id)
        secret = read_secret(f"Password for {signer_id} to sign ({meaning})", from_stdin=from_stdin)
        self._grant = authorize_signature(store, signer_id, secret, meaning=meaning)
        self.meaning = meaning
        self.record_type: RecordType = record_type
        self.signature: Signature | None = None

    def sign(self, conn: sqlite3.Connection, record_id: str, content: Mapping[str, Any]) -> None:
        from stimctl.identity import insert_signature

        self.signature = insert_signature(
            conn,
            self._grant,
            meaning=self.meaning,
            record_type=self.record_type,
            record_id=record_id,
            content=content,
        )
