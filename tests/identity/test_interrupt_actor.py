"""Ctrl-C during `stimctl run` is journaled under the session's authenticated operator
(it used to be the anonymous ``operator:console``): a real process, a real SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stimctl.records import Store
from tests.identity.people import SECRETS, register
from tests.session.records_helpers import enroll

PROTOCOL = """schema_version = 1
name = "slow"
title = "1 Hz, 30 pulses"
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


def _pulses(journal: Path) -> int:
    return sum(1 for line in journal.read_bytes().splitlines() if b'"event":"pulse"' in line)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_is_journaled_under_the_authenticated_operator(home: Path, tmp_path: Path) -> None:
    with Store.open() as store:
        register(store, "dr-lee", "op-ann")
    enroll(home)  # a session on a stimulator is on record (issue 12)
    protocol = tmp_path / "slow.toml"
    protocol.write_text(PROTOCOL)
    command = [
        sys.executable, "-m", "stimctl", "run", str(protocol), "--subject", "S-01",
        "--device", "magpro-x100", "--port", "stimsim://magpro-x100",
        "--headless", "--yes", "--json", "--operator", "op-ann", "--password-stdin",
    ]  # fmt: skip
    password = tmp_path / "password"
    password.write_text(SECRETS["op-ann"] + "\n")
    with password.open("rb") as stdin:
        session = subprocess.Popen(
            command,
            env={**os.environ, "STIMCTL_HOME": str(home)},
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    try:
        journals = home / "journals"
        deadline = time.monotonic() + 60
        journal: Path | None = None
        while time.monotonic() < deadline and session.poll() is None:
            found = sorted(journals.glob("*.jsonl")) if journals.exists() else []
            if found and _pulses(found[0]) >= 2:
                journal = found[0]
                break
            time.sleep(0.05)
        assert journal is not None, session.communicate(timeout=10)[1].decode()
        session.send_signal(signal.SIGINT)
        out, err = session.communicate(timeout=60)
    finally:
        if session.poll() is None:
            session.kill()
    summary = json.loads(out)
    assert summary["status"] == "aborted", err.decode()
    records = [json.loads(line) for line in journal.read_bytes().splitlines()]
    (abort,) = [r for r in records if r["event"] == "operator"]
    assert abort["payload"] == {"command": "abort", "reason": "interrupted (Ctrl-C)"}
    assert abort["actor"] == "operator:op-ann"
