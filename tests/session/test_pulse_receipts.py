"""The journal says how and when every trigger left (FireReceipt, issue 14/18): host-timed
pulses carry their receipt against the scheduled deadline; device-timed trains say when
`start_train` was sent. The journal's readers still count and report the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.journal import read
from stimctl.journal.pulses import count_pulses
from tests.session.harness import TBS, TRAINS, start, write_protocol


def test_host_timed_pulses_journal_their_receipts_on_the_schedule(tmp_path: Path) -> None:
    run = start(write_protocol(tmp_path, TBS.format(trains=2)), tmp_path)
    assert run.engine.plan.timing == "host"
    summary = run.finish()
    records = list(read(run.engine.journal.path))
    pulses = [r["payload"] for r in records if r["event"] == "pulse"]
    assert summary.status == "completed" and len(pulses) == summary.pulses_delivered == 60
    offsets = run.engine.plan.trains[0].pulse_offsets_s
    first = [p["trigger"] for p in pulses[: len(offsets)]]
    for trigger, offset in zip(first, offsets, strict=True):
        assert trigger["via"] == "serial"
        assert trigger["scheduled_s"] == pytest.approx(first[0]["scheduled_s"] + offset, abs=1e-6)
        assert trigger["actual_s"] >= trigger["scheduled_s"]
    count = count_pulses(records)
    assert count.pulses == 60 and count.exact


def test_device_timed_trains_journal_when_they_were_started(tmp_path: Path) -> None:
    run = start(write_protocol(tmp_path, TRAINS.format(trains=2)), tmp_path)
    assert run.engine.plan.timing == "device"
    summary = run.finish()
    records = list(read(run.engine.journal.path))
    starts = [
        r["payload"] for r in records if r["event"] == "device" and "start_train" in r["payload"]
    ]
    train_starts = [r["payload"] for r in records if r["event"] == "train_start"]
    assert [s["train"] for s in starts] == [0, 1] and summary.status == "completed"
    for started, train in zip(starts, train_starts, strict=True):
        sent = started["start_train"]
        assert sent["actual_s"] >= sent["scheduled_s"] >= train["actual_onset_s"] - 1e-6
