"""Typed Magstim commands: one small value per codec command (issue 14 item 4).

The driver's `transact` takes one of these instead of a name and loose keyword arguments,
so a misspelt command or argument is a type error, not a `KeyError` on the wire path.
Each value carries the codec name it encodes as (the names of tests/vectors/magstim.toml);
`named` builds one from such a name and its arguments (vectors, benchmarks).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from drivers.magstim.codec import NEWEST, Request, Version, encode
from stimctl.errors import ProtocolError


@dataclass(frozen=True)
class Command:
    name: ClassVar[str]

    def request(self, version: Version = NEWEST) -> Request:
        """The frame for this command as `version` of the software reads it."""
        args = {k: v for k, v in asdict(self).items() if v is not None}
        return encode(self.name, version=version, **args)


@dataclass(frozen=True)
class EnableRemote(Command):
    name = "enable_remote"
    unlock_code: str | None = None
    """Rapid² v9+ with a locked unit: the 16-character code (A8.1)."""


@dataclass(frozen=True)
class DisableRemote(Command):
    name = "disable_remote"


@dataclass(frozen=True)
class SetPowerA(Command):
    name = "set_power_a"
    percent: int


@dataclass(frozen=True)
class SetPowerB(Command):
    name = "set_power_b"
    percent: int


@dataclass(frozen=True)
class SetInterval(Command):
    name = "set_interval"
    raw: int
    """BiStim² interpulse interval as the unit counts it (ms, or 0.1 ms in high resolution)."""


@dataclass(frozen=True)
class HighResOn(Command):
    name = "high_res_on"


@dataclass(frozen=True)
class HighResOff(Command):
    name = "high_res_off"


@dataclass(frozen=True)
class Arm(Command):
    name = "arm"


@dataclass(frozen=True)
class Disarm(Command):
    name = "disarm"


@dataclass(frozen=True)
class Fire(Command):
    name = "fire"


@dataclass(frozen=True)
class GetParameters(Command):
    name = "get_parameters"


@dataclass(frozen=True)
class GetTemperature(Command):
    name = "get_temperature"


@dataclass(frozen=True)
class GetSystemMode(Command):
    name = "get_system_mode"


@dataclass(frozen=True)
class GetRapidParameters(Command):
    name = "get_rapid_parameters"


@dataclass(frozen=True)
class SetFrequency(Command):
    name = "set_frequency"
    hz: float


@dataclass(frozen=True)
class SetPulses(Command):
    name = "set_pulses"
    count: int


@dataclass(frozen=True)
class SetDuration(Command):
    name = "set_duration"
    seconds: float


@dataclass(frozen=True)
class EnhancedPowerOn(Command):
    name = "enhanced_power_on"


@dataclass(frozen=True)
class EnhancedPowerOff(Command):
    name = "enhanced_power_off"


@dataclass(frozen=True)
class IgnoreCoilInterlock(Command):
    name = "ignore_coil_interlock"


@dataclass(frozen=True)
class GetVersion(Command):
    name = "get_version"


@dataclass(frozen=True)
class GetErrorCode(Command):
    name = "get_error_code"


@dataclass(frozen=True)
class GetSystemStatus(Command):
    name = "get_system_status"


@dataclass(frozen=True)
class SetChargeDelay(Command):
    name = "set_charge_delay"
    ms: int


@dataclass(frozen=True)
class GetChargeDelay(Command):
    name = "get_charge_delay"


@dataclass(frozen=True)
class Raw(Command):
    """Bytes framed with their checksum (diagnostics and expected-message tests)."""

    name = "raw"
    data: str
    """Hex."""
    reply_length: int = 3


@dataclass(frozen=True)
class RawUnframed(Command):
    """Bytes sent as given, without a checksum (malformed-frame tests)."""

    name = "raw_unframed"
    data: str
    reply_length: int = 3


_ALL: tuple[type[Command], ...] = (
    EnableRemote,
    DisableRemote,
    SetPowerA,
    SetPowerB,
    SetInterval,
    HighResOn,
    HighResOff,
    Arm,
    Disarm,
    Fire,
    GetParameters,
    GetTemperature,
    GetSystemMode,
    GetRapidParameters,
    SetFrequency,
    SetPulses,
    SetDuration,
    EnhancedPowerOn,
    EnhancedPowerOff,
    IgnoreCoilInterlock,
    GetVersion,
    GetErrorCode,
    GetSystemStatus,
    SetChargeDelay,
    GetChargeDelay,
    Raw,
    RawUnframed,
)
BY_NAME: dict[str, type[Command]] = {c.name: c for c in _ALL}


def named(name: str, **args: object) -> Command:
    """The command a codec name and its arguments stand for (test vectors, benchmarks)."""
    kind = BY_NAME.get(name)
    if kind is None:
        raise ProtocolError(f"no Magstim command named {name!r}")
    return kind(**args)
