"""Everything a journal can be checked against: its chain, its seal, its signatures, the
session's row in the store and the public keys on record. Pure: the caller reads files.

`attest` returns one `Attestation`: an `Outcome`, a stable ``finding`` code and one line
saying what is wrong. The checks run in a fixed order and the first failure decides, so
each manipulation gets the message that names it (docs/decisions, journal ADR):

1. the file itself (empty), a transplanted seal, the hash chain (`verify_bytes`);
2. identity: the session id inside (session_start, seal, checkpoints) against the file
   name and the row;
3. signatures of the seal and the train checkpoints against the keys on record, and
   their content (counts, heads) against the journal;
4. completion: a missing seal or session_end is "unfinished" (a crash, recoverable) only
   while the store says the session is still running, or when there is no row and the
   journal has no ``session_end`` or a torn seal line (a crash looks like that; a removed
   seal does not);
5. the row: chain head, pulse count and status stored at the end of the session;
6. unsigned journals: tampering when clinical, or when a key was on record before the
   session began (an honest writer signs whenever a key exists).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from stimctl.errors import ExitCode
from stimctl.journal import events
from stimctl.journal.pulses import PulseTally
from stimctl.journal.record import GENESIS, JournalRecord, line_hash
from stimctl.journal.signing import signature_valid
from stimctl.journal.verify import VerifyResult, verify_bytes

RUNNING = "running"


class Outcome(StrEnum):
    INTACT = "intact"  # sealed, signed, agrees with the store: exit 0
    UNSIGNED = "unsigned"  # sealed and consistent, but no signature: exit 0 (or 8 if required)
    UNFINISHED = "unfinished"  # running, or a crash that recovery closes: exit 6
    TAMPERED = "tampered"  # exit 8


@dataclass(frozen=True)
class RowFacts:
    """What the store says about the session (None fields: not recorded)."""

    session_id: str
    status: str
    chain_head: str | None
    pulses_delivered: int


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    public_key: str
    created_at: dt.datetime
    retired_at: dt.datetime | None = None


@dataclass(frozen=True)
class Attestation:
    outcome: Outcome
    finding: str
    """A stable code for the first thing found (``ok`` when intact)."""
    message: str
    session_id: str | None = None
    records: int = 0
    pulses: int | None = None
    head: str = GENESIS
    key_id: str | None = None
    status: str | None = None
    chain: VerifyResult | None = field(default=None, repr=False)

    @property
    def tampered(self) -> bool:
        return self.outcome is Outcome.TAMPERED

    def exit_code(self, *, require_signature: bool = False) -> int:
        if self.outcome is Outcome.TAMPERED:
            return ExitCode.TAMPERED
        if self.outcome is Outcome.UNFINISHED:
            return ExitCode.STATE
        if self.outcome is Outcome.UNSIGNED and require_signature:
            return ExitCode.TAMPERED
        return ExitCode.OK


class _Found(Exception):
    def __init__(self, outcome: Outcome, finding: str, message: str) -> None:
        super().__init__(message)
        self.outcome, self.finding, self.message = outcome, finding, message


def _tampered(finding: str, message: str) -> _Found:
    return _Found(Outcome.TAMPERED, finding, message)


def attest(
    data: bytes,
    *,
    file_session_id: str | None,
    row: RowFacts | None,
    keys: Mapping[str, PublicKey],
) -> Attestation:
    """Check journal bytes against everything known about them (see the module doc)."""
    state = _State(data, file_session_id, row, keys)
    try:
        return state.run()
    except _Found as found:
        return state.result(found.outcome, found.finding, found.message)


class _State:
    def __init__(
        self,
        data: bytes,
        file_session_id: str | None,
        row: RowFacts | None,
        keys: Mapping[str, PublicKey],
    ) -> None:
        self.data, self.file_sid, self.row, self.keys = data, file_session_id, row, keys
        self.chain: VerifyResult | None = None
        self.records: list[JournalRecord] = []
        self.hashes: list[str] = []
        self.session_id: str | None = None
        self.pulses: int | None = None
        self.key_id: str | None = None

    def result(self, outcome: Outcome, finding: str, message: str) -> Attestation:
        chain = self.chain
        return Attestation(
            outcome=outcome,
            finding=finding,
            message=message,
            session_id=self.session_id or self.file_sid,
            records=len(self.records),
            pulses=self.pulses,
            head=self.hashes[-1] if self.hashes else GENESIS,
            key_id=self.key_id,
            status=None if chain is None else chain.status,
            chain=chain,
        )

    # -- 1. file and chain -------------------------------------------------------------

    def run(self) -> Attestation:
        row = self.row
        if not self.data:
            if row is not None and row.status == RUNNING and row.chain_head in (None, GENESIS):
                raise _Found(
                    Outcome.UNFINISHED,
                    "empty-unstarted",
                    "unfinished: the journal is empty; the session crashed before its first"
                    " record (the store says it is still running)",
                )
            ended = "" if row is None else f", but the store says it {_row_state(row)}"
            raise _tampered(
                "empty",
                f"the journal is empty (0 bytes): every journal begins with session_start{ended}",
            )
        self._check_transplanted_seal()
        chain = verify_bytes(self.data)
        self.chain = chain
        lines = self.data.split(b"\n")[: chain.records]
        self.hashes = [line_hash(line) for line in lines]
        if not chain.ok:
            raise _tampered("chain", f"line {chain.first_bad_line}: {chain.reason}")
        self.records = [json.loads(line) for line in lines]
        self._check_identity()
        signed = self._check_signed_records()
        self._check_completion(chain)
        self._check_row(chain, signed)
        return self._check_unsigned(signed)

    def _check_transplanted_seal(self) -> None:
        """A valid seal copied onto another chain: the chain check would only say that a
        line does not link; say what it is instead."""
        lines = self.data.split(b"\n")
        if len(lines) < 3 or lines[-1]:
            return
        try:
            seal = json.loads(lines[-2])
            before = json.loads(lines[-3])
        except ValueError:
            return
        if not (isinstance(seal, dict) and seal.get("event") == events.SEAL):
            return
        if not isinstance(before, dict) or seal.get("prev") == line_hash(lines[-3]):
            return
        payload = seal.get("payload")
        if not isinstance(payload, dict):
            return
        own = _start_session_id(lines)
        other = payload.get("session_id")
        if other == own and seal.get("seq") == _int(before.get("seq")) + 1:
            return  # in place: the record before it was edited (the chain check says which)
        if own is not None and other != own:
            raise _tampered(
                "seal-foreign",
                f"the seal at line {len(lines) - 1} belongs to session {other},"
                f" not {own}: it was copied from another journal",
            )
        raise _tampered(
            "seal-replayed",
            f"the seal at line {len(lines) - 1} was made for a chain ending in"
            f" {str(seal.get('prev'))[:16]}..., not this one: the records before it were"
            " rewritten and an old seal replayed",
        )

    # -- 2. identity ---------------------------------------------------------------------

    def _check_identity(self) -> None:
        start = self.records[0]["payload"] if self.records else {}
        inside = start.get("session_id") if isinstance(start.get("session_id"), str) else None
        self.session_id = inside
        if inside is not None and self.file_sid is not None and inside != self.file_sid:
            raise _tampered(
                "swapped-file",
                f"the journal belongs to session {inside} but is filed as {self.file_sid}:"
                " journals were swapped or renamed",
            )
        if inside is not None and self.row is not None and inside != self.row.session_id:
            raise _tampered(
                "swapped-row",
                f"the journal belongs to session {inside} but the store row is for"
                f" {self.row.session_id}",
            )
        for lineno, record in enumerate(self.records, start=1):
            if record["event"] in events.WRITER_EVENTS:
                theirs = record["payload"].get("session_id")
                if inside is not None and theirs != inside:
                    raise _tampered(
                        "seal-foreign",
                        f"the {record['event']} at line {lineno} belongs to session {theirs},"
                        f" not {inside}",
                    )

    # -- 3. signatures -------------------------------------------------------------------

    def _check_signed_records(self) -> bool:
        """Check every checkpoint and the seal; True if the journal is signed."""
        tally = PulseTally()
        signed_any = unsigned_any = False
        for lineno, record in enumerate(self.records, start=1):
            event = record["event"]
            if event not in events.WRITER_EVENTS:
                tally.add(record)
                continue
            payload = record["payload"]
            what = f"the {event} at line {lineno}"
            counted = tally.count().pulses
            if payload.get("records") != record["seq"]:
                raise _tampered(
                    "seal-records",
                    f"{what} counts {payload.get('records')} records before it, the journal"
                    f" has {record['seq']}",
                )
            vouched = payload.get("final_hash" if event == events.SEAL else "head")
            if vouched != record["prev"]:
                raise _tampered("seal-head", f"{what} vouches for another chain head")
            if payload.get("pulses") != counted:
                raise _tampered(
                    "seal-pulses",
                    f"{what} counts {payload.get('pulses')} pulses, the journal {counted}",
                )
            key_id = payload.get("key_id")
            if key_id is None and payload.get("signature") is None:
                unsigned_any = True
                continue
            signed_any = True
            self.key_id = str(key_id)
            key = self.keys.get(str(key_id))
            if key is None:
                raise _tampered(
                    "unknown-key",
                    f"{what} is signed by key {key_id}, which is not on record: forged with"
                    " a key this installation never had",
                )
            if not signature_valid(record, key.public_key):
                raise _tampered(
                    "bad-signature",
                    f"{what} does not carry a valid signature of key {key_id}: it was"
                    " edited or forged after signing",
                )
            moment = _utc(record["utc"])
            if key.retired_at is not None and moment is not None and moment > key.retired_at:
                raise _tampered(
                    "retired-key",
                    f"{what} is signed by key {key_id} after it was retired"
                    f" ({key.retired_at:%Y-%m-%d %H:%M}Z)",
                )
        if signed_any and unsigned_any:
            raise _tampered(
                "signature-stripped",
                "some checkpoints or the seal are signed and others are not: signatures"
                " were removed",
            )
        self.pulses = tally.count().pulses
        return signed_any

    # -- 4. completion ---------------------------------------------------------------------

    def _check_completion(self, chain: VerifyResult) -> None:
        row = self.row
        running = row is not None and row.status == RUNNING
        last = (
            f"record {chain.records} ({self.records[-1]['event']})"
            if self.records
            else "its first record"
        )
        if chain.sealed:
            if running:
                assert row is not None
                self._row_head_in_chain(row)
            return
        if chain.closed and self.session_id is None:
            return  # written before seals existed: the row and the keys still apply
        if chain.closed:
            if chain.truncated and row is not None and not running:
                raise _tampered(
                    "seal-torn",
                    f"the seal after session_end is cut off mid-record, but the store says"
                    f" it {_row_state(row)}: the file was cut or overwritten",
                )
            if running or (row is None and chain.truncated):
                raise _Found(
                    Outcome.UNFINISHED,
                    "unsealed-crash",
                    "unfinished: session_end without its seal (a power cut between the two"
                    " writes); recovery seals it",
                )
            told = "" if row is None else f"; the store says it {_row_state(row)}"
            raise _tampered(
                "seal-missing",
                f"the seal after session_end is missing: the last record was removed{told}",
            )
        if row is not None and not running and chain.truncated:
            raise _tampered(
                "truncated-torn",
                f"the journal is cut in the middle of record {chain.records + 1}, but the"
                f" store says the session {_row_state(row)}: the file was cut short",
            )
        if row is not None and not running:
            raise _tampered(
                "truncated",
                f"the journal ends at {last} without session_end or seal, but the store says"
                f" it {_row_state(row)}: records at the end were removed",
            )
        if row is not None:
            self._row_head_in_chain(row)
        raise _Found(
            Outcome.UNFINISHED,
            "unfinished",
            f"unfinished: ends at {last} without session_end (running, or a crash that"
            " recovery closes as interrupted)",
        )

    def _row_head_in_chain(self, row: RowFacts) -> None:
        if row.chain_head not in (None, GENESIS) and row.chain_head not in self.hashes:
            raise _tampered(
                "head-missing",
                f"the chain head stored with the session ({str(row.chain_head)[:16]}...) is"
                " not in the journal: records after it were removed or rewritten",
            )

    # -- 5. the row --------------------------------------------------------------------------

    def _check_row(self, chain: VerifyResult, signed: bool) -> None:
        row = self.row
        if row is None or row.status == RUNNING:
            return
        if row.chain_head != self.hashes[-1]:
            if row.chain_head in self.hashes:
                raise _tampered(
                    "head-earlier",
                    "the chain head stored at the end of the session is an earlier record:"
                    " records were appended after the session ended",
                )
            if signed:
                raise _tampered(
                    "head-edited",
                    f"the chain head stored with the session ({str(row.chain_head)[:16]}...)"
                    " is not the head the journal's signed seal vouches for: the store row"
                    " was edited",
                )
            raise _tampered(
                "head-mismatch",
                f"the chain head stored at the end of the session ({str(row.chain_head)[:16]}"
                "...) is not in the journal: the journal was replaced or rewritten, or the"
                " stored head was edited",
            )
        if row.pulses_delivered != self.pulses:
            raise _tampered(
                "pulses-mismatch",
                f"the store says {row.pulses_delivered} pulses were delivered, the journal"
                f" {self.pulses}",
            )
        if row.status != chain.status:
            raise _tampered(
                "status-mismatch",
                f"the store says the session ended {row.status}, the journal {chain.status}",
            )

    # -- 6. unsigned -------------------------------------------------------------------------

    def _check_unsigned(self, signed: bool) -> Attestation:
        chain = self.chain
        assert chain is not None
        summary = f"{chain.records} records, {chain.status}, {self.pulses} pulses"
        row_note = "" if self.row is not None else "; no row on record"
        if signed:
            return self.result(
                Outcome.INTACT, "ok", f"intact: {summary}, signed by key {self.key_id}{row_note}"
            )
        start = self.records[0]
        if _clinical_on_a_stimulator(start["payload"]):
            raise _tampered(
                "unsigned-clinical",
                "a clinical session on a stimulator without signatures: those are always"
                " signed, so the signatures were removed",
            )
        began = _utc(start["utc"])
        for key in self.keys.values():
            if began is not None and key.created_at < began:
                raise _tampered(
                    "unsigned-after-key",
                    f"unsigned, but key {key.key_id} was on record since"
                    f" {key.created_at:%Y-%m-%d %H:%M}Z, before the session began:"
                    " signatures were removed",
                )
        return self.result(
            Outcome.UNSIGNED,
            "unsigned",
            f"intact but UNSIGNED: {summary} (no signing key when it was written; the chain"
            f" proves order, not origin){row_note}",
        )


def _clinical_on_a_stimulator(start: dict[str, Any]) -> bool:
    """The session_start of a clinical session on a real port (a key is required there;
    see `stimctl.session.runner.journal_signer`)."""
    site, device = start.get("site"), start.get("device")
    if not (isinstance(site, dict) and site.get("mode") == "clinical"):
        return False
    port = device.get("port") if isinstance(device, dict) else None
    return not (isinstance(port, str) and port.startswith("stimsim://"))


def _row_state(row: RowFacts) -> str:
    if row.status == RUNNING:
        return "is still running"
    return f"ended {row.status} with {row.pulses_delivered} pulses"


def _start_session_id(lines: list[bytes]) -> str | None:
    try:
        first = json.loads(lines[0])
    except ValueError:
        return None
    if not isinstance(first, dict) or not isinstance(first.get("payload"), dict):
        return None
    sid = first["payload"].get("session_id")
    return sid if isinstance(sid, str) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) else -2


def _utc(text: Any) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
