"""The session's schedule as arithmetic: train onsets, shifts, countdowns (pure).

Train onsets are absolute deadlines from the session start (`t0`, when the device was
ready), so timing errors never accumulate. Time spent paused or held shifts the rest of
the schedule (`offset`); a train that overran (a slow device) never shortens the pause
after it. No clock, no thread: the loop passes the times in.
"""

from __future__ import annotations

from dataclasses import dataclass

from stimctl.protocol.plan import PlannedTrain


@dataclass
class Schedule:
    t0: float = 0.0
    """Session-clock time of the session start (reset when the device is ready)."""
    offset: float = 0.0
    """How far pauses and holds have pushed the rest of the schedule."""

    def start(self, now: float) -> None:
        self.t0 = now

    def since_start(self, t: float) -> float:
        return t - self.t0

    def shift(self, seconds: float) -> None:
        self.offset += seconds

    def planned_onset(self, train: PlannedTrain) -> float:
        """The onset the plan gives, shifted by pauses and holds so far."""
        return self.t0 + train.onset_s + self.offset

    def onset(
        self, train: PlannedTrain, *, last_train_end: float | None, inter_train_s: float | None
    ) -> float:
        """The train's onset, never earlier than `inter_train_s` after the last train
        ended; a later onset shifts the rest of the schedule with it."""
        onset = self.planned_onset(train)
        if last_train_end is not None and inter_train_s:
            earliest = last_train_end + inter_train_s
            if earliest > onset:
                self.offset += earliest - onset
                onset = earliest
        return onset


def countdown(
    now: float, *, next_onset: float | None, train_end: float | None
) -> tuple[float | None, float | None]:
    """(seconds until the next train starts, seconds left in the current train); each
    None when there is no such train. Never negative (a late train reads 0)."""
    next_in = None if next_onset is None else max(0.0, next_onset - now)
    left = None if train_end is None else max(0.0, train_end - now)
    return next_in, left
