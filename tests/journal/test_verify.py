"""Verification: every kind of tampering is found, at the right line, and a torn last
line from a crash is reported as recoverable rather than as tampering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stimctl.errors import ConfigError
from stimctl.journal import (
    GENESIS,
    JournalTampered,
    encode,
    line_hash,
    read,
    verify,
    verify_bytes,
)

from .conftest import CROSSING_PULSES, lines_of, power_cut, write_session

# write_session(pulses=5): 1 session_start, 2 train_start, 3-7 pulse, 8 train_end,
# 9 session_end, 10 seal (unsigned: the test home has no key).
LAST = 10


@pytest.fixture
def journal(tmp_path: Path) -> tuple[Path, str]:
    return write_session(tmp_path, pulses=5)


def _write(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


def _record(line: bytes) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(line)
    return record


def _line(record: dict[str, Any]) -> bytes:
    return encode(record) + b"\n"


def _rechain(lines: list[bytes]) -> list[bytes]:
    """What a careful forger does: renumber and re-hash every line after an edit."""
    out: list[bytes] = []
    prev = GENESIS
    for seq, line in enumerate(lines):
        record = _record(line)
        record["seq"], record["prev"] = seq, prev
        out.append(_line(record))
        prev = line_hash(out[-1].rstrip(b"\n"))
    return out


def test_intact_journal(journal: tuple[Path, str]) -> None:
    path, head = journal
    result = verify(path, expected_head=head)
    assert result.ok
    assert not result.tampered
    assert result.records == LAST
    assert result.head == head
    assert result.first_bad_line is None
    assert result.closed
    assert result.status == "completed"
    assert result.reason.startswith("intact: 10 records, closed (completed), sealed")
    assert result.sealed


def test_edited_line_is_the_first_bad_line(journal: tuple[Path, str]) -> None:
    path, _ = journal
    lines = lines_of(path)
    lines[3] = lines[3].replace(b'"index":1', b'"index":7')
    _write(path, lines)
    result = verify(path)
    assert not result.ok
    assert result.first_bad_line == 4
    assert "line 4 was altered" in result.reason


def test_edited_prev_field_points_at_its_own_line(journal: tuple[Path, str]) -> None:
    path, _ = journal
    lines = lines_of(path)
    record = _record(lines[4])
    record["prev"] = line_hash(lines[0].rstrip(b"\n"))
    lines[4] = _line(record)
    _write(path, lines)
    result = verify(path)
    assert result.first_bad_line == 5
    assert "its prev does not match line 4" in result.reason


def test_deleted_line(journal: tuple[Path, str]) -> None:
    path, _ = journal
    lines = lines_of(path)
    del lines[3]
    _write(path, lines)
    result = verify(path)
    assert not result.ok
    assert result.first_bad_line == 4
    assert "seq 4 where 3 was expected" in result.reason


def test_deleted_first_line(journal: tuple[Path, str]) -> None:
    path, _ = journal
    _write(path, lines_of(path)[1:])
    assert verify(path).first_bad_line == 1


def test_reordered_lines(journal: tuple[Path, str]) -> None:
    path, _ = journal
    lines = lines_of(path)
    lines[3], lines[4] = lines[4], lines[3]
    _write(path, lines)
    result = verify(path)
    assert not result.ok
    assert result.first_bad_line == 4


def test_inserted_line_that_chains_to_its_predecessor(journal: tuple[Path, str]) -> None:
    # The forger gives the extra pulse the right seq and prev; the next line betrays it.
    path, _ = journal
    lines = lines_of(path)
    forged = _record(lines[3]) | {"seq": 3, "prev": line_hash(lines[2].rstrip(b"\n"))}
    forged["payload"] = {"train": 0, "index": 99}
    lines.insert(3, _line(forged))
    _write(path, lines)
    result = verify(path)
    assert not result.ok
    assert result.first_bad_line == 4
    assert "line 4 was inserted" in result.reason


def test_renumbered_seq(journal: tuple[Path, str]) -> None:
    path, _ = journal
    lines = lines_of(path)
    lines[5] = lines[5].replace(b'"seq":5', b'"seq":50')
    _write(path, lines)
    result = verify(path)
    assert result.first_bad_line == 6
    assert "seq 50 where 5 was expected" in result.reason


def test_wrong_genesis(journal: tuple[Path, str]) -> None:
    path, _ = journal
    lines = lines_of(path)
    lines[0] = lines[0].replace(GENESIS.encode(), b"1" * 64)
    _write(path, lines)
    result = verify(path)
    assert result.first_bad_line == 1
    assert "genesis" in result.reason


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda line: line.replace(b'"seq":', b'"seq": '), "canonical"),
        (lambda line: b"not json\n", "not valid UTF-8 JSON"),
        (lambda line: b"\n", "not valid UTF-8 JSON"),
        (lambda line: line.replace(b"train_start", b"train\xffstart"), "UTF-8"),
        (lambda line: line.replace(b'"actor"', b'"extra":1,"actor"'), "wrong fields"),
        (lambda line: line.replace(b'"seq":1', b'"seq":NaN'), "UTF-8 JSON"),
        (lambda line: b"[1,2]\n", "not a JSON object"),
    ],
)
def test_malformed_line(journal: tuple[Path, str], mangle: Any, reason: str) -> None:
    path, _ = journal
    lines = lines_of(path)
    lines[1] = mangle(lines[1])
    _write(path, lines)
    result = verify(path)
    assert not result.ok
    assert result.first_bad_line == 2
    assert reason in result.reason


def test_rechained_forgery_is_caught_by_the_stored_head(journal: tuple[Path, str]) -> None:
    path, head = journal
    lines = lines_of(path)
    lines[3] = lines[3].replace(b'"index":1', b'"index":7')
    _write(path, _rechain(lines))
    assert verify(path).ok  # a consistent chain: only the stored head can tell
    result = verify(path, expected_head=head)
    assert not result.ok
    assert result.first_bad_line == LAST
    assert "expected chain head" in result.reason


def test_edited_last_line_needs_the_stored_head(journal: tuple[Path, str]) -> None:
    path, head = journal
    lines = lines_of(path)
    lines[-1] = lines[-1].replace(b'"session"', b'"recovery"')
    _write(path, lines)
    assert verify(path).ok  # documented: nothing chains to the last line yet
    result = verify(path, expected_head=head)
    assert not result.ok
    assert result.first_bad_line == LAST


def test_removed_last_records_are_caught_by_the_stored_head(journal: tuple[Path, str]) -> None:
    path, head = journal
    _write(path, lines_of(path)[:-2])
    plain = verify(path)
    assert plain.ok
    assert not plain.closed  # without the head it merely looks unfinished
    assert not verify(path, expected_head=head).ok


def test_a_lagging_stored_head_is_accepted(journal: tuple[Path, str]) -> None:
    # The store may be updated after the journal: a head earlier in the chain is fine.
    path, _ = journal
    earlier = line_hash(lines_of(path)[4].rstrip(b"\n"))
    assert verify(path, expected_head=earlier.upper()).ok


def test_expected_head_must_be_a_digest(journal: tuple[Path, str]) -> None:
    path, _ = journal
    with pytest.raises(ConfigError, match="not a SHA-256"):
        verify(path, expected_head="abc")


def test_record_after_the_seal(journal: tuple[Path, str]) -> None:
    path, _ = journal
    lines = lines_of(path)
    extra = _record(lines[2]) | {"seq": LAST, "prev": line_hash(lines[-1].rstrip(b"\n"))}
    _write(path, [*lines, _line(extra)])
    result = verify(path)
    assert not result.ok
    assert result.first_bad_line == LAST + 1
    assert "a record after the seal" in result.reason


def test_record_between_session_end_and_seal(journal: tuple[Path, str]) -> None:
    path, _ = journal
    lines = lines_of(path)
    extra = _record(lines[2]) | {"seq": LAST - 1, "prev": line_hash(lines[-2].rstrip(b"\n"))}
    _write(path, _rechain([*lines[:-1], _line(extra), lines[-1]]))
    result = verify(path)
    assert not result.ok
    assert result.first_bad_line == LAST
    assert "after the closing session_end" in result.reason


def test_torn_bytes_after_the_seal_are_tampering(journal: tuple[Path, str]) -> None:
    path, _ = journal
    path.write_bytes(path.read_bytes() + b'{"actor":"eng')
    result = verify(path)
    assert not result.ok
    assert result.first_bad_line == LAST + 1
    assert result.reason == "bytes after the seal"


def test_torn_last_line_is_recoverable_not_tampered(tmp_path: Path) -> None:
    path, _ = write_session(tmp_path, pulses=5, close=False)
    lines = lines_of(path)
    torn = lines[-1][:30]
    _write(path, [*lines[:-1], torn])
    result = verify(path)
    assert result.ok
    assert result.truncated
    assert result.torn_tail == torn
    assert result.records == len(lines) - 1
    assert result.head == line_hash(lines[-2].rstrip(b"\n"))
    assert result.first_bad_line == len(lines)
    assert f"truncated last record at line {len(lines)}" in result.reason
    assert [r["seq"] for r in read(path)] == list(range(len(lines) - 1))


def test_torn_line_in_the_middle_is_tampering(tmp_path: Path) -> None:
    path, _ = write_session(tmp_path, pulses=5, close=False)
    lines = lines_of(path)
    lines[4] = lines[4][:30]  # no newline: it runs into the next line
    _write(path, lines)
    result = verify(path)
    assert not result.ok
    assert not result.truncated
    assert result.first_bad_line == 5


def test_missing_newline_on_a_complete_last_record_is_a_torn_line(
    tmp_path: Path,
) -> None:
    path, _ = write_session(tmp_path, pulses=2, close=False)
    path.write_bytes(path.read_bytes()[:-1])
    result = verify(path)
    assert result.ok
    assert result.truncated


def test_empty_journal() -> None:
    result = verify_bytes(b"")
    assert result.ok
    assert result.records == 0
    assert result.head == GENESIS
    assert not result.closed


def test_read_refuses_a_tampered_journal(journal: tuple[Path, str]) -> None:
    path, _ = journal
    lines = lines_of(path)
    del lines[2]
    _write(path, lines)
    with pytest.raises(JournalTampered, match="line 3") as info:
        read(path)
    assert info.value.result.first_bad_line == 3


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no journal at"):
        verify(tmp_path / "absent.jsonl")


def test_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read journal"):
        verify(tmp_path)


def test_zero_filled_last_line_is_a_torn_record_not_tampering(tmp_path: Path) -> None:
    # Power cut: the second block of the last write reached the disk, the first did not.
    path, _ = write_session(tmp_path, pulses=CROSSING_PULSES, close=False)
    lines = lines_of(path)
    wrecked = power_cut(lines)
    wreck = wrecked[-1]
    _write(path, wrecked)
    result = verify(path)
    assert result.ok
    assert result.truncated
    assert result.torn_tail == wreck
    assert result.records == len(lines) - 1


def test_zeros_that_do_not_end_on_a_block_boundary_are_tampering(tmp_path: Path) -> None:
    # 40 zeros at the start of the last line and then its bytes again: no block boundary
    # there, so no power cut made it (a power cut zeroes whole blocks).
    path, _ = write_session(tmp_path, pulses=3, close=False)
    lines = lines_of(path)
    _write(path, [*lines[:-1], b"\x00" * 40 + lines[-1][40:]])
    result = verify(path)
    assert not result.ok
    assert result.first_bad_line == len(lines)


def test_a_nul_for_the_newline_between_the_last_two_records_is_tampering(
    tmp_path: Path,
) -> None:
    # Found by hypothesis (test_properties): one NUL in place of the newline that ends the
    # second-to-last line merged the last two records into one "line" with a NUL, which was
    # taken for a power cut's zero-filled block, so the journal lost its session_end and
    # still verified as intact. A power cut zeroes whole blocks, never one byte mid-file.
    path, _ = write_session(tmp_path, pulses=3, close=True)
    data = path.read_bytes()
    newline = data.rstrip(b"\n").rfind(b"\n")
    path.write_bytes(data[:newline] + b"\x00" + data[newline + 1 :])
    result = verify(path)
    assert not result.ok
    assert not result.truncated


def test_nul_in_an_earlier_line_is_tampering(tmp_path: Path) -> None:
    path, _ = write_session(tmp_path, pulses=3, close=False)
    lines = lines_of(path)
    lines[2] = b"\x00" * 40 + lines[2][40:]
    _write(path, lines)
    result = verify(path)
    assert not result.ok
    assert result.first_bad_line == 3
