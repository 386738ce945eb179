"""Pure formatting for the console: words, colours and countdowns from a snapshot."""

from __future__ import annotations

import contextlib
import datetime as dt
import math

from stimctl.session.plan import Plan
from stimctl.session.summary import Snapshot

STATE_WORDS = {
    "idle": "IDLE",
    "ready": "READY",
    "armed": "ARMED",
    "train": "STIMULATING",
    "intertrain": "INTER-TRAIN",
    "paused": "PAUSED",
    "stopping": "STOPPING",
    "completed": "COMPLETE",
    "aborted": "ABORTED",
    "estopped": "E-STOPPED",
    "fault": "FAULT",
}
"""One unambiguous word per state (ecosystem 3.1 item 1)."""

STATE_COLOURS = {
    "idle": "grey",
    "ready": "blue",
    "armed": "amber",
    "train": "orange",
    "intertrain": "green",
    "paused": "blue",
    "stopping": "amber",
    "completed": "green",
    "aborted": "amber",
    "estopped": "red",
    "fault": "red",
}
"""CSS class suffix for the state badge (colours in console.tcss)."""

PRIORITY_MARKS = {"high": "***", "medium": "**", "low": "*"}
"""IEC 60601-1-8 message prefixes (ecosystem 3.3)."""


def state_word(state: str) -> str:
    return STATE_WORDS.get(state, state.upper())


def clock_text(seconds: float | None) -> str:
    """`m:ss` (or `h:mm:ss`) for a duration; `--:--` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def remaining_s(snap: Snapshot, plan: Plan, train_elapsed_s: float | None) -> float | None:
    """Time left in the session, from where the schedule is now (pauses included).

    Between trains: the wait to the next onset plus everything planned from that onset
    on. During train k: what is planned from train k's onset on, less the time the train
    has already run. Ended or unknown: None.
    """
    if snap.state in ("completed", "aborted", "estopped", "fault"):
        return 0.0
    k = snap.trains_delivered
    if k >= len(plan.trains):
        return 0.0
    from_onset = plan.duration_s - plan.trains[k].onset_s
    if snap.state in ("train", "stopping"):
        return max(0.0, from_onset - (train_elapsed_s or 0.0))
    if snap.next_train_in_s is not None:
        return max(0.0, snap.next_train_in_s) + from_onset
    if snap.state in ("idle", "ready"):
        return plan.duration_s
    return None


def expected_end(now: dt.datetime, remaining: float | None) -> str:
    if remaining is None:
        return "--:--"
    return f"{now + dt.timedelta(seconds=remaining):%H:%M:%S}"


def percent_mso_for(percent_rmt: float, rmt_percent_mso: float) -> int:
    """What the engine would set: whole % MSO, rounded down (never above the dose)."""
    return math.floor(percent_rmt * rmt_percent_mso / 100.0 + 1e-9)


def link_text(snap: Snapshot) -> tuple[str, bool]:
    """(text, healthy) for the link line.

    The engine reads the device between trains, not during a device-timed train, so a
    reply age that grows during a train is expected there and not drawn as a fault.
    """
    if snap.last_reply_age_s is None:
        return "no reply yet", snap.link_errors == 0
    in_train = snap.state in ("train", "stopping")
    healthy = (in_train or snap.last_reply_age_s < 1.0) and snap.link_errors == 0
    errors = "1 error" if snap.link_errors == 1 else f"{snap.link_errors} errors"
    text = f"reply {snap.last_reply_age_s:.2f} s ago, {errors}"
    if in_train and snap.last_reply_age_s >= 1.0:
        text += " (train)"
    return text, healthy


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], low: float, high: float, width: int) -> str:
    """The last `width` values as bars on a fixed scale (`low`..`high`).

    A fixed scale, not the data's own range: 24.0 to 24.1 °C must look flat, and a bar
    at the top means the limit.
    """
    if not values or width <= 0 or high <= low:
        return ""
    span = high - low
    bars = []
    for value in values[-width:]:
        level = (min(max(value, low), high) - low) / span
        bars.append(BARS[min(len(BARS) - 1, int(level * (len(BARS) - 1) + 0.5))])
    return "".join(bars)


def in_time_order(lines: list[str]) -> list[str]:
    """Event lines sorted by their leading session time (`  12.345  text`): the engine's
    threads append them in the order they took the lock, not the order things happened.
    A line without a time keeps its place after the timed line before it (stable sort)."""
    keyed = []
    last = -math.inf
    for line in lines:
        head = line.split(None, 1)[0] if line.strip() else ""
        with contextlib.suppress(ValueError):
            last = float(head)
        keyed.append((last, line))
    return [line for _, line in sorted(keyed, key=lambda pair: pair[0])]


def train_left_s(snap: Snapshot, plan: Plan, train_elapsed_s: float | None) -> float | None:
    """Seconds left in the current train: the engine's own countdown when its snapshot
    carries one (`train_remaining_s`), else the plan's train length less the console's own
    train clock. None outside a train."""
    if snap.state not in ("train", "stopping"):
        return None
    engine_value = getattr(snap, "train_remaining_s", None)
    if isinstance(engine_value, int | float):
        return max(0.0, float(engine_value))
    k = snap.trains_delivered
    if k >= len(plan.trains):
        return None
    return max(0.0, plan.trains[k].duration_s - (train_elapsed_s or 0.0))


def trend_scale(low: float, high: float) -> tuple[str, str]:
    """The labels either side of the coil trend: its fixed floor and the stop limit."""
    return f"{low:g}°C ", f" {high:g}°C stop"
