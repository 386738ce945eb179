"""The pulse counter's bounds on plain numbers (issue 14 item 3, first piece of the split).

The same arithmetic runs end to end in test_pulse_bounds.py on the simulators; here each
case of `unreported_train_bounds` is one line: a 10 Hz train of 50 pulses from t=100 s.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stimctl.session.pulse_count import (
    Evidence,
    TrainWindow,
    link_failed_since,
    pulses_by,
    unreported_train_bounds,
)

TRAIN = TrainWindow(pulses=50, frequency_hz=10.0, started=100.0, end=105.0)
GOOD = Evidence(link_lost=False)


@pytest.mark.parametrize(
    ("elapsed", "pulses"),
    [(0.0, 1), (0.0999, 1), (0.1, 2), (0.45, 5), (4.9, 50), (60.0, 50)],
)
def test_pulses_by_counts_the_first_pulse_at_the_start(elapsed: float, pulses: int) -> None:
    assert pulses_by(elapsed, TRAIN) == pulses


@pytest.mark.parametrize(
    ("now", "evidence", "bounds"),
    [
        (105.0, GOOD, (50, 50)),  # ran to its end on a good link: exact
        (102.0, GOOD, (20, 21)),  # cut by the host at 2 s: within one pulse
        (102.0, Evidence(True, last_reply=101.0), (11, 50)),  # link lost after 1 s
        (110.0, Evidence(True, last_reply=None), (1, 50)),  # never answered during it
        (110.0, Evidence(True, last_reply=120.0), (50, 50)),  # last reply after its end
        (103.0, Evidence(False, fault_at=102.5, last_healthy=101.5), (16, 31)),
        (103.0, Evidence(False, fault_at=102.5, last_healthy=99.0), (0, 31)),
        (103.0, Evidence(False, fault_at=90.0, last_healthy=89.0), (30, 31)),  # old fault
    ],
)
def test_unreported_train_bounds(now: float, evidence: Evidence, bounds: tuple[int, int]) -> None:
    assert unreported_train_bounds(TRAIN, now, evidence) == bounds


@given(
    st.floats(min_value=100.0, max_value=200.0),
    st.booleans(),
    st.none() | st.floats(min_value=90.0, max_value=200.0),
    st.none() | st.floats(min_value=90.0, max_value=200.0),
    st.none() | st.floats(min_value=90.0, max_value=200.0),
)
def test_bounds_are_ordered_and_within_the_train(
    now: float,
    lost: bool,
    reply: float | None,
    fault: float | None,
    healthy: float | None,
) -> None:
    lower, upper = unreported_train_bounds(TRAIN, now, Evidence(lost, reply, fault, healthy))
    assert 0 <= lower <= upper <= TRAIN.pulses
    if lost:
        assert upper == TRAIN.pulses  # fail closed: the device may have gone on


@pytest.mark.parametrize(
    ("since", "error", "reply", "failed"),
    [
        (100.0, None, None, False),
        (100.0, 99.0, None, False),  # the error was before the train
        (100.0, 101.0, None, True),
        (100.0, 101.0, 100.5, True),  # the last reply came before the error
        (100.0, 101.0, 101.5, False),  # the device answered again
    ],
)
def test_link_failed_since(
    since: float, error: float | None, reply: float | None, failed: bool
) -> None:
    assert link_failed_since(since, error, reply) is failed
