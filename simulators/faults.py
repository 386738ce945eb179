"""Fault switches of a live simulator (settable from the URL and from Python).

Wire faults act on bytes: `drop_rate` and `corrupt_rate` on bytes the device sends,
`drop_input_rate` on bytes the host sends, `reply_delay_s` holds every device message
back. A pulled cable makes the in-process port fail the way pyserial fails on a vanished
USB adapter (see simulators.urlhandler.protocol_stimsim). Behavioural faults make the
device misbehave so that the host's own safeguards can be tested: `ignore_disarm` (the
device answers a disarm normally but stays armed), `keepalive_never_lapses` (the
device's own watchdog is off, so a dead host no longer disarms it), `ignore_settings`
(every command that changes an output setting - power, interval, timing mode, train,
enhanced power, MagPro amplitude/mode/train - is acknowledged as usual and changes
nothing) and `sticky_b_power` (only the second output's power is kept: BiStim² `A`,
MagPro amplitude B). The last two let tests see the host refuse to arm a device whose
read-back is not the plan (issue 12 item 1).

Device-state faults (coil removed, coil temperature, error code) are methods of the
simulator, because they change its state at a point in time.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class Faults:
    """Mutable fault switches; the simulator reads them on every byte."""

    drop_rate: float = 0.0
    corrupt_rate: float = 0.0
    drop_input_rate: float = 0.0
    reply_delay_s: float = 0.0
    cable_pulled: bool = False
    ignore_disarm: bool = False
    keepalive_never_lapses: bool = False
    ignore_settings: bool = False
    sticky_b_power: bool = False

    def __setattr__(self, name: str, value: object) -> None:
        # Rates and delays are checked here so that a typo in a test fails loudly instead
        # of silently injecting nothing (house rule: never clip, reject).
        if name in {"drop_rate", "corrupt_rate", "drop_input_rate"}:
            if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
            value = float(value)
        elif name == "reply_delay_s":
            if not isinstance(value, int | float) or float(value) < 0.0:
                raise ValueError(f"reply_delay_s must be >= 0, got {value!r}")
            value = float(value)
        elif name in {f.name for f in fields(Faults)} and not isinstance(value, bool):
            raise ValueError(f"{name} must be a bool, got {value!r}")
        super().__setattr__(name, value)
