"""MEPs read back from a live simulator: the EMG of a dry run through a device.

When a hunt fires through a driver into a simulated stimulator with a virtual subject
under its coil, the simulator logs each delivered pulse with the subject's MEP
(`Pulse.mep_uv`). This source reads that log after each pulse, so the MEP belongs to the
pulse the device really delivered, at the intensity it really delivered it, and a pulse
the device never delivered is an error rather than an invented response.

The simulator is typed `Any`: stimctl never imports `simulators` (ARCHITECTURE rule 1);
it needs only a `pulses` list of records with `intensity` and `mep_uv`.
"""

from __future__ import annotations

from typing import Any

from stimctl.errors import ConfigError, SafetyViolation, StateError
from stimctl.rmt.readings import MepReading


class SimulatorEmgSource:
    """`MepSource` over a simulator's pulse log: one new pulse per hunt pulse, read once."""

    def __init__(self, simulator: Any) -> None:
        if simulator is None:
            raise ConfigError("no live simulator to read MEPs from (is its port open?)")
        self.simulator = simulator
        self._seen = len(simulator.pulses)  # pulses before the hunt are not the hunt's

    def response(self, intensity_percent_mso: int) -> MepReading:
        log = list(self.simulator.pulses)
        new = log[self._seen :]
        self._seen = len(log)
        if len(new) != 1:
            raise StateError(
                f"the simulator logged {len(new)} pulses for the hunt's pulse at "
                f"{intensity_percent_mso} % MSO (expected exactly one)"
            )
        pulse = new[0]
        if pulse.intensity != intensity_percent_mso:
            raise SafetyViolation(
                f"the device delivered {pulse.intensity} % MSO where the hunt asked for "
                f"{intensity_percent_mso} % MSO",
                rule="delivered-intensity",
            )
        if pulse.mep_uv is None:
            raise ConfigError(
                "the simulator has no subject under its coil (spec key subject_rmt), so it "
                "reports no MEP"
            )
        return MepReading(amplitude_uv=float(pulse.mep_uv))


INTERVAL_TOLERANCE_S = 1e-6


class SimulatorPairedSource:
    """MEPs of paired-pulse trials from a live simulator with a virtual subject.

    Each trial's pulses are read from the simulator's log and checked against the trial:
    a test pulse alone is one pulse on output A at the test intensity; a conditioned
    trial is output A at the conditioning intensity and output B at the test intensity
    exactly the interval later, so the dry run proves the driver set both outputs and the
    interval. The conditioned MEP comes from the subject under the coil
    (`paired_mep_uv`, the virtual subject's known conditioning term).
    """

    def __init__(self, simulator: Any) -> None:
        if simulator is None:
            raise ConfigError("no live simulator to read MEPs from (is its port open?)")
        self.simulator = simulator
        self._seen = len(simulator.pulses)

    def _new(self, expected: int, what: str) -> list[Any]:
        log = list(self.simulator.pulses)
        new = log[self._seen :]
        self._seen = len(log)
        if len(new) != expected:
            raise StateError(
                f"the simulator logged {len(new)} pulses for {what} (expected {expected})"
            )
        return new

    @staticmethod
    def _check(pulse: Any, channel: str, intensity: int) -> None:
        if (pulse.channel, pulse.intensity) != (channel, intensity):
            raise SafetyViolation(
                f"the device delivered {pulse.intensity} % MSO on output {pulse.channel} where "
                f"the trial asked for {intensity} % MSO on output {channel}",
                rule="delivered-intensity",
            )

    def response(self, intensity_percent_mso: int) -> MepReading:
        (pulse,) = self._new(1, f"a test pulse alone at {intensity_percent_mso} % MSO")
        self._check(pulse, "A", intensity_percent_mso)
        if pulse.mep_uv is None:
            raise ConfigError("the simulator has no subject under its coil (spec key subject_rmt)")
        return MepReading(amplitude_uv=float(pulse.mep_uv))

    def paired_response(
        self, conditioning_percent_mso: int, test_percent_mso: int, interval_ms: float
    ) -> MepReading:
        first, second = self._new(2, "a conditioned pair")
        self._check(first, "A", conditioning_percent_mso)
        self._check(second, "B", test_percent_mso)
        gap_s = second.time - first.time
        if abs(gap_s - interval_ms / 1000.0) > INTERVAL_TOLERANCE_S:
            raise SafetyViolation(
                f"the device fired output B {gap_s * 1000:.2f} ms after A; the trial asked for "
                f"{interval_ms:g} ms",
                rule="paired-interval",
            )
        subject = self.simulator.subject
        if subject is None or not hasattr(subject, "paired_mep_uv"):
            raise ConfigError("the subject under the simulated coil does not model paired pulses")
        mep = subject.paired_mep_uv(conditioning_percent_mso, test_percent_mso, interval_ms)
        return MepReading(amplitude_uv=float(mep))
