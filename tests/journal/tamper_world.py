"""A signed installation with two recorded sessions, for the tamper suite.

`build` makes a real key (`stimctl keys init`), a real SQLite store with subject S-01 and
two finished sessions ``sess-A`` and ``sess-B`` (3 trains of 5 pulses each, so each
journal has three signed checkpoints and a signed seal), and returns the paths.

Line numbers of a journal: 1 session_start; for train t (0-2): train_start, 5 pulses,
train_end, checkpoint on lines 2+8t .. 9+8t; 26 session_end; 27 seal.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stimctl.cli import main
from stimctl.clock import VirtualClock
from stimctl.journal import Journal, events, journals_dir
from stimctl.journal.record import GENESIS, encode, line_hash
from stimctl.journal.signing import Signer
from stimctl.records import Store, add_subject, begin_session, end_session

TRAINS = 3
PER_TRAIN = 5
PULSES = TRAINS * PER_TRAIN
SESSION_END_LINE = 26
SEAL_LINE = 27


@dataclass
class World:
    home: Path
    a: Path
    b: Path

    def store(self) -> Store:
        return Store.open()


def write_journal(
    session_id: str,
    *,
    trains: int = TRAINS,
    signer: Signer | str | None = "installation",
    start: dict[str, Any] | None = None,
    close: bool = True,
) -> Journal:
    clock = VirtualClock(start=10.0)
    journal = Journal.create(journals_dir(), session_id, clock=clock, signer=signer)  # type: ignore[arg-type]
    payload = start or {"subject": {"id": "S-01"}, "site": {"mode": "research"}}
    journal.append(events.SESSION_START, payload)
    index = 0
    for train in range(trains):
        journal.append(events.TRAIN_START, {"train": train, "pulses_planned": PER_TRAIN})
        for _ in range(PER_TRAIN):
            journal.append(events.PULSE, {"train": train, "index": index}, actor="device")
            index += 1
            clock.advance(0.1)
        journal.append(events.TRAIN_END, {"train": train, "pulses": PER_TRAIN})
        clock.advance(10.0)
    if close:
        journal.append(events.SESSION_END, {"status": "completed", "pulses_delivered": index})
    journal.close()
    return journal


def record(store: Store, journal: Journal, *, ended: bool = True) -> None:
    now = dt.datetime.now(dt.UTC)
    begin_session(
        store,
        session_id=journal.session_id,
        subject_id="S-01",
        protocol_name="p",
        protocol_digest="d" * 64,
        pulses_planned=PULSES,
        started_at=now,
        journal_path=journal.path,
        chain_head=GENESIS,
    )
    if ended:
        end_session(
            store,
            journal.session_id,
            status="completed",
            pulses_delivered=PULSES,
            chain_head=journal.head,
            ended_at=now,
        )


def build(home: Path) -> World:
    assert main(["keys", "init"]) == 0
    with Store.open() as store:
        add_subject(store, "S-01")
        a, b = write_journal("sess-A"), write_journal("sess-B")
        record(store, a)
        record(store, b)
    return World(home, a.path, b.path)


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def records_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def write_records(
    path: Path,
    records: list[dict[str, Any]],
    *,
    fix_vouched: bool = True,
    signer: Signer | None = None,
    key_id: str | None = None,
) -> None:
    """A careful forger: renumber, re-chain, and (`fix_vouched`) make the seal's and the
    checkpoints' copies of the chain head and counts agree again; with `signer`, sign
    them again with that key (claiming `key_id` if given)."""
    out, prev = [], GENESIS
    for seq, rec in enumerate(records):
        rec["seq"], rec["prev"] = seq, prev
        if fix_vouched and rec["event"] in ("seal", "checkpoint"):
            rec["payload"]["records"] = seq
            rec["payload"]["final_hash" if rec["event"] == "seal" else "head"] = prev
        if signer is not None and rec["event"] in ("seal", "checkpoint"):
            rec["payload"]["key_id"] = key_id or signer.key_id
            rec["payload"]["signature"] = signer.sign(rec)
        line = encode(rec)
        prev = line_hash(line)
        out.append(line + b"\n")
    path.write_bytes(b"".join(out))
