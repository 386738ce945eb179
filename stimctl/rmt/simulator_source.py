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
