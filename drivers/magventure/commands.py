"""Typed MagPro commands: one small value per codec command (issue 14 item 4).

The driver's `transact` takes one of these instead of a name and loose keyword arguments.
Each value carries the codec name it encodes as (the names of tests/vectors/magventure.toml);
`named` builds one from such a name and its arguments (vectors, benchmarks). Defaults are
the codec's own, so a value left out sends the same bytes as before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from drivers.magventure.codec import Request, encode
from stimctl.errors import ProtocolError


@dataclass(frozen=True)
class Command:
    name: ClassVar[str]

    def request(self) -> Request:
        """The frame for this command (range checks are the codec's)."""
        args = {k: v for k, v in asdict(self).items() if v is not None}
        return encode(self.name, **args)


@dataclass(frozen=True)
class GetStatus(Command):
    name = "get_status"


@dataclass(frozen=True)
class GetLongStatus(Command):
    name = "get_long_status"


@dataclass(frozen=True)
class Enable(Command):
    name = "enable"


@dataclass(frozen=True)
class Disable(Command):
    name = "disable"


@dataclass(frozen=True)
class StartTrain(Command):
    name = "start_train"


@dataclass(frozen=True)
class GetMode(Command):
    name = "get_mode"


@dataclass(frozen=True)
class SetAmplitude(Command):
    name = "set_amplitude"
    a: int
    b: int | None = None
    """None: the 2-byte MCP form (amplitude A only)."""


@dataclass(frozen=True)
class Fire(Command):
    name = "fire"
    short: bool = False
    """The 1-byte KOP/XL form instead of the MCP form (V7)."""


@dataclass(frozen=True)
class SetTrain(Command):
    name = "set_train"
    rate_pps: float
    pulses: int
    trains: int
    iti_s: float


@dataclass(frozen=True)
class SetPage(Command):
    name = "set_page"
    page: int


@dataclass(frozen=True)
class SetDelays(Command):
    name = "set_delays"
    in_ms: float
    out_ms: float
    charge_ms: int


@dataclass(frozen=True)
class SetMode(Command):
    name = "set_mode"
    model: int
    mode: int
    direction: int
    waveform: int
    burst_pulses: int = 2
    ipi_ms: float = 10.0
    ba_ratio: float = 1.0


_ALL: tuple[type[Command], ...] = (
    GetStatus,
    GetLongStatus,
    Enable,
    Disable,
    StartTrain,
    GetMode,
    SetAmplitude,
    Fire,
    SetTrain,
    SetPage,
    SetDelays,
    SetMode,
)
BY_NAME: dict[str, type[Command]] = {c.name: c for c in _ALL}


def named(name: str, **args: object) -> Command:
    """The command a codec name and its arguments stand for (test vectors, benchmarks)."""
    kind = BY_NAME.get(name)
    if kind is None:
        raise ProtocolError(f"no MagPro command named {name!r}")
    return kind(**args)
