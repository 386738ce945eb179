"""Issue 12 item 1: the simulator's pulse log and the journal agree pulse for pulse.

A BiStim² fires its output B `interval` after every trigger of A whenever B has power
(device-protocols A4 `A`/`C`, TDb086). A session that plans single pulses must leave no B
power behind, whatever an earlier (paired-pulse) study left on the unit, or refuse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.clock import driving
from tests.session.harness import PROTOCOL, Run, start

PULSES = 10
SLOW_BISTIM = f'kind = "continuous"\nfrequency_hz = 0.2\npulses = {PULSES}'


def _protocol(tmp_path: Path) -> str:
    path = tmp_path / "sp.toml"
    # 90 % RMT of an RMT of 52 % MSO: 46 % MSO, the example.
    path.write_text(PROTOCOL.format(name="sp", pct=90, pattern=SLOW_BISTIM))
    return str(path)


def _journal(run: Run, name: str) -> list[dict[str, object]]:
    return [r["payload"] for r in run.journal() if r["event"] == name]  # type: ignore[misc]


def _assert_pulse_for_pulse(run: Run) -> None:
    log = run.sim.pulse_log()
    journaled = _journal(run, "pulse")
    intensities = {int(p["percent_mso"]) for p in _journal(run, "intensity") if p["accepted"]}  # type: ignore[call-overload]
    assert [(p.channel, p.intensity) for p in log] == [("A", 46)] * len(journaled)
    assert len(log) == len(journaled) == PULSES
    assert intensities == {46}


def test_default_bistim_dry_run_logs_one_simulator_pulse_per_journaled_pulse(
    tmp_path: Path,
) -> None:
    run = start(_protocol(tmp_path), tmp_path, device="magstim-bistim", rmt=52.0)
    summary = run.finish(timeout=120)
    assert summary.status == "completed"
    _assert_pulse_for_pulse(run)


def test_bistim_left_in_paired_state_never_fires_output_b(tmp_path: Path) -> None:
    """An earlier paired-pulse study left B at 100 % MSO and 3 ms: restored before arming."""
    run = start(_protocol(tmp_path), tmp_path, device="magstim-bistim", rmt=52.0, begin=False)
    # The unit was in that state before the session: put it there, then let the session
    # arm (the driver re-applies the whole planned state right before `_do_arm`).
    with driving(run.clock):
        run.sim.simulator.set_state(power_b=100, interval=3)
    run.engine.start()
    summary = run.finish(timeout=120)
    assert summary.status == "completed"
    _assert_pulse_for_pulse(run)
    assert run.sim.simulator.state.power_b == 0


def test_bistim_that_ignores_its_b_power_setting_is_never_armed(tmp_path: Path) -> None:
    run = start(_protocol(tmp_path), tmp_path, device="magstim-bistim", rmt=52.0, begin=False)
    with driving(run.clock):
        run.sim.simulator.set_state(power_b=100, interval=3)
        run.sim.simulator.faults.sticky_b_power = True
    run.engine.start()
    summary = run.finish(timeout=120)
    assert summary.status != "completed"
    assert run.sim.pulse_log() == []
    assert _journal(run, "pulse") == []
    assert not run.sim.simulator.armed
    text = " ".join(a.message for a in run.engine.alarms)
    assert "power_b" in text and "100" in text and "0" in text


@pytest.mark.parametrize(
    "device", ["magstim-200", "magstim-rapid2-standard-240v", "magpro-x100-magoption"]
)
def test_single_pulse_sessions_agree_pulse_for_pulse_on_every_family(
    tmp_path: Path, device: str
) -> None:
    run = start(_protocol(tmp_path), tmp_path, device=device, rmt=52.0)
    summary = run.finish(timeout=120)
    assert summary.status == "completed"
    _assert_pulse_for_pulse(run)
