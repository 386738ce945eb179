"""The shared shape of every threshold method: a small state machine.

A caller (the `hunt` runner, or the console pulse by pulse) asks `next_intensity()`,
delivers one pulse there, and hands the reading to `observe()`, until `done`. Subclasses
only decide where to go next and when to stop; caps, bookkeeping and the trace live here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from stimctl.errors import ConfigError, SafetyViolation, StateError
from stimctl.rmt.readings import Criterion, Measurement, MepReading
from stimctl.rmt.result import HuntResult, Outcome, PulseRecord

ABSOLUTE_MAX_PERCENT_MSO = 100


@dataclass(frozen=True)
class HuntLimits:
    """Intensity range (integer % MSO, the devices' resolution) and pulse budget."""

    max_intensity: int = ABSOLUTE_MAX_PERCENT_MSO
    min_intensity: int = 20
    max_pulses: int = 150

    def __post_init__(self) -> None:
        if not 0 < self.max_intensity <= ABSOLUTE_MAX_PERCENT_MSO:
            raise ConfigError(
                f"intensity cap must be in 1..{ABSOLUTE_MAX_PERCENT_MSO} % MSO, "
                f"got {self.max_intensity}"
            )
        if not 0 < self.min_intensity <= self.max_intensity:
            raise ConfigError(
                f"lowest intensity must be in 1..{self.max_intensity} % MSO (the cap), "
                f"got {self.min_intensity}"
            )
        if self.max_pulses < 1:
            raise ConfigError(f"pulse cap must be at least 1, got {self.max_pulses}")

    def check_start(self, start: int) -> None:
        """Refuse a start intensity outside [min_intensity, max_intensity]."""
        if not self.min_intensity <= start <= self.max_intensity:
            raise ConfigError(
                f"start intensity {start} % MSO is outside the allowed range "
                f"{self.min_intensity}..{self.max_intensity} % MSO"
            )


class ThresholdMethod(ABC):
    """Base of Rossini-Rothwell, Mills-Nithi and ML-PEST."""

    name: str = "abstract"

    def __init__(self, limits: HuntLimits, criterion: Criterion | None = None) -> None:
        self.limits = limits
        self.criterion = criterion or Criterion()
        self._trace: list[PulseRecord] = []
        self._pending: int | None = None
        self._outcome: Outcome | None = None
        self._rmt: float | None = None
        self._reason = ""

    # -- the driving interface -------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._outcome is not None

    @property
    def pulses(self) -> int:
        return len(self._trace)

    @property
    def trace(self) -> tuple[PulseRecord, ...]:
        return tuple(self._trace)

    @property
    def estimate(self) -> float | None:
        """The running threshold estimate (for the console); None while unknown."""
        return self._rmt if self.done else self._running_estimate()

    def next_intensity(self) -> int:
        """Where the next pulse goes. Asking twice without `observe` gives the same answer."""
        if self.done:
            raise StateError(f"{self.name}: the hunt is over ({self._outcome})")
        if self._pending is None:
            proposed = self._propose()
            # A method that wanders outside its limits is a bug; never deliver that pulse.
            if not self.limits.min_intensity <= proposed <= self.limits.max_intensity:
                raise SafetyViolation(
                    f"{self.name} proposed {proposed} % MSO outside "
                    f"{self.limits.min_intensity}..{self.limits.max_intensity}",
                    rule="rmt-intensity-cap",
                )
            self._pending = proposed
        return self._pending

    def observe(self, reading: MepReading, *, time_s: float | None = None) -> PulseRecord:
        """Record the response to the pulse at `next_intensity()` and decide what is next."""
        if self._pending is None:
            raise StateError(f"{self.name}: observe() without a pending next_intensity()")
        intensity, self._pending = self._pending, None
        response = self.criterion.is_response(reading)
        self._observe(intensity, reading, response)
        if not self.done and self.pulses + 1 >= self.limits.max_pulses:
            self._on_pulse_cap()
        record = PulseRecord(
            index=self.pulses + 1,
            intensity=intensity,
            amplitude_uv=reading.amplitude_uv,
            visible=reading.visible,
            response=response,
            time_s=time_s,
            estimate=self.estimate,
        )
        self._trace.append(record)
        return record

    def result(self) -> HuntResult:
        if self._outcome is None:
            raise StateError(f"{self.name}: no result before the hunt is done")
        return HuntResult(
            rmt=self._rmt,
            method=self.name,
            criterion=self.criterion.describe(self._measurement()) + self._criterion_detail(),
            measurement=self._measurement(),
            outcome=self._outcome,
            reason=self._reason,
            trace=self.trace,
            interval=self._result_interval(),
        )

    # -- for subclasses --------------------------------------------------------------

    @abstractmethod
    def _propose(self) -> int:
        """The next intensity, within the limits."""

    @abstractmethod
    def _update(self, intensity: int, response: bool) -> None:
        """Take in one pulse's outcome; call `_finish` when the stop rule is met."""

    def _observe(self, intensity: int, reading: MepReading, response: bool) -> None:
        """Take in one pulse's reading; methods that use more than yes/no override this."""
        self._update(intensity, response)

    def _running_estimate(self) -> float | None:
        return None

    def _result_interval(self) -> tuple[float, float] | None:
        """A credible or confidence interval of the threshold, if the method has one."""
        return None

    def _criterion_detail(self) -> str:
        """How the method turns responses into a threshold, appended to the criterion."""
        return ""

    def _on_pulse_cap(self) -> None:
        """Called when the pulse budget is spent; the default reports the cap."""
        self._finish(
            Outcome.PULSE_CAP,
            None,
            f"pulse cap of {self.limits.max_pulses} reached before the stop rule was met",
        )

    def _finish(self, outcome: Outcome, rmt: float | None, reason: str) -> None:
        self._outcome = outcome
        self._rmt = rmt
        self._reason = reason

    def _measurement(self) -> Measurement:
        # The pulses are recorded after `_update`; count the kinds seen so far.
        kinds = {"emg" if p.amplitude_uv is not None else "visual" for p in self._trace}
        return "visual" if kinds == {"visual"} else "emg"
