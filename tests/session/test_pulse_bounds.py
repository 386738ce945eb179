"""Pulse counts the engine did not observe are bounds, journaled as such (issue 12 item 8).

A pulled cable mid-train: the Rapid² reports no pulses and goes on until its keep-alive
lapses; the MagPro reports each pulse but has no keep-alive and finishes the train. The
journal's lower and upper bounds must hold what the device really fired.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.journal import read
from tests.session.harness import start, write_protocol

LONG_TRAINS = (
    'kind = "train"\nfrequency_hz = 10.0\npulses_per_train = 50\n'
    "inter_train_interval_s = 25.0\ntrains = 3"
)


@pytest.mark.parametrize("device", ["magstim-rapid2-super-plus-240v", "magpro-x100"])
def test_a_cable_pulled_mid_train_gives_bounds_that_hold_the_device_count(
    tmp_path: Path, device: str
) -> None:
    run = start(write_protocol(tmp_path, LONG_TRAINS, pct=90), tmp_path, device=device)
    run.at(2.05, run.sim.simulator.pull_cable).join(timeout=30)  # about pulse 21
    summary = run.finish()
    # let the device do whatever it does on its own with the cable gone
    run.clock.advance(10.0)
    run.sim.simulator.poll()
    fired = len(run.sim.pulse_log())
    records = read(summary.journal)
    cut = [r["payload"] for r in records if r["event"] == "train_end"][-1]
    assert summary.status == "fault"
    assert cut["count_exact"] is False
    assert cut["pulses"] <= fired <= cut["pulses_upper"]
    assert summary.pulses_delivered <= fired <= summary.as_dict()["pulses_delivered_upper"]
    end = [r for r in records if r["event"] == "session_end"][-1]["payload"]
    assert end["count_exact"] is False
    assert "not every pulse was observed" in summary.outcome


def test_an_estop_cut_rapid_train_is_bounded_within_one_pulse(tmp_path: Path) -> None:
    rapid = "magstim-rapid2-super-plus-240v"
    run = start(write_protocol(tmp_path, LONG_TRAINS, pct=90), tmp_path, device=rapid)
    run.at(2.05, lambda: run.engine.estop("operator:test")).join(timeout=30)
    summary = run.finish()
    fired = len(run.sim.pulse_log())
    upper = summary.as_dict()["pulses_delivered_upper"]
    assert summary.pulses_delivered <= fired <= upper
    assert upper - summary.pulses_delivered <= 1


def test_a_bounded_count_marks_the_row_inexact_so_the_rules_count_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from stimctl.records import Store, begin_session, get_session
    from stimctl.session.records_link import SessionRecorder
    from stimctl.session.summary import Summary
    from tests.session.records_helpers import enroll

    home = tmp_path / "home"
    monkeypatch.setenv("STIMCTL_HOME", str(home))
    enroll(home)
    with Store.open() as store:
        row = begin_session(
            store,
            subject_id="S-01",
            protocol_name="p",
            protocol_digest="0" * 64,
            pulses_planned=150,
            started_at=dt.datetime.now(dt.UTC),
        )
    summary = Summary(
        session_id=row.id, status="fault", reason="link lost", pulses_delivered=21,
        pulses_planned=150, trains_delivered=0, trains_planned=3, duration_s=3.0,
        planned_duration_s=40.0, onset_errors_s=[], alarms=[], journal="",
        pulses_delivered_upper=50,
    )  # fmt: skip
    SessionRecorder("S-01", row.id).end(summary, "f" * 64)
    with Store.open() as store:
        ended = get_session(store, row.id)
    assert ended.pulses_delivered == 21
    assert not ended.pulses_exact
    assert ended.rule_pulses == 150  # the plan, not the lower bound
