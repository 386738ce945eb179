"""Paired-pulse trials through a stimulator with two outputs (BiStim², MagPro with a
second output): plan, set and verify both outputs and the interval before every arm.

A trial's output state differs from the last one's (a conditioned pair, then the test
pulse alone), and a device takes output settings only in standby (device-protocols A7,
B4), so every trial is: disarm (if armed), plan the outputs, set output A, arm - which
applies the plan and reads power A, power B and the interval back, refusing to arm on
any difference (`OutputStateMismatch`, stimctl.hal) - wait until ready, fire, disarm.
Disarming after each trigger also means a conditioned plan never outlives its trial.

The device's single-pulse rate gates the triggers here as in `device.DeviceStimulus`.
"""

from __future__ import annotations

import math

from stimctl.clock import Clock
from stimctl.errors import ConfigError, SafetyViolation
from stimctl.hal import SINGLE_PULSE, OutputPlan, PairedPulse, Stimulator
from stimctl.rmt.device import READY_TIMEOUT_S
from stimctl.rmt.paired import Trial

_ROUNDING_S = 1e-9


class PairedStimulus:
    """`fire(trial)` for `run_paired`, through an open driver."""

    def __init__(
        self,
        driver: Stimulator,
        *,
        clock: Clock,
        max_rate_hz: float,
        max_intensity: int,
        ready_timeout_s: float = READY_TIMEOUT_S,
    ) -> None:
        if "B" not in driver.capabilities().outputs:
            raise ConfigError(
                f"{driver.model} has no second output: paired pulses need a BiStim² "
                "(or a stimulator with output B)"
            )
        if not (math.isfinite(max_rate_hz) and max_rate_hz > 0):
            raise ConfigError(f"single-pulse rate must be > 0 Hz, got {max_rate_hz!r}")
        self.driver = driver
        self.clock = clock
        self.min_gap_s = 1.0 / max_rate_hz
        self.max_intensity = max_intensity
        self.ready_timeout_s = ready_timeout_s
        self.fired = 0
        self._last_fire: float | None = None

    def plan_for(self, trial: Trial) -> OutputPlan:
        if not trial.conditioned:
            return SINGLE_PULSE
        return OutputPlan(paired=PairedPulse(trial.test, trial.interval_ms))

    def __call__(self, trial: Trial) -> None:
        for value in (trial.first_output, trial.test):
            if value > self.max_intensity:
                raise SafetyViolation(
                    f"refusing {value} % MSO above the cap {self.max_intensity}",
                    rule="rmt-intensity-cap",
                )
        now = self.clock.now()
        if self._last_fire is not None and now - self._last_fire < self.min_gap_s - _ROUNDING_S:
            raise SafetyViolation(
                f"trigger {now - self._last_fire:.3g} s after the last one; {self.driver.model} "
                f"allows one every {self.min_gap_s:g} s at most",
                rule="single-pulse-rate",
            )
        self.driver.disarm()  # settings change only in standby; a no-op when disarmed
        if trial.conditioned:
            self._timing_for(trial.interval_ms)
        self.driver.plan_output(self.plan_for(trial))
        self.driver.set_intensity(trial.first_output)
        self.driver.arm()  # applies the plan and reads both outputs and the interval back
        self.driver.wait_ready(timeout_s=self.ready_timeout_s)
        self.driver.fire()
        self._last_fire = self.clock.now()
        self.fired += 1
        self.driver.disarm()

    def _timing_for(self, interval_ms: float) -> None:
        """A BiStim² times B from A in 1 ms steps, or 0.1 ms in high-resolution mode (A4
        `C`, `Y`/`Z`); an interval that is not a whole ms needs the high-resolution mode."""
        whole = abs(interval_ms - round(interval_ms)) < 1e-9
        set_timing_mode = getattr(self.driver, "set_timing_mode", None)
        if set_timing_mode is not None:
            set_timing_mode(high_res=not whole)
        elif not whole:
            raise ConfigError(f"{self.driver.model}: interval {interval_ms:g} ms needs whole ms")
