"""Run real sessions in tests: real driver, real simulator on stimsim://, simulated time."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stimctl.clock import SimulatedClock, driving
from stimctl.journal import read
from stimctl.safety import MotorThreshold, SiteRules, Subject
from stimctl.session.engine import SessionEngine
from stimctl.session.runner import Override, Prepared, prepare
from stimctl.session.simulation import SimulatedDevice, open_simulated_session
from stimctl.session.summary import Summary

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)

PROTOCOL = """schema_version = 1
name = "{name}"
title = "test"
indication = "research"
source = "test"
[target]
site = "M1-hand"
hemisphere = "left"
[coil]
family = "figure-8"
[intensity]
percent_rmt = {pct}
[pattern]
{pattern}
"""

TRAINS = (
    'kind = "train"\nfrequency_hz = 10.0\npulses_per_train = 20\n'
    "inter_train_interval_s = 10.0\ntrains = {trains}"
)
SLOW = 'kind = "continuous"\nfrequency_hz = 1.0\npulses = {pulses}'
TBS = (
    'kind = "theta-burst"\npulses_per_burst = 3\nburst_frequency_hz = 50.0\nburst_rate_hz = 5.0\n'
    "train_duration_s = 2.0\ninter_train_interval_s = 8.0\ntrains = {trains}"
)


def write_protocol(tmp_path: Path, pattern: str, pct: float = 100, name: str = "t") -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(PROTOCOL.format(name=name, pct=pct, pattern=pattern))
    return str(path)


@dataclass
class Run:
    engine: SessionEngine
    sim: SimulatedDevice
    clock: SimulatedClock
    prepared: Prepared

    def finish(self, timeout: float = 60) -> Summary:
        summary = self.engine.wait(timeout)
        with driving(self.clock):
            self.engine.driver.close()
        self.sim.__exit__(None, None, None)
        return summary

    def at(self, seconds: float, action: Callable[[], object]) -> threading.Thread:
        """Do `action` at `seconds` of simulated time after now, from another thread."""
        start = self.clock.now()

        def later() -> None:
            while self.clock.now() < start + seconds and self.engine.running:
                self.clock.sleep_until(start + seconds)
            action()

        thread = threading.Thread(target=later, daemon=True)
        thread.start()
        return thread

    def journal(self) -> list[dict[str, object]]:
        return [
            r.__dict__ if not isinstance(r, dict) else r for r in read(self.engine.journal.path)
        ]


def start(
    protocol: str,
    tmp_path: Path,
    *,
    device: str = "magpro-x100",
    rmt: float = 30.0,
    site: SiteRules | None = None,
    override: Override | None = None,
    sign: str | None = None,
    begin: bool = True,
) -> Run:
    """`sign`: the override operator's password; they are registered (tests.identity.people)
    in this test's store and sign the override, as `open_session` requires."""
    clock = SimulatedClock()
    subject = Subject(MotorThreshold(rmt, "emg", NOW.date()))
    prepared = prepare(
        protocol, subject, device, site=site or SiteRules(), override=override, now=NOW
    )
    if sign is not None and override is not None:
        from stimctl.identity.override_signing import sign_override
        from stimctl.records import Store
        from tests.identity.people import register

        with Store.open() as store:
            register(store, override.operator)
            prepared = sign_override(store, prepared, sign)
    sim = SimulatedDevice(prepared.device, clock)
    engine = open_simulated_session(prepared, sim, journal_dir=tmp_path / "journals")
    run = Run(engine, sim, clock, prepared)
    if begin:
        engine.start()
    return run
