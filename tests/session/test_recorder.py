"""The recorder: journal payloads the readers rely on, and failing closed on a write error."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from stimctl.hal import FireReceipt
from stimctl.journal import events
from stimctl.journal.pulses import count_pulses
from stimctl.session.ending import JournalFailed
from stimctl.session.summary import TrainRecord
from tests.session.fakes import Parts, plan


def test_a_pulse_record_carries_the_fire_receipt(tmp_path: Path) -> None:
    parts = Parts(tmp_path, plan())
    t0 = parts.schedule.t0
    parts.recorder.pulse(0, 0, FireReceipt("serial", t0 + 1.0004, scheduled_s=t0 + 1.0))
    (pulse,) = parts.records(events.PULSE)
    assert pulse["payload"] == {
        "train": 0,
        "index": 0,
        "t_s": 1.0004,
        "trigger": {"via": "serial", "actual_s": round(t0 + 1.0004, 6), "scheduled_s": t0 + 1.0},
    }
    assert pulse["actor"] == "device"


def test_pulse_records_with_receipts_still_count(tmp_path: Path) -> None:
    parts = Parts(tmp_path, plan())
    train = parts.plan.trains[0]
    rec = TrainRecord(0, 0.0, 0.0, train.pulses, pulses=2)
    parts.recorder.train_start(train, rec)
    for index in range(2):
        parts.recorder.pulse(0, index, FireReceipt("serial", parts.clock.now()))
    rec.end_s = 1.0
    parts.recorder.train_end(train, rec)
    from stimctl.journal import read

    count = count_pulses(list(read(parts.journal.path)))
    assert count.pulses == 2 and count.exact


def test_a_device_timed_train_journals_when_start_train_returned(tmp_path: Path) -> None:
    parts = Parts(tmp_path, plan(device_timed=True))
    t0 = parts.schedule.t0
    parts.recorder.device_train_started(3, t0 + 12.0, t0 + 12.002)
    (record,) = [r for r in parts.records(events.DEVICE) if "start_train" in r["payload"]]
    assert record["payload"] == {
        "train": 3,
        "start_train": {"scheduled_s": 12.0, "actual_s": 12.002},
    }


def test_a_failed_write_reports_once_raises_and_drops_later_writes(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    parts = Parts(tmp_path, plan())
    mocker.patch.object(parts.journal, "append", side_effect=OSError(28, "No space left"))
    with pytest.raises(JournalFailed):
        parts.recorder.state("armed", "train", "start_train")
    assert len(parts.failures) == 1 and parts.recorder.error is not None
    assert "No space left" in parts.recorder.error
    parts.recorder.state("train", "fault", "fault")  # dropped: nothing raised, not reported
    assert len(parts.failures) == 1
