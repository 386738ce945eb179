"""Subjects on record and `stimctl` processes for the session-start and crash tests."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from stimctl.records import (
    ScreeningRecord,
    Store,
    ThresholdRecord,
    add_subject,
    list_sessions,
    record_screening,
    record_threshold,
)
from stimctl.records.models import SessionRecord
from stimctl.safety.tables import screening_table
from tests.identity.people import SECRETS, register

SLOW_PROTOCOL = """schema_version = 1
name = "slow"
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
pulses = {pulses}
"""
"""One train of `pulses` at 1 Hz: the session's row has no pulses on record until the
train ends, which is the window the concurrent-start race used."""


def write_protocol(directory: Path, pulses: int) -> Path:
    path = directory / "slow.toml"
    path.write_text(SLOW_PROTOCOL.format(pulses=pulses))
    return path


def enroll(home: Path, subject_id: str = "S-01", rmt: float = 40.0) -> None:
    """A subject with a clean screening and an EMG threshold, both from today."""
    today = dt.datetime.now(dt.UTC).date()
    with Store.open(home / "stimctl.db") as store:
        add_subject(store, subject_id)
        record_screening(
            store,
            ScreeningRecord(
                subject_id=subject_id,
                questionnaire="rossi-2011",
                answered_on=today,
                answers=dict.fromkeys(screening_table().items, False),
            ),
        )
        record_threshold(store, ThresholdRecord(subject_id, rmt, "emg", today))


OPERATOR = "op-ann"
"""The operator who signs in for sessions on a stimulator (role operator; registered by
`sign_in_ready`, their password in `SECRETS`)."""

SIGN_IN = ("--operator", OPERATOR, "--password-stdin")
"""`run` options for a signed-in operator: the password is standard input's first line."""

PASSWORD = SECRETS[OPERATOR] + "\n"
"""Standard input for a `run` with `SIGN_IN`."""


def sign_in_ready(home: Path) -> None:
    """Register dr-lee (the first operator, a physician) and `OPERATOR` in `home`'s store:
    a clinical session on a stimulator needs an authenticated operator (issue 14)."""
    with Store.open(home / "stimctl.db") as store:
        register(store, "dr-lee", OPERATOR)


def init_signing_key(home: Path) -> None:
    """`stimctl keys init` in `home`: a clinical session on a real port (not stimsim://)
    needs a journal signing key (issue 14). Once operators are registered, an engineer
    makes it (eng-kim, registered here if need be)."""
    from stimctl.identity.operators import registered_count
    from tests.identity.people import ENGINEER, SECRETS, ensure_engineer

    signed_in: list[str] = []
    with Store.open(home / "stimctl.db") as store:
        if registered_count(store) > 0:
            signed_in = ensure_engineer(store)
    done = subprocess.run(
        [sys.executable, "-m", "stimctl", "keys", "init", *signed_in],
        env=stimctl_env(home),
        input=SECRETS[ENGINEER] + "\n" if signed_in else "",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def sessions_of(home: Path, subject_id: str = "S-01") -> list[SessionRecord]:
    with Store.open(home / "stimctl.db") as store:
        return list_sessions(store, subject_id)


def stimctl_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "STIMCTL_SITE"}
    return {**env, "STIMCTL_HOME": str(home), **extra}


def spawn(home: Path, *args: str, stdin: str = "", **env: str) -> subprocess.Popen[str]:
    """`stimctl *args` in `home`; `stdin` is all of its standard input (e.g. `PASSWORD`),
    given up front from a file so that the caller's `communicate()` needs no input."""
    with tempfile.TemporaryFile("w+") as given:
        given.write(stdin)
        given.seek(0)
        return subprocess.Popen(
            [sys.executable, "-m", "stimctl", *args],
            env=stimctl_env(home, **env),
            stdin=given,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
