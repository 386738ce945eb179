"""A real session for console tests: a small protocol, the built-in simulator, and a
simulated clock paced so the test can act between (and during) trains.

`Pacer` is a participant of the `SimulatedClock` that lets simulated time advance by
`step_s` and then holds it still for `hold_s` of real time, again and again. So the
session runs faster than real time but in small steps whatever the machine's load
(keep-alives and timeouts all live on the same simulated timeline), and `freeze()`
stops simulated time altogether while the test looks or presses keys.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stimctl.clock import SimulatedClock, driving
from stimctl.console.app import ConsoleApp
from stimctl.errors import StateError
from stimctl.safety import MotorThreshold, SiteRules, Subject
from stimctl.session.engine import SessionEngine
from stimctl.session.runner import Prepared, open_session, prepare
from stimctl.session.simulation import SimulatedDevice
from stimctl.session.summary import Snapshot, Summary

DEVICE = "magstim-rapid2-super-plus-240v"
FIXED_NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)

SMALL_PROTOCOL = """\
schema_version = 1
name = "console-test-10hz"
title = "Console test, 10 Hz, 4 short trains"
indication = "neuropathic-pain"
source = "test fixture: a short session in the shape of np-m1-10hz-90"

[target]
site = "M1-hand"
hemisphere = "contralateral-to-pain"

[coil]
family = "figure-8"

[intensity]
percent_rmt = {percent_rmt}

[pattern]
kind = "train"
frequency_hz = 10.0
pulses_per_train = 20
inter_train_interval_s = 5.0
trains = {trains}
"""


def write_protocol(directory: Path, *, percent_rmt: float = 90, trains: int = 4) -> Path:
    path = directory / "console-test-10hz.toml"
    path.write_text(SMALL_PROTOCOL.format(percent_rmt=percent_rmt, trains=trains))
    return path


class Pacer:
    def __init__(self, clock: SimulatedClock, step_s: float = 0.05, hold_s: float = 0.001):
        self.clock = clock
        self.step_s = step_s
        self.hold_s = hold_s
        self._run = threading.Event()
        self._run.set()
        self._frozen = threading.Event()
        self._stop = threading.Event()
        self._until: Callable[[], bool] | None = None
        self._thread = threading.Thread(target=self._loop, name="pacer", daemon=True)
        self._ready = threading.Event()

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(2)

    def _loop(self) -> None:
        self.clock.participate()
        self._ready.set()
        try:
            while not self._stop.is_set():
                if self._run.is_set():
                    self.clock.sleep(self.step_s)
                    until = self._until
                    if until is not None and until():
                        self._until = None
                        self._run.clear()
                        self._frozen.set()
                time.sleep(self.hold_s)
        finally:
            self.clock.detach()

    def hold_when(self, condition: Callable[[], bool]) -> None:
        """Let time run until `condition()` holds, then freeze it there (checked between
        steps, while simulated time stands still, so the state is held exactly)."""
        self._frozen.clear()
        self._until = condition
        self._run.set()

    def wait_held(self, timeout_s: float = 30.0) -> None:
        if not self._frozen.wait(timeout_s):
            self._until = None
            raise AssertionError(f"condition not reached within {timeout_s} s of real time")

    def thaw(self) -> None:
        self._until = None
        self._run.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class LiveSession:
    app: ConsoleApp
    engine: SessionEngine
    prepared: Prepared
    sim: SimulatedDevice
    clock: SimulatedClock
    pacer: Pacer

    def hold_when(self, condition: Callable[[Snapshot], bool]) -> None:
        """From now on, freeze simulated time as soon as the snapshot meets `condition`
        (the engine cannot move on until `thaw()`). Arm it before the keys that start
        things: the session runs much faster than the console draws."""
        self.pacer.hold_when(lambda: condition(self.engine.snapshot()))

    def held(self, timeout_s: float = 30.0) -> Snapshot:
        self.pacer.wait_held(timeout_s)
        return self.engine.snapshot()

    def thaw(self) -> None:
        self.pacer.thaw()

    def wait_end(self, timeout_s: float = 30.0) -> Summary:
        self.pacer.thaw()
        try:
            return self.engine.wait(timeout=timeout_s)
        except StateError:
            raise AssertionError(f"the session did not end: {_threads()}") from None


def _threads() -> str:
    """Where every thread is (for a session that hangs)."""
    frames = sys._current_frames()
    return "\n".join(
        f"--- {t.name}\n" + "".join(traceback.format_stack(frames[t.ident])[-6:])
        for t in threading.enumerate()
        if t.ident in frames
    )


def prepared_for(protocol: Path, *, rmt: float = 50.0, device: str = DEVICE) -> Prepared:
    subject = Subject(MotorThreshold(rmt, "emg", FIXED_NOW.date()), subject_id="S-001")
    return prepare(str(protocol), subject, device, site=SiteRules(), now=FIXED_NOW)


@contextmanager
def live_session(
    tmp_path: Path, *, percent_rmt: float = 90, trains: int = 4, rmt: float = 50.0
) -> Iterator[LiveSession]:
    prepared = prepared_for(
        write_protocol(tmp_path, percent_rmt=percent_rmt, trains=trains), rmt=rmt
    )
    clock = SimulatedClock()
    with SimulatedDevice(prepared.device, clock) as sim:
        with driving(clock):
            engine = open_session(
                prepared,
                sim.url,
                clock=clock,
                journal_dir=tmp_path / "journals",
                transport=sim.open_transport(),
                driver_options=sim.driver_options,
                operator="tester",
            )
        pacer = Pacer(clock)
        pacer.start()
        app = ConsoleApp(
            engine,
            prepared,
            operator="tester",
            report_dir=tmp_path / "reports",
            wall=lambda: FIXED_NOW,
            flash=False,
            poll_s=0.05,
        )
        try:
            yield LiveSession(app, engine, prepared, sim, clock, pacer)
        finally:
            pacer.thaw()
            if engine.running:
                engine.abort("tester", reason="test teardown")
                engine.wait(timeout=30)
            pacer.stop()
            with driving(clock):
                engine.driver.close()
