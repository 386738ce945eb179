"""The MagPro's output state (issue 12 item 1): pure functions, no I/O.

What a trigger delivers depends on the mode (Standard/Power/Twin/Dual), the waveform, the
current direction, the burst setting and amplitude B (device-protocols B3, B4 command 9,
B5 ID 0 / ID 9). `mode_args` turns an `OutputPlan` into set-mode arguments, `wanted`
names what the read-back must then show, and `read_back` turns the ID 0 and ID 9 replies
into the same names, so the base class can compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from drivers.magventure.codec import Message, ipi_ms_from_index
from stimctl.errors import ConfigError
from stimctl.hal import OutputPlan, OutputState, Setting

STANDARD, DUAL = 0, 3  # B3 mode field
WAVEFORMS = {"monophasic": 0, "biphasic": 1, "half-sine": 2, "biphasic-burst": 3}  # B3
DIRECTIONS = {"normal": 0, "reverse": 1}  # B3
BURST = WAVEFORMS["biphasic-burst"]


def named(value: str, names: dict[str, int], what: str) -> int:
    """'Biphasic', 'half sine', 'half_sine' ... -> the B3 code; anything else refused."""
    key = str(value).strip().lower().replace(" ", "-").replace("_", "-")
    if key not in names:
        raise ConfigError(f"MagPro {what} must be one of {', '.join(names)}, got {value!r}")
    return names[key]


@dataclass(frozen=True)
class ModeSettings:
    """Set-mode settings (B4 command 9) besides the model byte; the defaults are the
    codec's (burst of 2, 10 ms), sent when the plan has no burst or pair."""

    mode: int
    waveform: int
    direction: int
    burst_pulses: int = 2
    ipi_ms: float = 10.0


def mode_args(plan: OutputPlan, *, waveform: int, direction: int) -> ModeSettings:
    """Set-mode settings (B4 command 9) for `plan`; `waveform` and `direction` are the
    single-pulse defaults of the device profile."""
    if plan.waveform is not None:
        waveform = named(plan.waveform, WAVEFORMS, "waveform")
    if plan.current_direction is not None:
        direction = named(plan.current_direction, DIRECTIONS, "current direction")
    settings = ModeSettings(mode=STANDARD, waveform=waveform, direction=direction)
    if plan.burst_pulses > 1:
        assert plan.burst_ipi_ms is not None  # OutputPlan checks it
        return replace(
            settings, waveform=BURST, burst_pulses=plan.burst_pulses, ipi_ms=plan.burst_ipi_ms
        )
    if plan.paired is not None:
        if waveform == BURST:
            raise ConfigError("Twin/Dual cannot use Biphasic Burst (KOP, B4)")
        return replace(settings, mode=DUAL, ipi_ms=plan.paired.interval_ms)
    if waveform == BURST:
        raise ConfigError("a Biphasic Burst waveform needs burst_pulses > 1")
    return settings


def power_b(plan: OutputPlan) -> int:
    return 0 if plan.paired is None else plan.paired.second_percent


def wanted(plan: OutputPlan, args: ModeSettings) -> OutputState:
    """What `read_back` must show for `plan` (besides power A)."""
    state: dict[str, Setting] = {
        "power_b": power_b(plan),
        "mode": args.mode,
        "waveform": args.waveform,
        "direction": args.direction,
    }
    if plan.burst_pulses > 1 or plan.paired is not None:
        state["ipi_x10"] = round(args.ipi_ms * 10)
    if plan.burst_pulses > 1:
        state["burst_pulses"] = plan.burst_pulses
    return state


def read_back(status: Message, mode: Message) -> OutputState:
    """The output state an ID 0 (amplitudes) and an ID 9 (mode) reply report."""
    state: dict[str, Setting] = {}
    for key, value in (
        ("power_a", status.amplitude_a),
        ("power_b", status.amplitude_b),
        ("mode", mode.mode),
        ("waveform", mode.waveform),
        ("direction", mode.direction),
    ):
        if value is not None:
            state[key] = value
    if mode.ipi_index is not None and mode.mode is not None and mode.waveform is not None:
        ipi = ipi_ms_from_index(mode.ipi_index, mode=mode.mode, waveform=mode.waveform)
        if ipi is not None:
            state["ipi_x10"] = round(ipi * 10)
    if mode.burst_index is not None and mode.waveform == BURST:
        state["burst_pulses"] = 5 - mode.burst_index  # B3: 5 pulses -> index 0
    return state
