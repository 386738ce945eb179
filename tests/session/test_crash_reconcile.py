"""A `run` SIGKILLed mid-session: the next start closes its row from the journal and the
daily rule counts it (issue 12 item 3b). Real processes, a real pty simulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stimctl.records import Store
from tests.session.records_helpers import (
    PASSWORD,
    SIGN_IN,
    enroll,
    init_signing_key,
    sessions_of,
    sign_in_ready,
    spawn,
    write_protocol,
)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pty")

UNLOCK = "d5e1-0000c0de-01"


def pulse_records(journal: Path) -> int:
    if not journal.exists():
        return 0
    return sum(1 for line in journal.read_bytes().splitlines() if b'"event":"pulse"' in line)


@pytest.fixture
def rapid() -> Iterator[tuple[object, str]]:
    import simulators

    sim = simulators.create_simulator(
        f"magstim-rapid2?type=super-plus&mains=240&unlock_code={UNLOCK}"
    )
    stop = threading.Event()
    server = simulators.PtyServer(sim)
    serving = threading.Thread(target=server.serve, args=(stop,), daemon=True)
    serving.start()
    try:
        yield sim, server.path
    finally:
        stop.set()
        serving.join(timeout=5)
        server.close()


def kill_mid_session(home: Path, protocol: Path, port: str) -> Path:
    """Start `run` for S-01 (a clinical session: an operator signs in) and SIGKILL it after
    4 journaled pulses; its journal."""
    session = spawn(
        home,
        "run",
        str(protocol),
        "--subject",
        "S-01",
        "--device",
        "magstim-rapid2-super-plus-240v",
        "--port",
        port,
        "--headless",
        "--yes",
        "--driver-option",
        f"unlock_code={UNLOCK}",
        *SIGN_IN,
        stdin=PASSWORD,
    )
    try:
        journals = home / "journals"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = sorted(journals.glob("*.jsonl")) if journals.exists() else []
            if found and pulse_records(found[0]) >= 4:
                session.send_signal(signal.SIGKILL)
                session.wait(timeout=10)
                return found[0]
            if session.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no pulses journaled: {session.communicate()[1]}")
    finally:
        if session.poll() is None:
            session.kill()
            session.wait()


def test_sigkilled_run_is_reconciled_by_the_next_start_and_counts_today(
    tmp_path: Path, rapid: tuple[object, str]
) -> None:
    sim, port = rapid
    home = tmp_path / "home"
    enroll(home)
    sign_in_ready(home)
    init_signing_key(home)
    protocol = write_protocol(tmp_path, pulses=30)
    journal = kill_mid_session(home, protocol, port)
    [row] = sessions_of(home)
    assert row.status == "running" and row.pulses_delivered == 0  # what the crash leaves
    time.sleep(1.6)  # the Rapid's keep-alive lapse disarms it
    delivered = len(sim.pulses)  # type: ignore[attr-defined]
    assert delivered == pulse_records(journal) >= 4

    # the next start, the same day, on any command: reconciled first, then the rules
    nxt = spawn(home, "dry-run", str(protocol), "--subject", "S-01", "--speed", "max")
    _, err = nxt.communicate(timeout=120)
    assert nxt.returncode == 1, err
    assert f"reconciled: {row.id} (S-01): closed as interrupted, {delivered} pulses" in err
    assert "SES-1" in err.splitlines()[-1]
    [row] = sessions_of(home)
    assert row.status == "interrupted"
    assert row.pulses_delivered == delivered and row.pulses_exact
    assert row.ended_at is not None


def test_sessions_reconcile_closes_a_dead_row_once(
    tmp_path: Path, rapid: tuple[object, str]
) -> None:
    sim, port = rapid
    home = tmp_path / "home"
    enroll(home)
    sign_in_ready(home)
    init_signing_key(home)
    protocol = write_protocol(tmp_path, pulses=30)
    kill_mid_session(home, protocol, port)
    out = subprocess.run(
        [sys.executable, "-m", "stimctl", "sessions", "reconcile"],
        env={**os.environ, "STIMCTL_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "closed as interrupted" in out.stdout and "1 closed, 0 still running" in out.stdout
    [row] = sessions_of(home)
    assert row.status == "interrupted" and row.pulses_delivered == len(sim.pulses)  # type: ignore[attr-defined]
    # a second reconcile has nothing to do
    from stimctl.records.reconcile import reconcile

    with Store.open(home / "stimctl.db") as store:
        assert reconcile(store) == []
