"""Magstim Rapid^2 (device-protocols A4, A5, A8; TDb087).

Software versions matter: v9 added the unlock code, 5-digit pulse counts, 4-digit
durations and the `x` system status (used as keep-alive, A6); v10 added the 5-digit
charge delay. Trains are device-timed: one trigger runs the loaded train (A8.2).
"""

from __future__ import annotations

import dataclasses
import math

from drivers.magstim._base import ARMED_KEEPALIVE_S, IDLE_KEEPALIVE_S, MagstimDriver
from drivers.magstim.codec import InstrumentStatus, RapidStatus, Reply, Version, at_least
from drivers.magstim.commands import (
    Command,
    EnableRemote,
    EnhancedPowerOff,
    EnhancedPowerOn,
    Fire,
    GetChargeDelay,
    GetErrorCode,
    GetRapidParameters,
    GetSystemStatus,
    GetVersion,
    SetChargeDelay,
    SetDuration,
    SetFrequency,
    SetPowerA,
    SetPulses,
)
from drivers.magstim.rapid_tables import SYSTEMS, max_frequency_hz
from stimctl.clock import Clock
from stimctl.errors import (
    ConfigError,
    DeviceRejected,
    DeviceTimeout,
    ProtocolError,
    SafetyViolation,
)
from stimctl.hal import (
    ArmState,
    Capabilities,
    DeviceIdentity,
    OutputPlan,
    OutputState,
    TrainSpec,
    Transport,
)


def parse_version(value: str | tuple[int, ...] | Version) -> Version:
    if isinstance(value, tuple):
        return tuple(int(v) for v in value)
    parts = str(value).lstrip("Vv").split(".")
    if not parts or not all(p.isdigit() for p in parts):
        raise ConfigError(f"Rapid software version must look like '9.0', got {value!r}")
    return tuple(int(p) for p in parts)


class RapidDriver(MagstimDriver):
    """Magstim Rapid^2.

    ``RapidDriver(port_url, *, clock=None, transport=None, reply_timeout_s=0.5,
    keepalive=True, version=None, unlock_code=None, rapid_type=0, mains_v=240)``

    - `version`: software version ("9.0"); None = ask the device (`ND`, A5) at open.
    - `unlock_code`: the 16-character code for v9+ (A8.1), with hyphens, without `Q` and
      without the trailing check character.
    - `rapid_type`: 0 Rapid^2, 1 Super Rapid^2, 2 Super Rapid^2 Plus; `mains_v`: 240 or
      115. Together they give the frequency ceiling (A9).
    """

    model = "Rapid²"

    def __init__(
        self,
        port_url: str,
        *,
        clock: Clock | None = None,
        transport: Transport | None = None,
        reply_timeout_s: float = 0.5,
        keepalive: bool = True,
        version: str | tuple[int, ...] | None = None,
        unlock_code: str | None = None,
        rapid_type: int = 0,
        mains_v: int = 240,
    ) -> None:
        super().__init__(
            port_url,
            clock=clock,
            transport=transport,
            reply_timeout_s=reply_timeout_s,
            keepalive=keepalive,
        )
        if (mains_v, rapid_type) not in SYSTEMS:
            raise ConfigError(f"unknown Rapid type {rapid_type} / mains {mains_v} V")
        if unlock_code is not None and len(unlock_code) != 16:
            raise ConfigError(
                "unlock code must be 16 characters like 'abcd-0123abcd-5e' "
                "(without Q and without the trailing check character, A8.1)"
            )
        self._configured_version = None if version is None else parse_version(version)
        self._version: Version = self._configured_version or (9, 0)
        self._unlock_code = unlock_code
        self._rapid_type = rapid_type
        self._mains_v = mains_v
        self._last_rapid: RapidStatus | None = None

    # -- version-dependent framing -------------------------------------------------

    @property
    def version(self) -> Version:
        return self._version

    def transact(self, command: Command) -> Reply:
        reply = super().transact(command)
        if reply.rapid is not None:
            self._last_rapid = RapidStatus(reply.rapid)
        return reply

    def _prepare(self) -> None:
        if self._configured_version is None:
            self._version = self.get_version()

    def get_version(self) -> Version:
        """Software version from `ND` (A5)."""
        reply = self.transact(GetVersion())
        if reply.version is None:
            raise ProtocolError("version reply without a version")
        return reply.version

    def _enable_remote(self) -> Reply:
        use_code = self._unlock_code is not None and at_least(self._version, 9)
        try:
            if use_code:
                return self.transact(EnableRemote(self._unlock_code))
            return self.transact(EnableRemote())
        except DeviceTimeout as exc:
            if at_least(self._version, 9) and not use_code:
                raise DeviceTimeout(
                    f"{exc}; a Rapid with software v9+ may need its unlock code "
                    "(option unlock_code)"
                ) from exc
            raise

    def _keepalive_command(self) -> Command:
        # A6: `x@` (system status) for v9+, `Q@` before.
        return GetSystemStatus() if at_least(self._version, 9) else EnableRemote()

    # -- capabilities and status ---------------------------------------------------

    @property
    def enhanced_power(self) -> bool:
        rapid = self._last_rapid
        return rapid is not None and rapid.enhanced_power

    def _do_capabilities(self) -> Capabilities:
        v9 = at_least(self._version, 9)
        telemetry = {"coil_temperature", "error_code"}
        if v9:
            telemetry.add("system_status")
        return Capabilities(
            model=self.model,
            # A8.4: enhanced power allows up to 110 %; otherwise 100 % (TDb087).
            output_range_pct=(0, 110 if self.enhanced_power else 100),
            frequency_range_hz=(0.1, self.max_frequency_hz(0)),
            device_timed_trains=True,
            keepalive_period_s=IDLE_KEEPALIVE_S,
            keepalive_armed_period_s=ARMED_KEEPALIVE_S,
            max_pulses=6000 if v9 else 1000,  # MAGIC-rp setTrain limits (A8.3)
            max_train_duration_s=100.0 if v9 else 10.0,
            telemetry=frozenset(telemetry),
        )

    def _do_identify(self) -> DeviceIdentity:
        version = ".".join(str(v) for v in self._version)
        return DeviceIdentity(vendor=self.vendor, model=self.model, software_version=version)

    def _read_error_code(self, instr: InstrumentStatus) -> str | None:
        if not instr.error:
            return None
        reply = self.transact(GetErrorCode())
        return f"{reply.error_source}{reply.error_code}"

    def get_rapid_parameters(self) -> Reply:
        """Power, frequency, pulses, duration and wait (A5 `\\`)."""
        return self.transact(GetRapidParameters())

    def get_system_status(self) -> Reply:
        """Instrument, Rapid and extended status (v9+, A3 `x`)."""
        return self.transact(GetSystemStatus())

    def get_error_code(self) -> str:
        reply = self.transact(GetErrorCode())
        return f"{reply.error_source}{reply.error_code}"

    # -- settings ------------------------------------------------------------------

    def max_frequency_hz(self, power_pct: int) -> float:
        """Highest train frequency at that power for this system and mains (A9)."""
        return max_frequency_hz(self._mains_v, self._rapid_type, power_pct)

    def _do_set_intensity(self, percent: int, output: str) -> None:
        train = self._train
        if train is not None and train.frequency_hz > self.max_frequency_hz(percent):
            # MP lowers the frequency here (buggy, A11.8); we refuse instead.
            raise SafetyViolation(
                f"{percent} % allows at most {self.max_frequency_hz(percent)} Hz on this Rapid; "
                f"the loaded train runs at {train.frequency_hz} Hz",
                rule="rapid-max-frequency",
            )
        self.transact(SetPowerA(percent))

    def set_enhanced_power(self, on: bool) -> None:
        """Enhanced power (up to 110 %), single-pulse mode and standby only (A8.4)."""
        self._require_open()
        self._require_state({ArmState.STANDBY}, "change enhanced power")
        if on and not self._single_pulse_mode():
            raise ConfigError("enhanced power needs single-pulse mode (A8.4)")
        self.transact(EnhancedPowerOn() if on else EnhancedPowerOff())
        # Part of the planned output state from now on: `arm` keeps it and reads it back.
        self._output_plan = dataclasses.replace(self._output_plan, enhanced_power=on)

    def set_charge_delay(self, ms: int) -> None:
        """Charge delay in ms: 0-2000 on v9, 0-10000 on v10+ (A4 `n`, MAGIC-rp limits)."""
        self._require_open()
        if not at_least(self._version, 9):
            raise ConfigError("charge delay needs Rapid software v9 or later")
        top = 10000 if at_least(self._version, 10) else 2000
        if isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms <= top:
            raise SafetyViolation(
                f"charge delay {ms!r} ms is outside 0-{top} ms", rule="device-range"
            )
        self.transact(SetChargeDelay(ms))

    def get_charge_delay(self) -> int:
        self._require_open()
        reply = self.transact(GetChargeDelay())
        if reply.charge_delay_ms is None:
            raise ProtocolError("charge delay reply without a value")
        return reply.charge_delay_ms

    def single_pulse_mode(self) -> None:
        """Leave train mode: duration 0 switches back to single pulses (A8.2)."""
        self._require_open()
        self._require_state({ArmState.STANDBY}, "change mode")
        self.transact(SetDuration(0.0))
        self._train = None

    def _single_pulse_mode(self) -> bool:
        rapid = RapidStatus(self._params().rapid or 0)
        return rapid.single_pulse

    def _params(self) -> Reply:
        reply = self.get_rapid_parameters()
        if reply.rapid is None:
            raise ProtocolError("Rapid parameter reply without the Rapid status byte")
        return reply

    def _do_configure_train(self, spec: TrainSpec) -> None:
        """Enter rTMS mode, then frequency, duration, pulses (MAGIC-rp order, A8.3), then
        read everything back: a device that holds other values is an error."""
        duration = spec.duration_s
        if duration is None:
            raise ConfigError("a Rapid train needs duration_s (A8.2)")
        if not math.isclose(spec.pulses, spec.frequency_hz * duration, abs_tol=1e-6):
            raise ConfigError(
                f"{spec.pulses} pulses do not match {spec.frequency_hz} Hz x {duration} s; "
                "the Rapid times trains by duration"
            )
        if spec.trains != 1:
            raise ConfigError("the Rapid runs one train per trigger; sequence trains on the host")
        params = self._params()
        power = params.power if params.power is not None else 100
        if spec.frequency_hz > self.max_frequency_hz(power):
            raise SafetyViolation(
                f"{spec.frequency_hz} Hz exceeds the Rapid's {self.max_frequency_hz(power)} Hz "
                f"at {power} % (device-protocols A9); set the power first",
                rule="rapid-max-frequency",
            )
        if RapidStatus(params.rapid or 0).single_pulse:
            if self.enhanced_power:
                raise ConfigError("switch enhanced power off before train mode (A8.4)")
            self.transact(SetDuration(1.0))  # 1.0 s enters train mode (A8.2)
        self._load_train(spec, duration)
        held = self._params()
        if (
            held.pulses != spec.pulses
            or not math.isclose(held.frequency_hz or 0.0, spec.frequency_hz, abs_tol=1e-6)
            or not math.isclose(held.duration_s or 0.0, duration, abs_tol=1e-6)
        ):
            raise DeviceRejected(
                f"the Rapid holds {held.frequency_hz} Hz, {held.pulses} pulses, "
                f"{held.duration_s} s instead of {spec}"
            )

    def _load_train(self, spec: TrainSpec, duration: float) -> None:
        self.transact(SetFrequency(spec.frequency_hz))
        self.transact(SetDuration(duration))
        self.transact(SetPulses(spec.pulses))

    # -- whole output state (issue 12 item 1) --------------------------------------

    def _do_check_output_plan(self, plan: OutputPlan) -> None:
        if plan.paired is not None or plan.burst_pulses != 1:
            raise ConfigError(f"{self.model} has no second output and no bursts")
        if plan.waveform is not None or plan.current_direction is not None:
            raise ConfigError(f"{self.model} has no settable waveform or current direction")

    def _do_wanted_output(self, plan: OutputPlan) -> OutputState:
        """Host-timed: single-pulse mode, or one trigger would run the whole train the unit
        still holds (A8.2). Device-timed: exactly the configured train."""
        train = self._train
        wanted: dict[str, int | str | bool] = {"enhanced_power": plan.enhanced_power}
        if train is None or train.duration_s is None:
            wanted["train_mode"] = False
            return wanted
        wanted.update(
            train_mode=True,
            frequency_x10=round(train.frequency_hz * 10),
            pulses=train.pulses,
            duration_x10=round(train.duration_s * 10),
        )
        return wanted

    def _do_apply_output(self, plan: OutputPlan) -> None:
        """Send only what differs: the Rapid refuses parameter changes for at least 0.5 s
        after a train (A8.2), and a re-arm may come that soon."""
        held = self._do_read_output()
        wanted = self._do_wanted_output(plan)
        if all(held.get(key) == value for key, value in wanted.items()):
            return
        train = self._train
        if train is None or train.duration_s is None:
            if held.get("train_mode") is not False:
                self.transact(SetDuration(0.0))  # duration 0: single pulse (A8.2)
            if held.get("enhanced_power") != plan.enhanced_power:
                on = plan.enhanced_power
                self.transact(EnhancedPowerOn() if on else EnhancedPowerOff())
            return
        if held.get("enhanced_power") is not False:
            self.transact(EnhancedPowerOff())  # train mode needs it off (A8.4)
        if held.get("train_mode") is not True:
            self.transact(SetDuration(1.0))  # 1.0 s enters train mode (A8.2)
        self._load_train(train, train.duration_s)

    def _do_read_output(self) -> OutputState:
        params = self._params()
        rapid = RapidStatus(params.rapid or 0)
        read: dict[str, int | str | bool] = {
            "enhanced_power": rapid.enhanced_power,
            "train_mode": not rapid.single_pulse,
        }
        if params.power is not None:
            read["power_a"] = params.power
        if params.frequency_hz is not None:
            read["frequency_x10"] = round(params.frequency_hz * 10)
        if params.pulses is not None:
            read["pulses"] = params.pulses
        if params.duration_s is not None:
            read["duration_x10"] = round(params.duration_s * 10)
        return read

    def _do_fire(self) -> None:
        if self._train is not None:
            # In train mode one trigger runs a whole train (A8.2): make that explicit.
            raise ConfigError(
                "the Rapid is in train mode; use start_train() or single_pulse_mode()"
            )
        self.transact(Fire())

    def _do_start_train(self) -> None:
        self.transact(Fire())  # one trigger -> one train (A8.2)
