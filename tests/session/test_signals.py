"""SIGTERM and SIGHUP end a real `stimctl run` process the way Ctrl-C does (issue 12 item 7):
the engine aborts, the device is disarmed by the host, the journal is closed with the
exact count, and the process exits with the documented code 130, no traceback."""

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

from stimctl.errors import ExitCode
from stimctl.journal import verify
from tests.session.records_helpers import enroll
from tests.session.test_crash import PROTOCOL, UNLOCK, pulse_records


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_mid_session_aborts_disarms_and_closes_the_journal(
    tmp_path: Path, signum: signal.Signals
) -> None:
    import simulators

    sim = simulators.create_simulator(
        f"magstim-rapid2?type=super-plus&mains=240&unlock_code={UNLOCK}"
    )
    stop = threading.Event()
    server = simulators.PtyServer(sim)
    threading.Thread(target=server.serve, args=(stop,), daemon=True).start()
    protocol = tmp_path / "crash.toml"
    protocol.write_text(PROTOCOL)
    home = tmp_path / "home"
    enroll(home, rmt=30.0)
    site = tmp_path / "site.toml"
    site.write_text(
        "schema_version = 1\nresearch_allowed = true\nunauthenticated_research_runs = true\n"
    )
    command = [
        sys.executable, "-m", "stimctl", "run", str(protocol), "--rmt", "30",
        "--mode", "research", "--study", "ST-1", "--subject", "S-01", "--site", str(site),
        "--device", "magstim-rapid2-super-plus-240v", "--port", server.path, "--headless", "--yes",
        "--driver-option", f"unlock_code={UNLOCK}",
    ]  # fmt: skip
    env = {**os.environ, "STIMCTL_HOME": str(home)}
    session = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        journals = home / "journals"
        deadline = time.monotonic() + 30
        journal: Path | None = None
        while time.monotonic() < deadline:
            found = sorted(journals.glob("*.jsonl")) if journals.exists() else []
            if found and pulse_records(found[0]) >= 3:
                journal = found[0]
                break
            time.sleep(0.05)
        assert journal is not None
        session.send_signal(signum)
        sent = time.monotonic()
        _, err = session.communicate(timeout=10)
        assert session.returncode == ExitCode.INTERRUPTED
        assert time.monotonic() - sent < 5.0
        assert b"Traceback" not in err
        # the host disarmed it (not the keep-alive lapse of a dead process) and said so
        assert not sim.armed
        lines = journal.read_bytes().splitlines()
        assert json.loads(lines[-1])["event"] == "seal"
        last = json.loads(lines[-2])
        assert last["event"] == "session_end"
        assert last["payload"]["status"] == "aborted"
        assert last["payload"]["disarmed"] is True
        expected = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        assert expected in last["payload"]["reason"]
        assert last["payload"]["pulses_delivered"] == len(sim.pulses) == pulse_records(journal)
        assert verify(journal).ok
    finally:
        if session.poll() is None:
            session.kill()
        stop.set()
