"""The tamper suite: each manipulation of a journal, its store row or both is detected by
`stimctl journal verify` (or `stimctl records audit`) with exit 8 and its own message;
the legitimate crash cases stay recoverable and end as "interrupted", not "tampered".

Every case runs against a real signed installation (`tamper_world.build`): a real key
file, a real SQLite store, real journals written by `Journal`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.journal.signing import Signer
from stimctl.keys.files import load_active_signer
from stimctl.records import Store
from tests.identity.people import as_engineer

from .tamper_world import (
    PULSES,
    SEAL_LINE,
    SESSION_END_LINE,
    World,
    build,
    lines_of,
    records_of,
    write_journal,
    write_records,
)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    home = tmp_path / "home"
    monkeypatch.setenv("STIMCTL_HOME", str(home))
    monkeypatch.delenv("STIMCTL_KEYS_DIR", raising=False)
    return build(home)


def _sql(world: World, statement: str, *args: object) -> None:
    with world.store() as store, store.write() as conn:
        conn.execute(statement, args)


# -- the manipulations ---------------------------------------------------------------------


def cut_last_line(w: World) -> None:
    w.a.write_bytes(b"".join(lines_of(w.a)[:-1]))


def cut_last_5_lines(w: World) -> None:
    w.a.write_bytes(b"".join(lines_of(w.a)[:-5]))


def cut_in_half(w: World) -> None:
    data = w.a.read_bytes()
    w.a.write_bytes(data[: len(data) // 2])


def seal_cut_mid_record(w: World) -> None:
    lines = lines_of(w.a)
    w.a.write_bytes(b"".join(lines[:-1]) + lines[-1][:60])


def empty_file(w: World) -> None:
    w.a.write_bytes(b"")


def shorter_valid_chain(w: World) -> None:
    w.a.unlink()
    write_journal("sess-A", trains=1, signer=None)  # a fresh, consistent, unsigned chain


def session_end_edited_in_place(w: World) -> None:
    lines = lines_of(w.a)
    lines[SESSION_END_LINE - 1] = lines[SESSION_END_LINE - 1].replace(b'"completed"', b'"aborted"')
    w.a.write_bytes(b"".join(lines))


def rechained_edit(w: World) -> None:
    records = records_of(w.a)
    records[12]["payload"]["index"] = 99  # a pulse of train 1
    write_records(w.a, records)


def rechained_edit_seal_left(w: World) -> None:
    records = records_of(w.a)
    records[SESSION_END_LINE - 1]["payload"]["pulses_delivered"] = 14
    write_records(w.a, records, fix_vouched=False)


def seal_edited(w: World) -> None:
    lines = lines_of(w.a)
    lines[-1] = lines[-1].replace(b'"sealed_by":"session"', b'"sealed_by":"recovery"')
    w.a.write_bytes(b"".join(lines))


def files_swapped(w: World) -> None:
    a, b = w.a.read_bytes(), w.b.read_bytes()
    w.a.write_bytes(b)
    w.b.write_bytes(a)


def row_points_to_other_journal(w: World) -> None:
    _sql(w, "UPDATE sessions SET journal_path = ? WHERE id = 'sess-A'", str(w.b))


def seal_replayed(w: World) -> None:
    lines = lines_of(w.a)
    seal = lines[-1]
    records = records_of(w.a)[:-1]
    del records[17:25]  # the last train and its checkpoint
    write_records(w.a, records)
    w.a.write_bytes(w.a.read_bytes() + seal)


def seal_from_other_session(w: World) -> None:
    lines = lines_of(w.a)
    lines[-1] = lines_of(w.b)[-1]
    w.a.write_bytes(b"".join(lines))


def signed_with_another_key(w: World) -> None:
    records = records_of(w.a)
    records[12]["payload"]["index"] = 99
    write_records(w.a, records, signer=Signer.from_private(Ed25519PrivateKey.generate()))


def signed_with_another_key_claiming_ours(w: World) -> None:
    ours = load_active_signer()
    assert ours is not None
    records = records_of(w.a)
    records[SESSION_END_LINE - 1]["payload"]["status"] = "aborted"
    forger = Signer.from_private(Ed25519PrivateKey.generate())
    write_records(w.a, records, signer=forger, key_id=ours.key_id)


def seal_signature_stripped(w: World) -> None:
    records = records_of(w.a)
    records[-1]["payload"]["key_id"] = None
    records[-1]["payload"]["signature"] = None
    write_records(w.a, records)


def all_signatures_stripped_row_deleted(w: World) -> None:
    records = [r for r in records_of(w.a) if r["event"] != "checkpoint"]
    records[-1]["payload"]["key_id"] = None
    records[-1]["payload"]["signature"] = None
    write_records(w.a, records)
    _sql(w, "DELETE FROM sessions WHERE id = 'sess-A'")


def row_head_edited(w: World) -> None:
    _sql(w, "UPDATE sessions SET chain_head = ? WHERE id = 'sess-A'", "e" * 64)


def row_pulses_edited(w: World) -> None:
    _sql(w, "UPDATE sessions SET pulses_delivered = 99 WHERE id = 'sess-A'")


def row_status_edited(w: World) -> None:
    _sql(w, "UPDATE sessions SET status = 'aborted' WHERE id = 'sess-A'")


def row_deleted(w: World) -> None:
    _sql(w, "DELETE FROM sessions WHERE id = 'sess-A'")


def journal_deleted(w: World) -> None:
    w.a.unlink()


def record_after_seal(w: World) -> None:
    lines = lines_of(w.a)
    w.a.write_bytes(b"".join([*lines, lines[3]]))
    records = records_of(w.a)
    write_records(w.a, records, fix_vouched=False)


def bytes_after_seal(w: World) -> None:
    w.a.write_bytes(w.a.read_bytes() + b'{"actor":"engine"')


def middle_line_deleted(w: World) -> None:
    lines = lines_of(w.a)
    del lines[4]
    w.a.write_bytes(b"".join(lines))


def running_row_journal_cut_below_its_head(w: World) -> None:
    head_after_train_2 = records_of(w.a)[17]["prev"]  # hash of the 2nd checkpoint
    _sql(
        w,
        "UPDATE sessions SET status = 'running', ended_at = NULL, chain_head = ?"
        " WHERE id = 'sess-A'",
        head_after_train_2,
    )
    w.a.write_bytes(b"".join(lines_of(w.a)[:9]))  # cut back to the first checkpoint


def signed_with_a_retired_key(w: World) -> None:
    old = load_active_signer()
    assert old is not None
    with pytest.MonkeyPatch.context() as mp:  # an engineer rotates (trust3 item 2)
        assert main(["keys", "rotate", *as_engineer(mp)]) == 0  # the old private file is deleted...
    w.a.unlink()
    forged = write_journal("sess-A", signer=old)  # ...but a stolen copy still signs
    _sql(w, "UPDATE sessions SET chain_head = ? WHERE id = 'sess-A'", forged.head)


def unsigned_clinical_forgery(w: World) -> None:
    w.a.unlink()
    _sql(w, "DELETE FROM sessions WHERE id = 'sess-A'")
    start = {
        "subject": {"id": "S-01"},
        "site": {"mode": "clinical"},
        "device": {"port": "/dev/ttyUSB0"},
    }
    write_journal("sess-A", signer=None, start=start)


@dataclass(frozen=True)
class Case:
    manipulate: Callable[[World], None]
    command: str  # "id": verify sess-A; "path": verify the file; "audit": records audit
    message: str


CASES: dict[str, Case] = {
    "cut the last line (the seal)": Case(
        cut_last_line,
        "id",
        "the seal after session_end is missing: the last record was removed; the store"
        f" says it ended completed with {PULSES} pulses",
    ),
    "cut the last 5 lines": Case(
        cut_last_5_lines,
        "id",
        "ends at record 22 (pulse) without session_end or seal, but the store says it"
        f" ended completed with {PULSES} pulses: records at the end were removed",
    ),
    "cut the file in half": Case(cut_in_half, "id", "the journal is cut in the middle of record"),
    "the seal cut mid-record": Case(
        seal_cut_mid_record,
        "id",
        "the seal after session_end is cut off mid-record, but the store says it ended",
    ),
    "empty file": Case(
        empty_file,
        "id",
        "the journal is empty (0 bytes): every journal begins with session_start, but the"
        " store says it ended completed",
    ),
    "a shorter valid chain replaces it": Case(
        shorter_valid_chain, "id", "the journal was replaced or rewritten"
    ),
    "session_end edited in place": Case(
        session_end_edited_in_place,
        "id",
        f"line {SESSION_END_LINE}: line {SESSION_END_LINE} was altered: its hash does not"
        f" match the prev stored in line {SEAL_LINE}",
    ),
    "re-chained edit of a pulse": Case(
        rechained_edit,
        "id",
        "the checkpoint at line 17 does not carry a valid signature of key",
    ),
    "re-chained edit of session_end, seal left as it was": Case(
        rechained_edit_seal_left,
        "id",
        f"the seal at line {SEAL_LINE} vouches for another chain head",
    ),
    "the seal edited": Case(
        seal_edited,
        "id",
        f"the seal at line {SEAL_LINE} does not carry a valid signature of key",
    ),
    "journal files swapped between sessions": Case(
        files_swapped,
        "id",
        "the journal belongs to session sess-B but is filed as sess-A: journals were"
        " swapped or renamed",
    ),
    "the row points at another session's journal": Case(
        row_points_to_other_journal,
        "id",
        "the journal belongs to session sess-B but the store row is for sess-A",
    ),
    "an old seal replayed after removing a train": Case(
        seal_replayed, "id", "the records before it were rewritten and an old seal replayed"
    ),
    "the seal of another session": Case(
        seal_from_other_session,
        "id",
        "belongs to session sess-B, not sess-A: it was copied from another journal",
    ),
    "re-signed with another key": Case(
        signed_with_another_key,
        "id",
        "which is not on record: forged with a key this installation never had",
    ),
    "re-signed with another key claiming ours": Case(
        signed_with_another_key_claiming_ours,
        "id",
        "the checkpoint at line 9 does not carry a valid signature of key",
    ),
    "the seal's signature stripped": Case(
        seal_signature_stripped,
        "id",
        "some checkpoints or the seal are signed and others are not: signatures were removed",
    ),
    "all signatures stripped and the row deleted": Case(
        all_signatures_stripped_row_deleted,
        "path",
        "before the session began: signatures were removed",
    ),
    "store row chain_head edited": Case(
        row_head_edited,
        "id",
        "is not the head the journal's signed seal vouches for: the store row was edited",
    ),
    "store row pulses edited": Case(
        row_pulses_edited,
        "id",
        f"the store says 99 pulses were delivered, the journal {PULSES}",
    ),
    "store row status edited": Case(
        row_status_edited, "id", "the store says the session ended aborted, the journal completed"
    ),
    "store row deleted": Case(row_deleted, "audit", "UNKNOWN sess-A: journal"),
    "journal deleted": Case(
        journal_deleted, "id", "the journal of session sess-A is missing: no file"
    ),
    "a record appended after the seal": Case(
        record_after_seal, "id", f"line {SEAL_LINE + 1}: a record after the seal"
    ),
    "bytes appended after the seal": Case(
        bytes_after_seal, "id", f"line {SEAL_LINE + 1}: bytes after the seal"
    ),
    "a line deleted in the middle": Case(
        middle_line_deleted,
        "id",
        "line 5: seq 5 where 4 was expected: a record is missing, reordered or renumbered here",
    ),
    "a running row's journal cut below its stored head": Case(
        running_row_journal_cut_below_its_head,
        "id",
        "is not in the journal: records after it were removed or rewritten",
    ),
    "signed with a retired key": Case(signed_with_a_retired_key, "id", "after it was retired"),
    "an unsigned clinical journal forged with no row": Case(
        unsigned_clinical_forgery,
        "path",
        "a clinical session on a stimulator without signatures",
    ),
}


def _run(world: World, command: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    if command == "id":
        code = main(["journal", "verify", "sess-A"])
    elif command == "path":
        code = main(["journal", "verify", str(world.a)])
    else:
        code = main(["records", "audit"])
    return code, capsys.readouterr().out


def test_the_untouched_installation_verifies(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("id", "path", "audit"):
        code, out = _run(world, command, capsys)
        assert code == ExitCode.OK, out
    code, out = _run(world, "id", capsys)
    assert f"intact: {SEAL_LINE} records, completed, {PULSES} pulses, signed by key" in out


@pytest.mark.parametrize("name", list(CASES))
def test_each_manipulation_is_detected_with_its_own_message(
    name: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES[name]
    case.manipulate(world)
    code, out = _run(world, case.command, capsys)
    assert code == ExitCode.TAMPERED, out
    assert case.message in out
    if case.command != "audit":
        assert out.count("\n") == 1 and "TAMPERED: " in out


def test_the_messages_are_all_different() -> None:
    messages = [case.message for case in CASES.values()]
    assert len(CASES) >= 20
    for i, first in enumerate(messages):
        for second in messages[i + 1 :]:
            assert first not in second and second not in first, (first, second)


@pytest.mark.parametrize("fmt", ["html", "json", "tsv"])
def test_report_carries_the_verdict_and_exits_8_in_every_format(
    fmt: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    cut_last_5_lines(world)
    capsys.readouterr()
    assert main(["report", "sess-A", "--format", fmt, "-o", "-"]) == ExitCode.TAMPERED
    out = capsys.readouterr().out
    if fmt == "tsv":
        first, header, *rows = out.splitlines()
        assert first.startswith("# journal: tampered: the journal ends at record 22")
        column = header.split("\t").index("journal")
        assert rows and all(row.split("\t")[column] == "tampered" for row in rows)
    elif fmt == "json":
        assert '"outcome": "tampered"' in out and '"finding": "truncated"' in out
    else:
        assert "JOURNAL TAMPERED: the journal ends at record 22" in out


def test_audit_lists_one_line_per_finding(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    cut_last_line(world)
    row_pulses_edited_b = "UPDATE sessions SET pulses_delivered = 1 WHERE id = 'sess-B'"
    _sql(world, row_pulses_edited_b)
    orphan = world.a.parent / "sess-C.jsonl"
    shutil.copy(world.b, orphan)
    code, out = _run(world, "audit", capsys)
    assert code == ExitCode.TAMPERED
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("TAMPERED sess-A: the seal after session_end is missing")
    assert lines[1] == (
        f"TAMPERED sess-B: the store says 1 pulses were delivered, the journal {PULSES}"
    )
    assert lines[2].startswith(
        "TAMPERED sess-C: the journal belongs to session sess-B but is filed as sess-C"
    )


def test_recovery_does_not_turn_a_cut_journal_into_an_interrupted_one(world: World) -> None:
    from stimctl.clock import VirtualClock
    from stimctl.records.journal_check import recover_journals

    cut_last_5_lines(world)
    before = world.a.read_bytes()
    lines = recover_journals(VirtualClock())
    assert lines == [
        "sess-A.jsonl: not recovered: TAMPERED: the journal ends at record 22 (pulse) without"
        " session_end or seal, but the store says it ended completed with 15 pulses: records"
        " at the end were removed"
    ]
    assert world.a.read_bytes() == before


def test_a_key_file_readable_by_others_is_refused(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from stimctl.keys.files import active_key_id, key_path

    key_id = active_key_id()
    assert key_id is not None
    os.chmod(key_path(key_id), 0o644)
    assert main(["dry-run", "dep-fda-10hz", "--rmt", "52"]) == ExitCode.BAD_INPUT
    assert "accessible to group or others (mode 0644)" in capsys.readouterr().err


def test_verify_checks_against_the_store_not_a_store_made_for_the_occasion(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # A forged journal with its own key put on record is the limit of what the store can
    # say (docs/journal-signing.md); a key that is not on record fails, as above. Here:
    # keys on record survive rotation, so an old journal still verifies.
    with pytest.MonkeyPatch.context() as mp:
        assert main(["keys", "rotate", *as_engineer(mp)]) == 0
    code, out = _run(world, "id", capsys)
    assert code == ExitCode.OK, out
    with Store.open() as store, store.read() as conn:
        rows = conn.execute("SELECT retired_at IS NULL FROM signing_keys").fetchall()
    assert sorted(r[0] for r in rows) == [0, 1]
