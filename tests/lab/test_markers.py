"""LSL markers (issue 18 item 2): an inlet in the test receives one JSON marker per pulse
and per state change, with the journal's sequence numbers, stamped with the pulse time."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pylsl
import pytest

from stimctl.clock import MonotonicClock
from stimctl.hal import FireReceipt
from stimctl.journal import Journal, events, read
from stimctl.lab.markers import MarkerOutlet


def _inlet(name: str) -> pylsl.StreamInlet:
    found = pylsl.resolve_byprop("name", name, 1, 2.0)
    assert found, f"marker stream {name} not found"
    assert found[0].type() == "Markers"
    assert found[0].channel_format() == pylsl.cf_string
    assert found[0].nominal_srate() == pylsl.IRREGULAR_RATE
    inlet = pylsl.StreamInlet(found[0])
    inlet.open_stream(timeout=2.0)
    return inlet


def _drain(inlet: pylsl.StreamInlet, count: int) -> list[tuple[dict[str, object], float]]:
    got: list[tuple[dict[str, object], float]] = []
    deadline = time.monotonic() + 5.0
    while len(got) < count and time.monotonic() < deadline:
        sample, stamp = inlet.pull_sample(timeout=0.2)
        if sample is not None:
            got.append((json.loads(sample[0]), stamp))
    return got


def test_one_marker_per_pulse_with_the_journal_sequence_numbers(
    tmp_path: Path, stream_suffix: str
) -> None:
    clock = MonotonicClock()
    name = f"markers-{stream_suffix}"
    outlet = MarkerOutlet(clock, name)
    inlet = _inlet(name)
    time.sleep(0.2)  # the inlet's connection settles before the first marker
    journal = Journal.create(tmp_path, "lsl-1", clock=clock, signer=None, listeners=(outlet,))
    journal.append(events.SESSION_START, {"kind": "test"})
    journal.append(
        events.TRAIN_START,
        {"train": 0, "intensity_percent_mso": 61, "delivered_percent_rmt": 110.0},
    )
    fired_at = []
    for index in range(5):
        receipt = FireReceipt(via="serial", actual_s=clock.now())
        fired_at.append(pylsl.local_clock())
        time.sleep(0.01)  # the journal write comes after the pulse
        journal.append(events.PULSE, {"train": 0, "index": index, **receipt.to_journal()})
        journal.append(events.DEVICE, {"temperature_c": 25})  # a status sample: no marker
    journal.append(events.TRAIN_END, {"train": 0, "pulses": 5})
    journal.append(events.SESSION_END, {"status": "completed", "pulses_delivered": 5})
    journal.close()

    markers = _drain(inlet, 9)
    records = read(tmp_path / "lsl-1.jsonl")
    pulses = [m for m in markers if m[0]["event"] == "pulse"]
    assert len(pulses) == 5
    journal_pulses = [r for r in records if r["event"] == "pulse"]
    assert [m["seq"] for m, _ in pulses] == [r["seq"] for r in journal_pulses]
    assert [m["pulse"] for m, _ in pulses] == [0, 1, 2, 3, 4]
    assert {m["session"] for m, _ in markers} == {"lsl-1"}
    assert {(m["intensity_mso"], m["intensity_rmt"], m["train"]) for m, _ in pulses} == {
        (61, 110.0, 0)
    }
    # Stamped with the pulse's time, not the journal write 10 ms later.
    for (_, stamp), fired in zip(pulses, fired_at, strict=True):
        assert abs(stamp - fired) < 0.005
    states = [m["event"] for m, _ in markers if m["event"] != "pulse"]
    assert states == ["session_start", "train_start", "train_end", "session_end"]
    assert markers[-1][0]["status"] == "completed"
    assert outlet.published == 9
    assert journal.listener_failures == []


def test_dry_run_with_lsl_publishes_every_pulse_of_a_device_timed_session(
    stream_suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from stimctl.cli import main

    name = f"session-markers-{stream_suffix}"
    received: list[dict[str, object]] = []
    ready = threading.Event()
    done = threading.Event()

    def record() -> None:  # a lab's recorder, started before the session
        found = pylsl.resolve_byprop("name", name, 1, 10.0)
        if not found:
            return
        inlet = pylsl.StreamInlet(found[0], max_buflen=60)
        inlet.open_stream(timeout=5.0)
        ready.set()
        while not done.is_set() or inlet.samples_available():
            samples, _ = inlet.pull_chunk(timeout=0.2)
            received.extend(json.loads(s[0]) for s in samples)
            if received and received[-1]["event"] == "session_end":
                return

    recorder = threading.Thread(target=record, daemon=True)
    recorder.start()
    code = main(["dry-run", "np-m1-10hz-90", "--rmt", "52", "--lsl", name, "--json"])
    out, _ = capsys.readouterr()
    done.set()
    recorder.join(10)
    assert code == 0 and ready.is_set()
    summary = json.loads(out)
    records = read(summary["journal"])
    pulses = [m for m in received if m["event"] == "pulse"]
    assert len(pulses) == summary["pulses_delivered"] == 2000
    # The Rapid² times its own trains: journaled per train, so each pulse marker is derived
    # from its train and carries that train's `train_end` sequence number.
    assert all(m["derived"] for m in pulses)
    assert [m["pulse"] for m in pulses] == list(range(2000))
    train_ends = {r["payload"]["train"]: r["seq"] for r in records if r["event"] == "train_end"}
    assert all(m["seq"] == train_ends[m["train"]] for m in pulses)
    assert {m["session"] for m in received} == {summary["session_id"]}
    assert {m["intensity_mso"] for m in pulses} == {
        r["payload"]["intensity_percent_mso"] for r in records if r["event"] == "train_start"
    }
    assert received[-1]["event"] == "session_end"
    assert any(m["event"] == "state" for m in received)
