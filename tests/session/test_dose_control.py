"""Dose control: every setting checked by the guard; a change needs a reason,
confirmation to go up, and the safety engine's re-validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.errors import SafetyViolation
from stimctl.journal import events
from stimctl.session.dose_control import DoseControl, Revalidate
from stimctl.session.inbox import ChangeIntensity
from tests.session.fakes import FakeStimulator, Parts, guard, plan


def control(tmp_path: Path, revalidate: Revalidate | None = None):  # type: ignore[no-untyped-def]
    parts = Parts(tmp_path, plan(rmt=50.0))  # 100 % RMT of 50 % MSO: 50 % MSO
    driver = FakeStimulator(parts.clock)
    driver.open()
    the_guard = guard(parts.plan)
    dose = DoseControl(driver, parts.plan, the_guard, parts.live, parts.recorder, revalidate)
    return dose, driver, the_guard, parts


def change(percent_rmt: float, reason: str = "tolerability", confirmed: bool = False):  # type: ignore[no-untyped-def]
    return ChangeIntensity("operator:dr-a", percent_rmt, reason, confirmed)


def test_apply_sets_the_device_once_and_journals_the_delivered_dose(tmp_path: Path) -> None:
    dose, driver, _, parts = control(tmp_path)
    dose.apply(*dose.for_train(parts.plan.trains[0]))
    dose.apply(*dose.for_train(parts.plan.trains[1]))  # unchanged: not sent again
    assert driver.power == 50
    (record,) = parts.records(events.INTENSITY)
    assert record["payload"]["percent_mso"] == 50
    assert record["payload"]["delivered_percent_rmt"] == 100.0
    assert parts.live.percent_mso == 50


def test_apply_above_the_verdict_is_refused_before_the_device(tmp_path: Path) -> None:
    dose, driver, the_guard, _ = control(tmp_path)
    with pytest.raises(SafetyViolation, match="GUARD-INT"):
        dose.apply(the_guard.limits.max_intensity_percent_mso + 1, 110.0)
    assert driver.power == 0


@pytest.mark.parametrize(
    ("request_", "refusal"),
    [
        (change(90.0, reason="  "), "needs a reason"),
        (change(110.0), "needs confirmation"),
        (change(90.0), "no safety engine"),
    ],
)
def test_a_change_is_refused_without_its_conditions(
    tmp_path: Path, request_: ChangeIntensity, refusal: str
) -> None:
    dose, _, the_guard, parts = control(tmp_path)
    before = the_guard.limits.max_intensity_percent_mso
    decision = dose.decide(request_)
    assert not decision.accepted and refusal in decision.payload["refusal"]
    assert dose.for_train(parts.plan.trains[1]) == (50, 100.0)
    assert the_guard.limits.max_intensity_percent_mso == before


def test_the_safety_engine_can_refuse_a_change(tmp_path: Path) -> None:
    dose, _, _, _ = control(tmp_path, lambda pct: (False, "TABLE-1: too high", 0))
    decision = dose.decide(change(120.0, confirmed=True))
    assert not decision.accepted
    assert decision.payload["refusal"] == ("the safety engine refuses 120% RMT: TABLE-1: too high")


def test_an_accepted_change_applies_from_the_next_train_within_new_limits(tmp_path: Path) -> None:
    dose, driver, the_guard, parts = control(tmp_path, lambda pct: (True, "", 56))
    decision = dose.decide(change(111.0, confirmed=True))
    assert decision.accepted and decision.payload["percent_mso"] == 55  # 55.5 floored
    assert "from the next train" in decision.event
    assert the_guard.limits.max_intensity_percent_mso == 56
    assert dose.for_train(parts.plan.trains[2]) == (55, 111.0)
    dose.apply(*dose.for_train(parts.plan.trains[2]))
    assert driver.power == 55
