"""The session engine against real drivers and simulators on simulated time."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from stimctl.errors import SafetyViolation
from stimctl.journal import verify
from stimctl.session.runner import Override
from tests.session.harness import TBS, TRAINS, Run, start, write_protocol


def events(run: Run, name: str) -> list[dict[str, object]]:
    return [r["payload"] for r in run.journal() if r["event"] == name]  # type: ignore[misc]


def journal_pulses(run: Run) -> int:
    return sum(int(p["pulses"]) for p in events(run, "train_end"))  # type: ignore[call-overload]


@pytest.mark.parametrize("device", ["magpro-x100", "magstim-rapid2-super-plus-240v"])
def test_device_timed_session_completes_and_matches_the_simulator(
    tmp_path: Path, device: str
) -> None:
    run = start(write_protocol(tmp_path, TRAINS.format(trains=4)), tmp_path, device=device)
    summary = run.finish()
    assert summary.status == "completed"
    assert summary.pulses_delivered == summary.pulses_planned == 80
    assert len(run.sim.pulse_log()) == 80 == journal_pulses(run)
    assert {p.intensity for p in run.sim.pulse_log()} == {30}  # 100% RMT of 30% MSO
    assert not run.sim.simulator.armed
    assert verify(summary.journal).ok
    # trains start on their absolute deadlines: 2 s train + 10 s pause = 12 s apart
    onsets = [float(p["actual_onset_s"]) for p in events(run, "train_start")]  # type: ignore[arg-type]
    assert onsets == pytest.approx([0.0, 12.0, 24.0, 36.0], abs=1e-6)


def test_host_timed_theta_burst_logs_every_pulse(tmp_path: Path) -> None:
    run = start(write_protocol(tmp_path, TBS.format(trains=2), pct=80), tmp_path)
    summary = run.finish()
    assert summary.status == "completed"
    pulses = events(run, "pulse")
    assert len(pulses) == 60 == len(run.sim.pulse_log())
    assert [p["index"] for p in pulses] == list(range(60))
    sim_times = [p.time for p in run.sim.pulse_log()]
    burst = [b - a for a, b in itertools.pairwise(sim_times[:3])]
    assert burst == pytest.approx([0.02, 0.02], abs=1e-3)  # 50 Hz inside a burst


def test_emergency_stop_mid_train_disarms_at_once_and_latches(tmp_path: Path) -> None:
    run = start(write_protocol(tmp_path, TBS.format(trains=3), pct=80), tmp_path)
    disarmed: list[bool] = []

    def estop() -> None:
        disarmed.append(run.engine.estop("operator:test"))
        disarmed.append(not run.sim.simulator.armed)  # the device's own state, same tick

    run.at(11.0, estop).join(timeout=30)  # inside the second train (onset 10 s)
    summary = run.finish()
    assert disarmed == [True, True]
    assert summary.status == "estopped"
    assert run.engine.controller.latched
    delivered = len(run.sim.pulse_log())
    assert 30 < delivered < 60
    assert summary.pulses_delivered == delivered == len(events(run, "pulse"))
    assert verify(summary.journal).ok


def test_abort_disarms_and_ends_aborted(tmp_path: Path) -> None:
    run = start(write_protocol(tmp_path, TRAINS.format(trains=5)), tmp_path)
    run.at(15.0, lambda: run.engine.abort("operator:test", reason="subject discomfort")).join(30)
    summary = run.finish()
    assert summary.status == "aborted"
    assert summary.reason == "subject discomfort"
    assert not run.sim.simulator.armed
    assert summary.pulses_delivered == len(run.sim.pulse_log()) == journal_pulses(run)


def test_stop_finishes_the_current_train_then_disarms(tmp_path: Path) -> None:
    run = start(write_protocol(tmp_path, TRAINS.format(trains=5)), tmp_path)
    run.at(12.5, lambda: run.engine.stop("operator:test")).join(30)  # during train 2
    summary = run.finish()
    assert summary.status == "stopped"
    assert summary.pulses_delivered == 40 == len(run.sim.pulse_log())
    assert summary.trains_delivered == 2


def test_a_stop_during_a_train_shows_as_coming_until_the_train_ends(tmp_path: Path) -> None:
    # A stop given mid-train is taken at the train's end (by design); the console's
    # "then stop" never showed, because the snapshot said nothing until then.
    run = start(write_protocol(tmp_path, TRAINS.format(trains=5)), tmp_path)
    run.at(12.5, lambda: run.engine.stop("operator:test")).join(30)  # during train 2
    seen: list[tuple[str, bool]] = []

    def look() -> None:
        snap = run.engine.snapshot()
        seen.append((snap.state, snap.stop_requested))

    run.at(0.5, look).join(30)
    summary = run.finish()
    assert seen == [("train", True)]
    assert summary.status == "stopped" and summary.trains_delivered == 2
    assert summary.pulses_delivered == 40 == len(run.sim.pulse_log())
    stops = [r for r in run.journal() if r["event"] == "operator" and "stop" in str(r["payload"])]
    assert stops  # the operator's stop is journaled when it is taken


def test_pause_resumes_at_a_train_boundary_and_shifts_the_schedule(tmp_path: Path) -> None:
    run = start(write_protocol(tmp_path, TRAINS.format(trains=3)), tmp_path)
    run.at(5.0, lambda: run.engine.pause("operator:test")).join(30)
    run.at(20.0, lambda: run.engine.resume("operator:test")).join(30)
    summary = run.finish()
    assert summary.status == "completed"
    states = [(p["from"], p["to"]) for p in events(run, "state")]
    assert ("intertrain", "paused") in states
    assert ("paused", "armed") in states
    onsets = [float(p["actual_onset_s"]) for p in events(run, "train_start")]  # type: ignore[arg-type]
    assert onsets[1] > 12.0 + 19.0  # the pause of about 20 s pushed the second train


def test_link_loss_faults_with_a_high_alarm(tmp_path: Path) -> None:
    run = start(write_protocol(tmp_path, TRAINS.format(trains=5)), tmp_path)
    run.at(14.0, run.sim.simulator.pull_cable).join(30)
    summary = run.finish()
    assert summary.status == "fault"
    alarms = events(run, "alarm")
    assert any(a["priority"] == "high" and a["code"] == "DEV-3" for a in alarms)
    assert run.engine.controller.latched
    assert verify(summary.journal).ok


def test_coil_over_the_stop_limit_faults(tmp_path: Path) -> None:
    run = start(write_protocol(tmp_path, TRAINS.format(trains=5)), tmp_path)
    run.at(14.0, lambda: run.sim.simulator.set_coil_temperature(40.5)).join(30)
    summary = run.finish()
    assert summary.status == "fault"
    assert any(a["code"] == "DEV-1" for a in events(run, "alarm"))
    assert not run.sim.simulator.armed


def test_coil_removed_faults(tmp_path: Path) -> None:
    # The Magstim status byte says whether a coil is present (device-protocols A3).
    rapid = "magstim-rapid2-super-plus-240v"
    run = start(write_protocol(tmp_path, TRAINS.format(trains=5)), tmp_path, device=rapid)
    run.at(14.0, run.sim.simulator.remove_coil).join(30)
    summary = run.finish()
    assert summary.status == "fault"
    assert any(a["code"] == "COIL" for a in events(run, "alarm"))
    assert not run.sim.simulator.armed


def test_magpro_coil_removed_faults_as_a_self_disarm(tmp_path: Path) -> None:
    # The MagPro reports coil type 0 ("unrecognised", B3), not "absent"; it disables
    # itself, which the watchdog catches as a discrepancy.
    run = start(write_protocol(tmp_path, TRAINS.format(trains=5)), tmp_path)
    run.at(14.0, run.sim.simulator.remove_coil).join(30)
    summary = run.finish()
    assert summary.status == "fault"
    assert any(a["priority"] == "high" for a in events(run, "alarm"))


def test_intensity_increase_refused_by_the_safety_engine(tmp_path: Path) -> None:
    # 10 Hz, 2 s trains: 130% RMT allows only 2.9 s... but 150% only 0.8 s -> block
    run = start(write_protocol(tmp_path, TRAINS.format(trains=3)), tmp_path)
    run.at(
        5.0,
        lambda: run.engine.change_intensity(
            150, operator="dr-a", reason="no response", confirmed=True
        ),
    ).join(30)
    summary = run.finish()
    assert summary.status == "completed"
    changes = events(run, "intensity")
    refused = [c for c in changes if c.get("accepted") is False]
    assert refused and "WASS1998_T4" in str(refused[0]["refusal"])
    assert {p.intensity for p in run.sim.pulse_log()} == {30}


def test_intensity_increase_needs_confirmation_and_a_reason(tmp_path: Path) -> None:
    run = start(write_protocol(tmp_path, TRAINS.format(trains=3)), tmp_path)
    run.at(5.0, lambda: run.engine.change_intensity(110, operator="dr-a", reason="x")).join(30)
    run.at(
        6.0, lambda: run.engine.change_intensity(110, operator="dr-a", reason="", confirmed=True)
    ).join(30)
    run.at(
        7.0,
        lambda: run.engine.change_intensity(110, operator="dr-a", reason="weak", confirmed=True),
    ).join(30)
    summary = run.finish()
    changes = events(run, "intensity")
    refusals = [c["refusal"] for c in changes if c.get("accepted") is False]
    assert refusals == [
        "raising the intensity needs confirmation",
        "an intensity change needs a reason",
    ]
    assert sorted({p.intensity for p in run.sim.pulse_log()}) == [30, 33]  # 110% of 30 from train 2
    assert summary.status == "completed"


def test_override_verdict_needs_operator_and_reason(tmp_path: Path) -> None:
    # 10 Hz, 80% RMT, 10 s trains: beyond the '>5 s' tested -> override required
    long_trains = (
        'kind = "train"\nfrequency_hz = 10.0\ntrain_duration_s = 10.0\n'
        "inter_train_interval_s = 50.0\ntrains = 2"
    )
    path = write_protocol(tmp_path, long_trains, pct=80)
    with pytest.raises(SafetyViolation, match="override required"):
        start(path, tmp_path)
    run = start(
        path, tmp_path, override=Override("dr-lee", "Hodaj regime, reviewed"), sign="lee-pass-1"
    )
    summary = run.finish()
    assert summary.status == "completed"
    overrides = events(run, "override")
    assert overrides and overrides[0]["reason"] == "Hodaj regime, reviewed"


def test_blocked_protocol_never_reaches_the_device(tmp_path: Path) -> None:
    path = write_protocol(tmp_path, TRAINS.format(trains=3), pct=150)  # 2 s at 150%: block
    with pytest.raises(SafetyViolation, match="WASS1998_T4"):
        start(path, tmp_path)


def test_estop_mid_device_train_counts_what_the_device_reported(tmp_path: Path) -> None:
    # MagPro sends a di/dt message after every pulse (device-protocols B5): exact count
    run = start(write_protocol(tmp_path, TRAINS.format(trains=3)), tmp_path)
    run.at(13.0, lambda: run.engine.estop("operator:test")).join(timeout=30)  # train 2
    summary = run.finish()
    assert summary.status == "estopped"
    delivered = len(run.sim.pulse_log())
    assert 20 < delivered < 40
    assert summary.pulses_delivered == delivered == journal_pulses(run)
    assert not any(p.get("estimated") for p in events(run, "train_end"))


def test_estop_mid_rapid_train_is_an_estimate_and_says_so(tmp_path: Path) -> None:
    # the Rapid² reports no pulses: the cut train is counted by elapsed time, marked
    rapid = "magstim-rapid2-super-plus-240v"
    run = start(write_protocol(tmp_path, TRAINS.format(trains=3)), tmp_path, device=rapid)
    run.at(13.0, lambda: run.engine.estop("operator:test")).join(timeout=30)
    summary = run.finish()
    assert summary.status == "estopped"
    cut = [p for p in events(run, "train_end") if p.get("estimated")]
    assert len(cut) == 1
    assert abs(summary.pulses_delivered - len(run.sim.pulse_log())) <= 1


@pytest.mark.parametrize("at_s", [4.0, 5.0, 15.0, 15.5, 20.0])
def test_estop_between_trains_always_ends_estopped(tmp_path: Path, at_s: float) -> None:
    # the watchdog must not mistake the e-stop's own disarm for a device fault
    run = start(write_protocol(tmp_path, TRAINS.format(trains=3)), tmp_path)
    run.at(at_s, lambda: run.engine.estop("operator:test")).join(timeout=30)
    summary = run.finish()
    assert summary.status == "estopped", summary.reason
    assert not run.sim.simulator.armed


def test_link_loss_during_a_device_timed_train_is_caught_within_a_second(tmp_path: Path) -> None:
    long_trains = (
        'kind = "train"\nfrequency_hz = 10.0\npulses_per_train = 50\n'
        # 25 s pauses: inside a sourced interval region (issue 15 item 3)
        "inter_train_interval_s = 25.0\ntrains = 3"
    )
    run = start(write_protocol(tmp_path, long_trains), tmp_path)
    pulled: list[float] = []

    def pull() -> None:
        pulled.append(run.clock.now())
        run.sim.simulator.pull_cable()

    run.at(2.0, pull).join(timeout=30)  # inside the first 5 s train
    summary = run.finish()
    assert summary.status == "fault"
    alarm = next(r for r in run.journal() if r["event"] == "alarm")
    assert alarm["payload"]["code"] == "DEV-3"
    assert float(alarm["mono"]) - pulled[0] <= 1.0  # type: ignore[arg-type]
