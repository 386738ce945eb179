"""Properties of the attestation over a real signed, sealed journal with its row: no cut,
no deleted line and no flipped byte ever passes as intact (or as a recoverable crash)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from stimctl.clock import VirtualClock
from stimctl.journal import Journal, events
from stimctl.journal.attest import Outcome, PublicKey, RowFacts, attest
from stimctl.journal.signing import Signer

SIGNER = Signer.from_private(Ed25519PrivateKey.generate())
KEYS = {
    SIGNER.key_id: PublicKey(
        SIGNER.key_id, SIGNER.public_hex, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
}


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, RowFacts]:
    folder: Path = tmp_path_factory.mktemp("sealed")
    clock = VirtualClock(start=1.0)
    journal = Journal.create(folder, "sess-P", clock=clock, signer=SIGNER)
    journal.append(events.SESSION_START, {"subject": {"id": "S-01"}})
    for train in range(4):
        journal.append(events.TRAIN_START, {"train": train})
        for index in range(6):
            journal.append(events.PULSE, {"train": train, "index": train * 6 + index})
        journal.append(events.TRAIN_END, {"train": train, "pulses": 6})
    journal.append(events.SESSION_END, {"status": "completed", "pulses_delivered": 24})
    journal.close()
    row = RowFacts("sess-P", "completed", journal.head, 24)
    data = journal.path.read_bytes()
    verdict = attest(data, file_session_id="sess-P", row=row, keys=KEYS)
    assert verdict.outcome is Outcome.INTACT, verdict.message
    return data, row


def _judge(data: bytes, row: RowFacts) -> Outcome:
    return attest(data, file_session_id="sess-P", row=row, keys=KEYS).outcome


@settings(max_examples=150, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=0.9999))
def test_any_cut_of_an_ended_session_is_tampering(
    sealed: tuple[bytes, RowFacts], cut: float
) -> None:
    data, row = sealed
    assert _judge(data[: int(len(data) * cut)], row) is Outcome.TAMPERED


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_deleted_line_is_tampering(sealed: tuple[bytes, RowFacts], data: st.DataObject) -> None:
    content, row = sealed
    lines = content.splitlines(keepends=True)
    index = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    assert _judge(b"".join(lines[:index] + lines[index + 1 :]), row) is Outcome.TAMPERED


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_changed_byte_is_tampering(sealed: tuple[bytes, RowFacts], data: st.DataObject) -> None:
    content, row = sealed
    position = data.draw(st.integers(min_value=0, max_value=len(content) - 1))
    value = data.draw(
        st.integers(min_value=0, max_value=255).filter(lambda b: b != content[position])
    )
    changed = content[:position] + bytes([value]) + content[position + 1 :]
    assert _judge(changed, row) is Outcome.TAMPERED
