"""Motor-threshold hunting (issue 7; facts in safety-limits section 4).

- `readings`: `MepReading`, `Criterion`, the `MepSource` protocol.
- `sources`: the operator prompt and amplitude-file replay; `registry` finds the virtual
  subject in `simulators/` through the entry-point group `stimctl.mep_sources`.
- `methods`: Rossini-Rothwell (5/10, 10/20), Mills-Nithi, ML-PEST, as state machines.
- `runner.hunt`: paces pulses on an injected clock and drives a method to its stop rule.
- `device`: `stimulate` through a driver (`device_stimulus`, `open_hunt_device`), fail
  closed; `simulator_source.SimulatorEmgSource` reads the MEPs a simulated device reports.
"""

from stimctl.rmt.methods import HuntLimits, MillsNithi, MlPest, RelativeFrequency, ThresholdMethod
from stimctl.rmt.readings import Criterion, MepReading, MepSource
from stimctl.rmt.result import HuntResult, Outcome, PulseRecord
from stimctl.rmt.runner import PulseInterval, hunt
from stimctl.rmt.simulator_source import SimulatorEmgSource
from stimctl.rmt.sources import FileSource, OperatorSource

__all__ = [
    "Criterion",
    "FileSource",
    "HuntLimits",
    "HuntResult",
    "MepReading",
    "MepSource",
    "MillsNithi",
    "MlPest",
    "OperatorSource",
    "Outcome",
    "PulseInterval",
    "PulseRecord",
    "RelativeFrequency",
    "SimulatorEmgSource",
    "ThresholdMethod",
    "hunt",
]
