"""A real process SIGKILLed while appending: recovery knows exactly what was journaled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stimctl.clock import MonotonicClock
from stimctl.journal import close_interrupted, find_unfinished, read, verify

REPO = Path(__file__).resolve().parents[2]

APPEND_FOREVER = """
import sys
from pathlib import Path
from stimctl.clock import MonotonicClock
from stimctl.journal import Journal, events

journal = Journal.create(Path(sys.argv[1]), "crash", clock=MonotonicClock())
journal.append(events.SESSION_START, {"subject": "S-01"})
journal.append(events.TRAIN_START, {"train": 0})
index = 0
while True:
    journal.append(events.PULSE, {"train": 0, "index": index, "pad": "x" * 200})
    index += 1
    if index % 25 == 0:
        print(index, flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_append_then_recover(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", APPEND_FOREVER, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env=env,
    )
    try:
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline()
            if not line:
                stderr = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"the appending process died early: {stderr}")
            if int(line) >= 100:
                break
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    path = tmp_path / "crash.jsonl"
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    journaled_pulses = sum(1 for line in complete.split(b"\n") if b'"event":"pulse"' in line)
    assert journaled_pulses >= 100

    before = verify(path)
    assert before.ok, before.reason
    assert not before.closed
    assert find_unfinished(tmp_path) == [path]  # the kernel released the dead writer's lock

    summary = close_interrupted(path, clock=MonotonicClock())
    assert summary.pulses_delivered == journaled_pulses
    assert summary.count.exact

    after = verify(path)
    assert after.ok, after.reason
    assert after.closed
    assert after.status == "interrupted"
    records = read(path)
    pulse_indices = [r["payload"]["index"] for r in records if r["event"] == "pulse"]
    assert pulse_indices == list(range(journaled_pulses))
    assert records[-1]["event"] == "seal"
    assert records[-2]["payload"]["pulses_delivered"] == journaled_pulses
