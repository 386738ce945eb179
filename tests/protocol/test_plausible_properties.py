"""Hypothesis: whatever numbers a protocol file holds, the checker answers cleanly.

Every numeric field is drawn from hypothesis' full float range (nan, inf, subnormals,
1e308), huge integers, or a plausible value. Two properties (issue 12 item 10):

- a protocol the model accepts compiles to at least one pulse per train, at most the
  documented ceiling per session, within the session duration ceiling, and every train's
  device setting is a real output (1% MSO or more);
- loading, checking and compiling never raise anything but a `StimctlError` (one line,
  an exit code), for the protocol's numbers and for the threshold.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from stimctl import plausible
from stimctl.configs import configs_dir
from stimctl.device_profiles import load_profile
from stimctl.errors import StimctlError
from stimctl.protocol.derived import derive
from stimctl.protocol.models import Protocol
from stimctl.safety import MotorThreshold, SiteRules, Subject
from stimctl.safety.engine import evaluate
from stimctl.safety.verdict import Severity
from stimctl.session.plan import check_plan, compile_plan
from stimctl.tomlfile import read_toml, validate
from tests.builders import NOW, TODAY

any_float = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
# Plausible values weigh as much as the wild ones, so that many mutated files are
# accepted and compiled (the first property) rather than all refused.
plausible_values = st.sampled_from([1, 2, 3, 5, 10, 20, 25, 30, 50, 90, 100, 600, 0.5, 2.5, 4.0])
wild = st.one_of(
    plausible_values,
    any_float,
    plausible_values,
    st.integers(min_value=-(10**30), max_value=10**30),
    plausible_values,
    st.floats(min_value=1e-9, max_value=1e6),
    plausible_values,
    st.integers(min_value=0, max_value=20_000),
)
NUMERIC = {
    "pattern": {
        "train": (
            "frequency_hz",
            "trains",
            "pulses_per_train",
            "train_duration_s",
            "inter_train_interval_s",
        ),
        "continuous": ("frequency_hz", "pulses"),
        "theta-burst": (
            "pulses_per_burst",
            "burst_frequency_hz",
            "burst_rate_hz",
            "train_duration_s",
            "inter_train_interval_s",
            "trains",
        ),
    },
    "intensity": (
        "percent_rmt",
        "percent_mso",
        "ramp_start_percent_rmt",
        "ramp_trains",
        "ramp_sessions",
    ),
    "schedule": ("sessions_per_day", "min_gap_minutes", "course_sessions"),
}
SHIPPED = [read_toml(p) for p in sorted((configs_dir() / "protocols").glob("*.toml"))]


@st.composite
def protocol_files(draw: st.DrawFn) -> dict[str, Any]:
    """A shipped protocol with up to three numbers replaced by anything a TOML file holds."""
    data = copy.deepcopy(draw(st.sampled_from(SHIPPED)))
    data.setdefault("schedule", {})
    kind = data["pattern"]["kind"]
    slots = [("pattern", key) for key in NUMERIC["pattern"][kind]]
    slots += [("intensity", key) for key in NUMERIC["intensity"]]
    slots += [("schedule", key) for key in NUMERIC["schedule"]]
    if draw(st.booleans()):  # replace only numbers the file has: more files are accepted
        slots = [(section, key) for section, key in slots if key in data[section]]
    for section, key in draw(st.lists(st.sampled_from(slots), max_size=3, unique=True)):
        data[section][key] = draw(wild)
    return data


thresholds = st.one_of(st.sampled_from([30.0, 50.0, 65.5, 90.0]), wild)
DEVICE = load_profile("magstim-rapid2-super-plus-240v")
RESEARCH = SiteRules(mode="research")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(protocol_files())
def test_no_accepted_protocol_compiles_to_nothing_or_past_the_ceiling(
    data: dict[str, Any],
) -> None:
    try:
        protocol = validate(Protocol, data, "prop")
    except StimctlError:
        event("refused")
        return  # refused as input: the other property checks it is a clean refusal
    event("accepted")
    derived = derive(protocol)
    assert derived.pulses_per_train >= 1
    assert 1 <= derived.total_pulses <= plausible.MAX_PULSES_PER_SESSION
    assert derived.session_duration_s <= plausible.MAX_SESSION_DURATION_S + 1e-6
    plan = compile_plan(protocol, 50.0, device_timed_trains=True)
    assert 1 <= plan.total_pulses <= plausible.MAX_PULSES_PER_SESSION
    assert all(t.pulses >= 1 and len(t.pulse_offsets_s) == t.pulses for t in plan.trains)
    assert sum(t.pulses for t in plan.trains) == plan.total_pulses


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(protocol_files(), thresholds)
def test_checker_raises_only_clean_errors_on_any_float(data: dict[str, Any], rmt: Any) -> None:
    try:
        protocol = validate(Protocol, data, "prop")
        subject = Subject(MotorThreshold(rmt, "emg", TODAY))
        verdict = evaluate(protocol, subject, now=NOW, device=DEVICE, site=RESEARCH)
        if verdict.verdict is not Severity.BLOCK:
            plan = compile_plan(protocol, float(rmt), device_timed_trains=True)
            check_plan(plan, DEVICE.max_output_percent_mso)
    except StimctlError as exc:
        message = str(exc)
        assert message and "\n" not in message and len(message) < 1_000
