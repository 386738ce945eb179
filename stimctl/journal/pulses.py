"""Counting delivered pulses from journal records (crash recovery, reports).

Per train: if the train has `pulse` records, their number is the count (the engine
writes one right after each confirmed trigger); otherwise the ``pulses`` of its
`train_end` record. A train that was started but has neither cannot be counted: the
total is then a lower bound and ``exact`` is False.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stimctl.journal import events
from stimctl.journal.record import JournalRecord


@dataclass(frozen=True)
class PulseCount:
    """Pulses delivered according to the journal."""

    pulses: int
    exact: bool
    open_trains: tuple[Any, ...]
    """Trains with a `train_start` and no `train_end` (the crash hit inside them)."""
    uncounted_trains: tuple[Any, ...]
    """Open trains without `pulse` records: their pulses are unknown."""
    mismatched_trains: tuple[Any, ...]
    """Trains whose `train_end.pulses` disagrees with their `pulse` records."""
    upper: int = -1
    """Most pulses that may have gone out (an open train may have run on without the
    host: up to its planned pulses; a host-timed one, one pulse past its last record).
    Equal to `pulses` when every pulse was seen; -1 means "same as pulses"."""

    @property
    def upper_bound(self) -> int:
        return self.pulses if self.upper < 0 else max(self.upper, self.pulses)

    @property
    def bounded_exactly(self) -> bool:
        """Every pulse was seen: no train was left open or uncounted (crash or cut)."""
        return self.exact and self.upper_bound == self.pulses


class PulseTally:
    """`count_pulses`, one record at a time (the writer keeps one to sign the running
    count at every train boundary)."""

    def __init__(self) -> None:
        self._pulse_records: dict[Any, int] = {}
        self._ended: dict[Any, Any] = {}
        self._started: list[Any] = []
        self._planned: dict[Any, int] = {}
        self._ended_upper: dict[Any, int] = {}

    def add(self, record: JournalRecord) -> None:
        event = record["event"]
        if event not in (events.PULSE, events.TRAIN_START, events.TRAIN_END):
            return
        train = _train_key(record["payload"].get("train"))
        if event == events.PULSE:
            self._pulse_records[train] = self._pulse_records.get(train, 0) + 1
        elif event == events.TRAIN_START:
            self._started.append(train)
            planned = record["payload"].get("pulses_planned")
            if isinstance(planned, int) and not isinstance(planned, bool) and planned >= 0:
                self._planned[train] = planned
        else:
            self._ended[train] = record["payload"].get("pulses")
            upper = record["payload"].get("pulses_upper")
            if isinstance(upper, int) and not isinstance(upper, bool) and upper >= 0:
                self._ended_upper[train] = upper

    def count(self) -> PulseCount:
        pulse_records, ended = self._pulse_records, self._ended
        total = sum(pulse_records.values())
        mismatched = []
        for train, pulses in ended.items():
            if train in pulse_records:
                if pulses != pulse_records[train]:
                    mismatched.append(train)
            elif isinstance(pulses, int) and not isinstance(pulses, bool) and pulses >= 0:
                total += pulses
            else:
                mismatched.append(train)
        open_trains = tuple(t for t in dict.fromkeys(self._started) if t not in ended)
        uncounted = tuple(t for t in open_trains if t not in pulse_records)
        upper = total
        for train, bound in self._ended_upper.items():
            pulses = ended.get(train)
            if isinstance(pulses, int) and bound > pulses:
                upper += bound - pulses
        for train in open_trains:
            seen = pulse_records.get(train, 0)
            planned = self._planned.get(train, seen + 1)
            upper += max(planned - seen, 0) if train in uncounted else min(1, planned - seen)
        return PulseCount(
            pulses=total,
            exact=not uncounted and not mismatched,
            open_trains=open_trains,
            uncounted_trains=uncounted,
            mismatched_trains=tuple(mismatched),
            upper=upper,
        )


def count_pulses(records: Iterable[JournalRecord]) -> PulseCount:
    tally = PulseTally()
    for record in records:
        tally.add(record)
    return tally.count()


def _train_key(train: Any) -> Any:
    # Train numbers are ints; anything else still counts, grouped as given (JSON scalars
    # are hashable; a list or object is grouped by its text).
    return train if isinstance(train, str | int | float | None) else repr(train)
