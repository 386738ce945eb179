"""Live state for the console: what the session is doing now, as one consistent copy.

The engine thread writes (pulses, trains, intensity, the next onset, device readings,
events); the console and the CLI's progress line read `snapshot()` from their own
threads. The pulse count moves on every pulse: a host-timed pulse is counted when the
driver has sent it; during a device-timed train the count is read at snapshot time from
the device's own pulse reports, or, for a device that reports none (Rapid²), from the
clock (`pulses_estimated`). The countdown says how long until the next train starts or
how much of the current one is left.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from stimctl.clock import Clock
from stimctl.protocol.plan import Plan, PlannedTrain
from stimctl.session.pulse_count import TrainWindow, pulses_by
from stimctl.session.schedule import Schedule, countdown
from stimctl.session.summary import Snapshot, TrainRecord
from stimctl.session.watchdog import Alarm

COIL_HISTORY = 600
EVENTS = 50


@dataclass(frozen=True)
class RunningTrain:
    """The train on the device now."""

    index: int
    window: TrainWindow
    device_timed: bool
    reported: Callable[[], int | None] | None = None
    """Pulses the device reported since the train started (None: it reports none)."""


class LiveState:
    def __init__(self, plan: Plan, clock: Clock, schedule: Schedule) -> None:
        self.plan = plan
        self.clock = clock
        self.schedule = schedule
        self.lock = threading.RLock()
        self.delivered = 0
        """Pulses counted so far, trains that ended included (exact for the journal)."""
        self.trains: list[TrainRecord] = []
        self.percent_mso = plan.trains[0].intensity_percent_mso
        self.percent_rmt = plan.trains[0].intensity_percent_rmt
        self.next_onset: float | None = None
        self.running: RunningTrain | None = None
        self.coil_history: deque[tuple[float, float]] = deque(maxlen=COIL_HISTORY)
        self.last_reply: float | None = None
        self.link_errors = 0
        self.events: deque[str] = deque(maxlen=EVENTS)
        self.pause_requested = False
        self.stop_requested = False

    # -- the engine thread writes ------------------------------------------------------

    def event(self, text: str) -> None:
        with self.lock:
            self.events.append(f"{self.clock.now() - self.schedule.t0:9.3f}  {text}")

    def set_intensity(self, percent_mso: int, percent_rmt: float) -> None:
        with self.lock:
            self.percent_mso, self.percent_rmt = percent_mso, percent_rmt

    def set_next_onset(self, onset: float | None) -> None:
        with self.lock:
            self.next_onset = onset

    def train_started(self, record: TrainRecord) -> None:
        with self.lock:
            self.trains.append(record)
            self.next_onset = None

    def running_train(
        self,
        train: PlannedTrain,
        started: float,
        *,
        device_timed: bool,
        reported: Callable[[], int | None] | None = None,
    ) -> None:
        """The train is on the device from `started` (for the countdown and the count)."""
        window = TrainWindow(train.pulses, train.frequency_hz, started, started + train.duration_s)
        with self.lock:
            self.running = RunningTrain(train.index, window, device_timed, reported)

    def count_pulse(self, record: TrainRecord) -> int:
        """One host-timed pulse went out; its 0-based index in the session."""
        with self.lock:
            index = self.delivered
            self.delivered += 1
            record.pulses += 1
            return index

    def train_counted(self, record: TrainRecord, pulses: int, upper: int | None) -> None:
        """A device-timed train's final count (`upper`: set when the count is a bound)."""
        with self.lock:
            self.delivered += pulses
            record.pulses = pulses
            record.pulses_upper = upper
            self.running = None  # counted once: in `delivered` from now on

    def train_over(self) -> None:
        with self.lock:
            self.running = None

    def reading(self, read_at: float, temperature: float | None) -> None:
        with self.lock:
            self.last_reply = read_at
            if temperature is not None:
                self.coil_history.append((read_at - self.schedule.t0, temperature))

    def link_error(self) -> None:
        with self.lock:
            self.link_errors += 1

    # -- any thread reads ---------------------------------------------------------------

    @property
    def coil_temperature(self) -> float | None:
        with self.lock:
            return self.coil_history[-1][1] if self.coil_history else None

    @property
    def trains_ended(self) -> int:
        with self.lock:
            return sum(1 for t in self.trains if t.end_s is not None)

    def pulse_bounds(self) -> tuple[int, int]:
        """(lower, upper) bound of the pulses delivered; equal when every one was seen."""
        with self.lock:
            unseen = sum(
                (t.pulses_upper - t.pulses) for t in self.trains if t.pulses_upper is not None
            )
            return self.delivered, self.delivered + unseen

    def _in_train(self, now: float) -> tuple[int, bool]:
        """Pulses of the running device-timed train so far, and whether by the clock."""
        running = self.running
        if running is None or not running.device_timed:
            return 0, False
        window = running.window
        if running.reported is not None:
            seen = running.reported()
            if seen is not None:
                return max(0, min(seen, window.pulses)), False
        if now < window.started:
            return 0, True
        return pulses_by(now - window.started, window), True

    def snapshot(self, *, state: str, latched: bool, alarms: list[Alarm]) -> Snapshot:
        with self.lock:
            now = self.clock.now()
            t0 = self.schedule.t0
            running = self.running
            in_train, estimated = self._in_train(now)
            next_in, left = countdown(
                now,
                next_onset=self.next_onset,
                train_end=running.window.end if running is not None else None,
            )
            return Snapshot(
                state=state,
                latched=latched,
                pulses_delivered=self.delivered + in_train,
                pulses_planned=self.plan.total_pulses,
                trains_delivered=sum(1 for t in self.trains if t.end_s is not None),
                trains_planned=len(self.plan.trains),
                intensity_percent_mso=self.percent_mso,
                intensity_percent_rmt=self.percent_rmt,
                rmt_percent_mso=self.plan.rmt_percent_mso,
                elapsed_s=now - t0 if t0 else 0.0,
                planned_duration_s=self.plan.duration_s,
                next_train_in_s=next_in,
                coil_temperature_c=self.coil_history[-1][1] if self.coil_history else None,
                coil_history=list(self.coil_history),
                last_reply_age_s=(now - self.last_reply) if self.last_reply else None,
                link_errors=self.link_errors,
                alarms=alarms,
                events=list(self.events),
                pause_requested=self.pause_requested,
                stop_requested=self.stop_requested,
                current_train=running.index if running is not None else None,
                train_remaining_s=left,
                pulses_estimated=estimated,
            )
