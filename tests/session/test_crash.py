"""SIGKILL the session process mid-train: on restart the session is closed as
interrupted with the exact pulse count, the device has disarmed itself through its own
keep-alive lapse, and the journal chain is intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stimctl.clock import MonotonicClock
from stimctl.journal import verify
from stimctl.session.runner import recover_interrupted
from tests.session.records_helpers import enroll

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pty")

UNLOCK = "d5e1-0000c0de-01"
PROTOCOL = """schema_version = 1
name = "crash"
title = "1 Hz, host-timed"
indication = "research"
source = "test"
[target]
site = "M1-hand"
hemisphere = "left"
[coil]
family = "figure-8"
[intensity]
percent_rmt = 100
[pattern]
kind = "continuous"
frequency_hz = 1.0
pulses = 30
"""


def pulse_records(journal: Path) -> int:
    if not journal.exists():
        return 0
    lines = journal.read_bytes().splitlines()
    return sum(1 for line in lines if b'"event":"pulse"' in line)


def test_sigkill_mid_train_recovers_exactly(tmp_path: Path) -> None:
    import simulators

    sim = simulators.create_simulator(
        f"magstim-rapid2?type=super-plus&mains=240&unlock_code={UNLOCK}"
    )
    stop = threading.Event()
    server = simulators.PtyServer(sim)
    serving = threading.Thread(target=server.serve, args=(stop,), daemon=True)
    serving.start()
    protocol = tmp_path / "crash.toml"
    protocol.write_text(PROTOCOL)
    home = tmp_path / "home"
    enroll(home, rmt=30.0)  # a session on a stimulator is always on record
    env = {**os.environ, "STIMCTL_HOME": str(home)}
    site = tmp_path / "site.toml"  # a research session without signing in (ADR 0014)
    site.write_text(
        "schema_version = 1\nresearch_allowed = true\nunauthenticated_research_runs = true\n"
    )
    command = [
        sys.executable,
        "-m",
        "stimctl",
        "run",
        str(protocol),
        "--subject",
        "S-01",
        "--mode",
        "research",  # a research session on record: no operator sign-in (site file)
        "--study",
        "ST-1",
        "--site",
        str(site),
        "--device",
        "magstim-rapid2-super-plus-240v",
        "--port",
        server.path,
        "--headless",
        "--yes",
        "--driver-option",
        f"unlock_code={UNLOCK}",
    ]
    session = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        journals = home / "journals"
        deadline = time.monotonic() + 30
        journal: Path | None = None
        while time.monotonic() < deadline:
            found = sorted(journals.glob("*.jsonl")) if journals.exists() else []
            if found and pulse_records(found[0]) >= 4:
                journal = found[0]
                break
            time.sleep(0.05)
        assert journal is not None, session.stderr.read().decode() if session.poll() else ""
        # right after a pulse record: the engine now sleeps until the next 1 Hz deadline
        session.send_signal(signal.SIGKILL)
        session.wait(timeout=10)
        assert sim.armed  # the host died with the device armed...
        time.sleep(1.6)  # ...and the device's keep-alive watchdog (1 s armed) disarms it
        assert not sim.armed
        assert not sim.state.remote
        delivered = len(sim.pulses)
        assert delivered == pulse_records(journal)

        lines = recover_interrupted(journals, clock=MonotonicClock())
        assert lines == [f"{journal.name}: closed as interrupted, {delivered} pulses delivered"]
        result = verify(journal)
        assert result.ok and result.closed
        last, seal = (json.loads(line) for line in journal.read_bytes().splitlines()[-2:])
        assert (last["event"], seal["event"]) == ("session_end", "seal")
        assert seal["payload"]["sealed_by"] == "recovery"
        assert last["payload"]["status"] == "interrupted"
        assert last["payload"]["pulses_delivered"] == delivered
    finally:
        if session.poll() is None:
            session.kill()
        stop.set()
        serving.join(timeout=5)
        server.close()
