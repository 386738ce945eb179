"""The dose chain is checked where it ends (issue 14 item 1).

One conversion (`stimctl.protocol.dose.to_device`); the verdict judges the compiled plan
(PLAN-1), so a wrong plan compiler is refused in `prepare`, before any device is opened;
the runtime guard takes its limits from the verdict, so a plan the verdict did not judge
is stopped at the first set-intensity; the journal carries the delivered % RMT.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stimctl.errors import SafetyViolation
from stimctl.protocol.dose import delivered_percent, to_device
from stimctl.protocol.models import Protocol
from stimctl.safety import MotorThreshold, SiteRules, Subject
from stimctl.session.guard import RuntimeGuard
from stimctl.session.plan import Plan, compile_plan
from stimctl.session.runner import prepare
from stimctl.session.simulation import SimulatedDevice, open_simulated_session
from tests.session.harness import NOW, TRAINS, start, write_protocol

# (prescribed % of the threshold, threshold % MSO, set % MSO, delivered %)
CASES = [
    (90.0, 52.0, 46, 88.4615),  # the example: 46.8 -> 46% MSO = 88.5% RMT
    (60.0, 50.0, 30, 60.0),  # 29.999999... of float noise is 30, not 29
    (120.0, 70.0, 84, 120.0),
    (80.0, 44.0, 35, 79.5455),  # 35.2% MSO of an AMT
    (100.0, 30.0, 30, 100.0),
]


@pytest.mark.parametrize(("pct", "reference", "set_mso", "delivered"), CASES)
def test_to_device_rounds_down_and_states_what_is_delivered(
    pct: float, reference: float, set_mso: int, delivered: float
) -> None:
    dose = to_device(pct, reference)
    assert dose.set_percent_mso == set_mso
    assert dose.delivered_percent == pytest.approx(delivered, abs=1e-3)
    assert f"set as {set_mso}% MSO" in dose.note
    assert f"{delivered:.1f}% delivered" in dose.note


@given(
    st.floats(min_value=1.0, max_value=200.0, allow_nan=False),
    st.floats(min_value=1.0, max_value=100.0, allow_nan=False),
)
def test_to_device_never_sets_more_than_the_dose_nor_a_whole_step_less(
    pct: float, reference: float
) -> None:
    dose = to_device(pct, reference)
    assert dose.set_percent_mso <= dose.exact_percent_mso + 1e-6
    assert dose.exact_percent_mso - dose.set_percent_mso < 1.0
    assert dose.delivered_percent <= pct + 1e-6
    assert delivered_percent(dose.set_percent_mso, reference) == dose.delivered_percent


def test_a_threshold_of_zero_carries_no_dose() -> None:
    with pytest.raises(ValueError, match="cannot carry a dose"):
        to_device(90.0, 0.0)


def _doubling_pulses(
    protocol: Protocol, rmt: float, *, device_timed_trains: bool, session_index: int = 0
) -> Plan:
    plan = compile_plan(protocol, rmt, device_timed_trains=device_timed_trains)
    trains = tuple(
        dataclasses.replace(
            t, pulses=2 * t.pulses, pulse_offsets_s=t.pulse_offsets_s + t.pulse_offsets_s
        )
        for t in plan.trains
    )
    return dataclasses.replace(plan, trains=trains, total_pulses=2 * plan.total_pulses)


def _doubling_intensity(
    protocol: Protocol, rmt: float, *, device_timed_trains: bool, session_index: int = 0
) -> Plan:
    plan = compile_plan(protocol, rmt, device_timed_trains=device_timed_trains)
    trains = tuple(
        dataclasses.replace(t, intensity_percent_mso=2 * t.intensity_percent_mso)
        for t in plan.trains
    )
    return dataclasses.replace(plan, trains=trains)


@pytest.mark.parametrize(
    ("compiler", "what"),
    [(_doubling_pulses, "40 pulses, checked 20"), (_doubling_intensity, "set to 60% MSO")],
)
def test_a_wrong_plan_compiler_is_refused_before_any_device(
    tmp_path: Path, compiler: object, what: str
) -> None:
    protocol = write_protocol(tmp_path, TRAINS.format(trains=3))
    subject = Subject(MotorThreshold(30.0, "emg", NOW.date()))
    with pytest.raises(SafetyViolation, match=what) as refused:
        prepare(
            protocol,
            subject,
            "magpro-x100",
            site=SiteRules(),
            now=NOW,
            compiler=compiler,  # type: ignore[arg-type]
        )
    assert refused.value.rule == "PLAN-1"


def test_the_verdict_carries_the_plan_the_guard_is_built_from(tmp_path: Path) -> None:
    protocol = write_protocol(tmp_path, TRAINS.format(trains=3), pct=90)
    subject = Subject(MotorThreshold(52.0, "emg", NOW.date()))
    prepared = prepare(protocol, subject, "magpro-x100", site=SiteRules(), now=NOW)
    figures = prepared.verdict.derived["plan"]
    assert figures["max_intensity_percent_mso"] == 46
    assert figures["max_delivered_percent_rmt"] == pytest.approx(88.462)
    assert figures["total_pulses"] == 60
    guard = RuntimeGuard.for_verdict(prepared.verdict, coil_stop_c=40.0, coil_warn_c=38.0)
    assert guard.limits.max_intensity_percent_mso == 46
    assert guard.limits.total_pulses == 60
    guard.before_train(now=0.0, pulses=20, percent_mso=46, coil_c=None)
    with pytest.raises(SafetyViolation, match="47% MSO is above the checked 46%"):
        guard.check_intensity(47)


def test_a_verdict_without_a_plan_gives_no_guard(tmp_path: Path) -> None:
    protocol = write_protocol(tmp_path, TRAINS.format(trains=1))
    subject = Subject(MotorThreshold(30.0, "emg", NOW.date()))
    prepared = prepare(protocol, subject, "magpro-x100", site=SiteRules(), now=NOW)
    bare = dataclasses.replace(prepared.verdict, derived={})
    with pytest.raises(SafetyViolation, match="no compiled plan"):
        RuntimeGuard.for_verdict(bare, coil_stop_c=40.0, coil_warn_c=38.0)


def _doubled(plan: Plan) -> Plan:
    trains = tuple(
        dataclasses.replace(t, intensity_percent_mso=2 * t.intensity_percent_mso)
        for t in plan.trains
    )
    return dataclasses.replace(plan, trains=trains)


def test_open_session_refuses_a_plan_the_verdict_did_not_judge(tmp_path: Path) -> None:
    protocol = write_protocol(tmp_path, TRAINS.format(trains=2))
    subject = Subject(MotorThreshold(30.0, "emg", NOW.date()))
    prepared = prepare(protocol, subject, "magpro-x100", site=SiteRules(), now=NOW)
    swapped = dataclasses.replace(prepared, plan=_doubled(prepared.plan))
    from stimctl.clock import SimulatedClock

    sim = SimulatedDevice(prepared.device, SimulatedClock())
    try:
        with pytest.raises(SafetyViolation, match="60% MSO is above the checked 30%"):
            open_simulated_session(swapped, sim, journal_dir=tmp_path / "journals")
        assert sim.pulse_log() == []
        assert not list((tmp_path / "journals").glob("*"))  # refused before the journal
    finally:
        sim.__exit__(None, None, None)


def test_the_guard_stops_a_setting_that_is_not_the_verdicts(tmp_path: Path) -> None:
    """A plan swapped inside the engine after open: the guard (verdict's limits) refuses
    the first set-intensity; the session faults, no pulse leaves the device."""
    protocol = write_protocol(tmp_path, TRAINS.format(trains=2))
    run = start(protocol, tmp_path, begin=False)
    run.engine.plan = _doubled(run.engine.plan)
    run.engine.start()
    summary = run.finish()
    assert summary.pulses_delivered == 0
    assert run.sim.pulse_log() == []
    records = run.journal()
    assert [r for r in records if "GUARD-INT" in str(r)], "the refusal is journaled"
    settings = [r["payload"] for r in records if r.get("event") == "intensity"]
    assert not [p for p in settings if isinstance(p, dict) and p.get("percent_mso") == 60]


def test_the_journal_carries_the_delivered_dose_beside_the_prescribed(tmp_path: Path) -> None:
    protocol = write_protocol(tmp_path, TRAINS.format(trains=1), pct=90)
    run = start(protocol, tmp_path, rmt=52.0)
    run.finish()
    records = run.journal()
    starts = [r for r in records if r.get("event") == "train_start"]
    assert starts, records
    payload = starts[0]["payload"]
    assert isinstance(payload, dict)
    assert payload["intensity_percent_mso"] == 46
    assert payload["intensity_percent_rmt"] == 90
    assert payload["delivered_percent_rmt"] == pytest.approx(88.462)


def test_reports_and_exports_read_the_dose_the_engine_journals(tmp_path: Path) -> None:
    """The records export read ``intensity_pct_mso``, a name the engine never wrote: a
    real session exported its base pulse intensity as n/a. The report's TSV has the
    delivered % RMT beside the prescribed one."""
    from stimctl.records.trains import train_percent_mso
    from stimctl.report.content import tsv
    from stimctl.report.model import load_session

    protocol = write_protocol(tmp_path, TRAINS.format(trains=1), pct=90)
    run = start(protocol, tmp_path, rmt=52.0)
    run.finish()
    starts = [r["payload"] for r in run.journal() if r.get("event") == "train_start"]
    assert isinstance(starts[0], dict)
    assert train_percent_mso(starts[0]) == 46.0
    assert starts[0]["frequency_hz"] == 10.0
    data = load_session(run.engine.journal.path)
    assert data.trains[0].delivered_percent_rmt == pytest.approx(88.462)
    header, row = [line for line in tsv(data).splitlines() if not line.startswith("#")][:2]
    cells = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    assert float(cells["intensity_percent_mso"]) == 46
    assert float(cells["intensity_percent_rmt"]) == 90
    assert float(cells["delivered_percent_rmt"]) == pytest.approx(88.462)
