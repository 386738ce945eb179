"""A unit still recharging when a single pulse is due: wait briefly, never fire early.

A BiStim² at its ceiling of 0.25 Hz (device-protocols A7) recharges for about the whole
4 s interval at high output; on a real clock the next pulse can come a few milliseconds
before the unit is READY again, and the session used to fault "armed, not ready". The
engine now waits for READY outside the e-stop gate, up to a short grace (10% of the
interval, at most 0.25 s), fires then, and shifts the rest of the train by the wait, so
no interval is ever shorter than the protocol's. Beyond the grace it faults as before.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from simulators.magstim.base import MagstimSimulator
from stimctl.clock import driving
from stimctl.session.simulation import SimulatorHandle
from tests.session.harness import PROTOCOL, Run, start

PULSES = 5


def _bistim_at_its_ceiling(tmp_path: Path, recharge_s: float) -> Run:
    path = tmp_path / "sp.toml"
    pattern = f'kind = "continuous"\nfrequency_hz = 0.25\npulses = {PULSES}'
    path.write_text(PROTOCOL.format(name="sp", pct=90, pattern=pattern))
    run = start(str(path), tmp_path, device="magstim-bistim", rmt=52.0, begin=False)
    with driving(run.clock):
        unit = _unit(run)
        assert isinstance(unit, MagstimSimulator)
        unit.recharge_s = recharge_s  # the simulator model's knob, not the protocol's
    run.engine.start()
    return run


def _unit(run: Run) -> SimulatorHandle:
    handle = run.sim.simulator
    assert handle is not None
    return handle


def _pulses_journaled(run: Run) -> list[dict[str, Any]]:
    return [r["payload"] for r in run.journal() if r["event"] == "pulse"]  # type: ignore[misc]


def test_a_unit_recharging_a_little_past_the_interval_completes_the_session(
    tmp_path: Path,
) -> None:
    run = _bistim_at_its_ceiling(tmp_path, recharge_s=4.03)
    summary = run.finish(timeout=120)
    assert summary.status == "completed", [a.message for a in run.engine.alarms]
    times = [p.time for p in run.sim.pulse_log()]
    assert len(times) == len(_pulses_journaled(run)) == PULSES
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 4.0 and max(gaps) < 4.0 + 0.25  # never faster, only briefly late
    # Each late pulse's receipt says how late it was.
    receipts = [p["trigger"] for p in _pulses_journaled(run)]
    assert any(r["actual_s"] > r["scheduled_s"] for r in receipts)


def test_a_unit_that_stays_unready_beyond_the_grace_faults_disarmed(tmp_path: Path) -> None:
    run = _bistim_at_its_ceiling(tmp_path, recharge_s=4.6)
    summary = run.finish(timeout=120)
    assert summary.status == "fault"
    assert len(run.sim.pulse_log()) == len(_pulses_journaled(run)) == 1
    assert not _unit(run).armed


def test_an_estop_during_the_wait_is_not_held_up_and_nothing_fires_after(
    tmp_path: Path,
) -> None:
    run = _bistim_at_its_ceiling(tmp_path, recharge_s=4.2)
    stopped_at: list[float] = []

    def estop_while_the_second_pulse_waits() -> None:
        while not run.sim.pulse_log() and run.engine.running:
            run.clock.sleep(0.01)
        run.clock.sleep_until(run.sim.pulse_log()[0].time + 4.1)  # due at 4.0, ready at 4.2
        run.engine.estop("operator:test")
        stopped_at.append(run.clock.now())

    run.at(0.0, estop_while_the_second_pulse_waits).join(timeout=60)
    summary = run.finish(timeout=120)
    assert summary.status == "estopped", summary.reason
    first = run.sim.pulse_log()[0].time
    assert stopped_at and stopped_at[0] < first + 4.2  # the e-stop did not wait for READY
    assert len(run.sim.pulse_log()) == len(_pulses_journaled(run)) == 1
    assert not _unit(run).armed


def test_a_real_clock_run_of_a_bistim_at_its_ceiling_completes(tmp_path: Path) -> None:
    """A real `stimctl run` process on the real clock, wire time on, 84 % MSO (the
    simulator's 4 s recharge): it faulted "armed, not ready" at the second pulse in 3 of
    3 tries before the wait; now every pulse goes, none faster than 0.25 Hz."""
    import json
    import os
    import subprocess
    import sys

    from tests.session.records_helpers import enroll

    home = tmp_path / "home"
    enroll(home, rmt=84.0)
    protocol = tmp_path / "ceiling.toml"
    ceiling = 'kind = "continuous"\nfrequency_hz = 0.25\npulses = 3'
    protocol.write_text(PROTOCOL.format(name="bistim-ceiling", pct=100, pattern=ceiling))
    site = tmp_path / "site.toml"
    site.write_text(
        "schema_version = 1\nresearch_allowed = true\nunauthenticated_research_runs = true\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stimctl",
            "run",
            str(protocol),
            "--rmt",
            "84",
            "--mode",
            "research",
            "--study",
            "ST-1",
            "--subject",
            "S-01",
            "--site",
            str(site),
            "--device",
            "magstim-bistim",
            "--port",
            "stimsim://magstim-bistim?wire_time=1",
            "--headless",
            "--yes",
        ],
        env={**os.environ, "STIMCTL_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pulses 3/3" in done.stdout and "alarms: none" in done.stdout
    [journal] = (home / "journals").glob("*.jsonl")
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    actual = [r["payload"]["trigger"]["actual_s"] for r in records if r["event"] == "pulse"]
    assert len(actual) == 3
    assert all(b - a >= 4.0 for a, b in itertools.pairwise(actual))
