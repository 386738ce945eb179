"""How many pulses a device-timed train delivered, as a (lower, upper) bound.

Pure arithmetic on what the engine observed (issue 14 item 3, first piece of the engine
split): the train's pulses and frequency, when it started and was to end, the time now,
and the evidence about the link and the device. Equal bounds mean the count is exact;
a count the engine did not observe is a bound (fail closed: with the link gone the
device may have gone on to the end of the train). Unit-tested on plain numbers in
tests/session/test_pulse_count.py; the engine's end-to-end tests (test_pulse_bounds.py)
exercise it on the simulators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainWindow:
    pulses: int
    frequency_hz: float
    started: float
    end: float
    """Planned end: `started` + the train's duration."""


@dataclass(frozen=True)
class Evidence:
    """What the engine saw of the device during the train (session-clock times)."""

    link_lost: bool
    """The link failed during the train (latched, a driver fault, or a silent link)."""
    last_reply: float | None = None
    """The device's last good reply."""
    fault_at: float | None = None
    """When the device itself stopped (coil removed, overheat, self-disarm)."""
    last_healthy: float | None = None
    """The last healthy reading before that fault."""


def pulses_by(elapsed_s: float, train: TrainWindow) -> int:
    """Pulses a train at `frequency_hz` has fired `elapsed_s` after its first pulse."""
    return min(train.pulses, math.floor(elapsed_s * train.frequency_hz + 1e-6) + 1)


def link_failed_since(
    since: float, last_link_error: float | None, last_reply: float | None
) -> bool:
    """True when a read failed after `since` and the device has not answered since
    (a link that went silent: what the device did after its last reply is unseen)."""
    if last_link_error is None or last_link_error < since:
        return False
    return last_reply is None or last_reply <= last_link_error


def unreported_train_bounds(train: TrainWindow, now: float, seen: Evidence) -> tuple[int, int]:
    """(lower, upper) pulses of a device-timed train on a device that reports no pulses."""
    if seen.link_lost:
        # The Rapid² reports no pulses. Up to the last good reply the device was
        # reachable and firing; after it, anything up to the whole train may have gone.
        last = seen.last_reply if seen.last_reply is not None else train.started
        seen_until = max(0.0, min(last, train.end) - train.started)
        return pulses_by(seen_until, train), train.pulses
    if now >= train.end:
        return train.pulses, train.pulses
    by_time = pulses_by(now - train.started, train)
    if seen.fault_at is not None and seen.fault_at >= train.started:
        # The device itself stopped at an unknown moment after its last healthy reading:
        # only that much is certain.
        healthy = seen.last_healthy if seen.last_healthy is not None else train.started
        seen_until = max(0.0, min(healthy, now) - train.started)
        lower = pulses_by(seen_until, train) if healthy >= train.started else 0
        return min(lower, by_time), by_time
    # Cut by the host (e-stop, abort) while the link was good: counted by elapsed time,
    # to within one pulse (the one the disarm may have raced).
    return max(0, by_time - 1), by_time
