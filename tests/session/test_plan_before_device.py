"""The plan is compiled and checked in `prepare`, before any device is opened (issue 12.10).

`open_session` used to compile the plan after `driver.open()`: a protocol with 1e23 trains
passed the verdict (override) and then grew memory with the device connected. Now the
plan is part of `Prepared`; `open_session` reuses it when the unit times trains as its
profile says, and `check_plan` refuses a plan that delivers nothing or too much.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from stimctl.errors import ConfigError
from stimctl.plausible import MAX_PULSES_PER_SESSION
from stimctl.safety import MotorThreshold, SiteRules, Subject
from stimctl.session import runner
from stimctl.session.plan import check_plan
from stimctl.session.runner import prepare
from tests.session.harness import NOW, TRAINS, start, write_protocol


def _prepared(tmp_path: Path) -> runner.Prepared:
    protocol = write_protocol(tmp_path, TRAINS.format(trains=3))
    subject = Subject(MotorThreshold(30.0, "emg", NOW.date()))
    return prepare(protocol, subject, "magpro-x100", site=SiteRules(), now=NOW)


def test_prepare_returns_a_checked_plan(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path)
    assert prepared.plan.total_pulses == 60
    assert [t.intensity_percent_mso for t in prepared.plan.trains] == [30, 30, 30]
    assert prepared.plan.timing == "device"  # the profile's device-timed trains


def test_open_session_reuses_the_plan_compiled_before_the_device(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    compile_spy = mocker.spy(runner, "compile_plan")
    protocol = write_protocol(tmp_path, TRAINS.format(trains=2))
    run = start(protocol, tmp_path, begin=False)
    try:
        assert compile_spy.call_count == 1  # in prepare; none once the device was opened
        assert run.engine.plan is run.prepared.plan
    finally:
        run.engine.start()
        run.finish()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("no-pulses", "without pulses"),
        ("zero-output", "0% MSO"),
        ("above-device", "101% MSO"),
        ("past-ceiling", "plausible ceiling"),
    ],
)
def test_check_plan_refuses_what_no_device_should_be_sent(
    tmp_path: Path, change: str, problem: str
) -> None:
    plan = _prepared(tmp_path).plan
    first = plan.trains[0]
    if change == "no-pulses":
        trains = (dataclasses.replace(first, pulses=0, pulse_offsets_s=()), *plan.trains[1:])
        plan = dataclasses.replace(plan, trains=trains)
    elif change == "zero-output":
        plan = dataclasses.replace(
            plan, trains=(dataclasses.replace(first, intensity_percent_mso=0), *plan.trains[1:])
        )
    elif change == "above-device":
        plan = dataclasses.replace(
            plan, trains=(dataclasses.replace(first, intensity_percent_mso=101), *plan.trains[1:])
        )
    else:
        plan = dataclasses.replace(plan, total_pulses=MAX_PULSES_PER_SESSION + 1)
    with pytest.raises(ConfigError, match=problem):
        check_plan(plan, 100.0)


@pytest.mark.parametrize("percent_rmt", [1e-300, 0.0, -5.0, float("nan"), float("inf"), 5e-324])
def test_a_mid_session_intensity_change_meets_the_same_ranges(
    tmp_path: Path, percent_rmt: float
) -> None:
    """The engine's revalidation used model_copy (no validation): 1e-300 % RMT was allowed."""
    allowed, why, dose = runner.revalidator(_prepared(tmp_path))(percent_rmt)
    assert not allowed
    assert why.startswith("intensity: percent_rmt: ")
    assert dose == 0


def test_a_plausible_mid_session_change_is_still_checked_by_the_rules(tmp_path: Path) -> None:
    allowed, why, dose = runner.revalidator(_prepared(tmp_path))(80.0)
    assert allowed and why == "" and dose == 24
