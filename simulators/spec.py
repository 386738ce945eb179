"""Simulator specs: 'MODEL?key=value&key=value' (the part after `stimsim://`).

One parser for the URL handler and for `stimctl sim serve`, so both accept exactly the
same strings. Unknown models, unknown or repeated keys and bad values raise
`SimSpecError`, a `ConfigError` (exit 2 in the CLI) that is also a
`serial.SerialException`, so pyserial users catch it where they catch a bad port.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import serial

from simulators.core import SimulatorBase
from simulators.magstim.models import BiStimSimulator, Magstim200Simulator
from simulators.magstim.rapid import RapidSimulator
from simulators.magventure.magpro import MagProR30Simulator, MagProX100Simulator
from simulators.virtual_subject import VirtualSubject
from stimctl import simwire
from stimctl.clock import Clock
from stimctl.errors import ConfigError

SCHEME = "stimsim"
# A virtual subject's true threshold may lie above 100 % MSO (no response at full output:
# the pathological case the threshold methods must stop on), but not absurdly far.
MAX_SUBJECT_RMT = 200.0


class SimSpecError(ConfigError, serial.SerialException):
    """A simulator spec or `stimsim://` URL that names no model, key or value we know."""


_CLOCKS: dict[str, Clock] = {}
_CLOCKS_LOCK = threading.Lock()


def register_clock(name: str, clock: Clock) -> None:
    """Make `clock` available to specs as `?clock=name` (replaces an earlier one)."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"clock name must be letters, digits, - or _, got {name!r}")
    with _CLOCKS_LOCK:
        _CLOCKS[name] = clock


def unregister_clock(name: str) -> None:
    with _CLOCKS_LOCK:
        _CLOCKS.pop(name, None)


class _Options:
    """The spec's key=value pairs, consumed one by one so leftovers can be reported."""

    def __init__(self, spec: str, pairs: dict[str, str]) -> None:
        self.spec = spec
        self.pairs = pairs

    def error(self, message: str) -> SimSpecError:
        return SimSpecError(f"simulator spec {self.spec!r}: {message}")

    def text(self, key: str) -> str | None:
        return self.pairs.pop(key, None)

    def number(
        self, key: str, *, minimum: float = 0.0, maximum: float | None = None
    ) -> float | None:
        raw = self.pairs.pop(key, None)
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise self.error(f"{key} must be a number, got {raw!r}") from None
        if value != value or value < minimum or (maximum is not None and value > maximum):
            limit = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
            raise self.error(f"{key} must be {limit}, got {raw!r}")
        return value

    def integer(self, key: str, *, maximum: int) -> int | None:
        raw = self.pairs.pop(key, None)
        if raw is None:
            return None
        try:
            value = int(raw, 0)
        except ValueError:
            raise self.error(f"{key} must be an integer, got {raw!r}") from None
        if not 0 <= value <= maximum:
            raise self.error(f"{key} must be 0..{maximum}, got {raw!r}")
        return value

    def flag(self, key: str) -> bool | None:
        raw = self.pairs.pop(key, None)
        if raw is None:
            return None
        lowered = raw.lower()
        if lowered in ("", "1", "true", "yes", "on"):  # a bare `?cable_pulled` means on
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise self.error(f"{key} must be true/false (or 1/0), got {raw!r}")

    def choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        raw = self.pairs.pop(key, None)
        if raw is not None and raw not in choices:
            raise self.error(f"{key} must be one of {', '.join(choices)}, got {raw!r}")
        return raw


def _common(opts: _Options) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    seed = opts.integer("seed", maximum=2**63)
    if seed is not None:
        kwargs["seed"] = seed
    strict = opts.flag("strict_baud")
    if strict is not None:
        kwargs["strict_baud"] = strict
    for key in ("coil_temp_c", "ambient_c"):
        value = opts.number(key, minimum=-50.0, maximum=150.0)
        if value is not None:
            kwargs[key] = value
    heat = opts.number("heat_c_per_j", maximum=10.0)
    if heat is not None:
        kwargs["heat_c_per_j"] = heat
    tau = opts.number("cool_tau_s", minimum=0.001, maximum=1e6)
    if tau is not None:
        kwargs["cool_tau_s"] = tau
    return kwargs


def _magstim(opts: _Options) -> dict[str, Any]:
    kwargs = _common(opts)
    report = opts.choice("status_report", ("pre", "post"))
    if report is not None:
        kwargs["status_report"] = report
    for key in (
        "charge_s",
        "recharge_s",
        "keepalive_standby_s",
        "keepalive_armed_s",
        "auto_disarm_s",
    ):
        value = opts.number(key, maximum=3600.0)
        if value is not None:
            kwargs[key] = value
    settle = opts.flag("power_settle")
    if settle is not None:
        kwargs["power_settle"] = settle
    return kwargs


def _bistim(opts: _Options) -> dict[str, Any]:
    """BiStim² keys for the state a unit was left in: power_b (%), interval (raw, ms or
    0.1 ms), high_res. Applied at power-on, before any host talks to it."""
    kwargs = _magstim(opts)
    initial: dict[str, Any] = {}
    power_b = opts.integer("power_b", maximum=100)
    if power_b is not None:
        initial["power_b"] = power_b
    interval = opts.integer("interval", maximum=999)
    if interval is not None:
        initial["interval"] = interval
    high_res = opts.flag("high_res")
    if high_res is not None:
        initial["high_res"] = high_res
    if initial:
        kwargs["_initial"] = initial
    return kwargs


def _rapid(opts: _Options) -> dict[str, Any]:
    kwargs = _magstim(opts)
    for key in ("version", "unlock_code"):
        value = opts.text(key)
        if value is not None:
            kwargs[key] = value
    rapid_type = opts.choice("type", ("standard", "super", "super-plus"))
    if rapid_type is not None:
        kwargs["rapid_type"] = rapid_type
    mains = opts.choice("mains", ("240", "115"))
    if mains is not None:
        kwargs["mains"] = int(mains)
    silent = opts.flag("silent_without_remote")
    if silent is not None:
        kwargs["silent_without_remote"] = silent
    return kwargs


def _magpro(opts: _Options) -> dict[str, Any]:
    kwargs = _common(opts)
    for key in ("magoption", "answer_mode_set"):
        value = opts.flag(key)
        if value is not None:
            kwargs[key] = value
    serial_no = opts.integer("serial", maximum=0xFFFFFF)
    if serial_no is not None:
        kwargs["serial"] = serial_no
    coil_type = opts.integer("coil_type", maximum=255)
    if coil_type is not None:
        kwargs["coil_type"] = coil_type
    # The state a unit was left in (B3 codes): mode 0-3, waveform 0-3, direction 0-1,
    # amplitude_b %. Applied at power-on, before any host talks to it.
    initial: dict[str, Any] = {}
    for key, top in (("mode", 3), ("waveform", 3), ("direction", 1), ("amplitude_b", 100)):
        code = opts.integer(key, maximum=top)
        if code is not None:
            initial[key] = code
    if initial:
        kwargs["_initial"] = initial
    return kwargs


_ModelEntry = tuple[Callable[..., SimulatorBase], Callable[[_Options], dict[str, Any]]]
MODELS: dict[str, _ModelEntry] = {
    "magstim-200": (Magstim200Simulator, _magstim),
    "magstim-bistim": (BiStimSimulator, _bistim),
    "magstim-rapid2": (RapidSimulator, _rapid),
    "magpro-r30": (MagProR30Simulator, _magpro),
    "magpro-x100": (MagProX100Simulator, _magpro),
}

FAULT_KEYS = (
    "drop_rate", "corrupt_rate", "drop_input_rate", "reply_delay_s", "cable_pulled",
    "ignore_disarm", "keepalive_never_lapses", "coil_removed", "error", "fatal_error",
    "ignore_settings", "sticky_b_power",
)  # fmt: skip


def _apply_faults(sim: SimulatorBase, opts: _Options) -> None:
    # Device-state faults first: the state they leave is the state at power-on, so the
    # ID 3 a MagPro sends when its coil goes is not left on the wire for the host.
    if opts.flag("coil_removed"):
        sim.remove_coil()
    error, fatal = opts.text("error"), opts.text("fatal_error")
    for code, is_fatal in ((error, False), (fatal, True)):
        if code is None:
            continue
        try:
            sim.set_error(code, fatal=is_fatal)
        except ValueError as exc:
            raise opts.error(str(exc)) from None
    sim.discard_output()
    for key in ("drop_rate", "corrupt_rate", "drop_input_rate"):
        rate = opts.number(key, maximum=1.0)
        if rate is not None:
            setattr(sim.faults, key, rate)
    delay = opts.number("reply_delay_s", maximum=3600.0)
    if delay is not None:
        sim.faults.reply_delay_s = delay
    for key in ("ignore_disarm", "keepalive_never_lapses", "ignore_settings", "sticky_b_power"):
        value = opts.flag(key)
        if value is not None:
            setattr(sim.faults, key, value)
    if opts.flag("cable_pulled"):
        sim.pull_cable()


def _subject(opts: _Options) -> VirtualSubject | None:
    """`subject_rmt=PCT [&subject_seed=N]`: a virtual subject under the coil."""
    rmt = opts.number("subject_rmt", minimum=0.0, maximum=MAX_SUBJECT_RMT)
    seed = opts.integer("subject_seed", maximum=2**63)
    if rmt is None:
        if seed is not None:
            raise opts.error("subject_seed needs subject_rmt (the subject's true threshold)")
        return None
    if rmt <= 0:
        raise opts.error(f"subject_rmt must be above 0 % MSO, got {rmt:g}")
    return VirtualSubject(rmt, seed)


def _trigger_wire(opts: _Options, factory: Callable[..., SimulatorBase]) -> str | None:
    """`trigger=sim://NAME`: the simulated wire cabled to the Trigger In (issue 18)."""
    raw = opts.text("trigger")
    if raw is None:
        return None
    if not raw.startswith("sim://"):
        raise opts.error(f"trigger must be sim://NAME (a simulated trigger wire), got {raw!r}")
    if getattr(factory, "trigger_input", None) is None:
        raise opts.error("this model has no trigger input documented in the references")
    name = raw[len("sim://") :].split("?", 1)[0].strip("/")
    try:
        return simwire.check_name(name)
    except ConfigError as exc:
        raise opts.error(str(exc)) from None


def split_spec(spec: str) -> tuple[str, dict[str, str]]:
    """'magstim-rapid2?version=10' -> ('magstim-rapid2', {'version': '10'})."""
    text = spec.strip()
    if text.lower().startswith(f"{SCHEME}://"):
        text = text[len(SCHEME) + 3 :]
    parts = urlsplit(f"{SCHEME}://{text}")
    model = (parts.netloc + parts.path).strip("/").lower()
    pairs: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if key in pairs:
            raise SimSpecError(f"simulator spec {spec!r}: key {key!r} given twice")
        pairs[key] = value
    return model, pairs


def create_simulator(spec: str, clock: Clock | None = None) -> SimulatorBase:
    """Build a live simulator from a spec; `clock` wins over a `?clock=` key."""
    model, pairs = split_spec(spec)
    if model not in MODELS:
        raise SimSpecError(
            f"simulator spec {spec!r}: unknown model {model!r} (known: {', '.join(sorted(MODELS))})"
        )
    opts = _Options(spec, pairs)
    clock_name = opts.text("clock")
    if clock is None and clock_name is not None:
        with _CLOCKS_LOCK:
            clock = _CLOCKS.get(clock_name)
        if clock is None:
            raise opts.error(
                f"no clock registered as {clock_name!r} (call simulators.register_clock first)"
            )
    factory, parse = MODELS[model]
    kwargs = parse(opts)
    subject = _subject(opts)
    wire_time = opts.flag("wire_time")
    trigger = _trigger_wire(opts, factory)
    fault_pairs = {k: opts.pairs.pop(k) for k in FAULT_KEYS if k in opts.pairs}
    if opts.pairs:
        raise opts.error(f"unknown key(s) for {model}: {', '.join(sorted(opts.pairs))}")
    strict_baud = bool(kwargs.pop("strict_baud", False))
    initial = kwargs.pop("_initial", None)
    try:
        sim = factory(clock, **kwargs)
        if initial:
            sim.set_state(**initial)
    except ValueError as exc:
        raise opts.error(str(exc)) from None
    sim.strict_baud = strict_baud
    sim.wire_time = bool(wire_time)
    if trigger is not None:
        sim.connect_trigger(trigger)
    sim.attach_subject(subject)
    _apply_faults(sim, _Options(spec, fault_pairs))
    return sim
