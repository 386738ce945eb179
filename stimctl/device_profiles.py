"""Device profiles (configs/devices/*.toml): what a stimulator model can deliver.

Kept separate from the physiological limits: a protocol must pass both (safety-limits
6.3). Rapid² profiles add the energy table and the maximum frequency by power.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from stimctl.configs import configs_dir, names_in, resolve
from stimctl.errors import ConfigError
from stimctl.tomlfile import load_model

Status = Literal["V", "V2", "R", "U", "P"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


Name = Annotated[str, Field(min_length=1, max_length=80)]
Text = Annotated[str, Field(min_length=1, max_length=1000)]
# Driver options are short settings (a model, a mains voltage, an unlock code).
OptionValue = Annotated[str, Field(max_length=200)] | Annotated[int, Field(ge=0, le=1_000_000)]
Hz = Annotated[float, Field(ge=0.01, le=1000)]


class FrequencyCap(_Strict):
    """A datasheet point: from this power upwards, at most `max_hz` (frequency never
    rises with power, so a point caps every higher power too)."""

    from_percent_mso: Annotated[float, Field(ge=0, le=100)]
    max_hz: Annotated[float, Field(gt=0)]
    source: str
    status: Status


class RapidTables(_Strict):
    energy_table: Name
    max_frequency_runs: Annotated[str, Field(max_length=5000)]
    """MagPy's table, entry for entry (the driver and simulator copies must agree)."""
    datasheet_caps: list[FrequencyCap] = []
    """Where the maker's datasheet is stricter than MagPy, the lower value governs
    (safety-limits 13.1)."""


class DeviceProfile(_Strict):
    """A stimulator model. Ranges: docs/protocol-limits.md (device profiles)."""

    schema_version: Literal[1]
    name: Name
    title: Text
    vendor: Literal["magstim", "magventure"]
    driver: Name
    model: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    """The model the driver reports at open (`Capabilities.model`); checked there."""
    driver_options: Annotated[dict[Name, OptionValue], Field(max_length=20)]
    simulator: Annotated[str, Field(max_length=200)] | None = None
    """Spec of the built-in simulator of this model (`stimsim://<spec>`), for dry runs."""
    dry_run_options: Annotated[dict[Name, OptionValue], Field(max_length=20)] = {}
    """Options a dry run gives the built-in simulator and the driver alike (a Rapid²'s
    unlock code, device-protocols A8.1)."""
    max_output_percent_mso: Annotated[float, Field(ge=1, le=100)]
    enhanced_power_max_percent_mso: Annotated[float, Field(ge=100, le=110)] | None = None
    min_frequency_hz: Hz
    max_frequency_hz: Hz
    single_pulse_max_rate_hz: Annotated[float, Field(ge=0.01, le=100)]
    device_timed_trains: bool
    coil_temperature_limit_c: Annotated[float, Field(ge=20, le=60)]
    keepalive_s: Annotated[float, Field(ge=0.05, le=60)] | None = None
    source: Text
    status: Status
    rapid: RapidTables | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DeviceProfile:
        if self.min_frequency_hz > self.max_frequency_hz:
            raise ValueError("min_frequency_hz is above max_frequency_hz")
        return self


class EnergyTable(_Strict):
    schema_version: Literal[1]
    source: Text
    status: Status
    joules: list[Annotated[float, Field(ge=0, le=10_000)]]

    @model_validator(mode="after")
    def _complete(self) -> EnergyTable:
        if len(self.joules) != 101:
            raise ValueError(f"need 101 entries (0..100 % MSO), got {len(self.joules)}")
        if any(b < a for a, b in zip(self.joules, self.joules[1:], strict=False)):
            raise ValueError("energy must not fall as power rises")
        return self


def parse_runs(text: str, origin: str) -> tuple[int, ...]:
    """Expand "0-30:50 31:46 ..." into a value per power setting 0..100."""
    values: dict[int, int] = {}
    try:
        for run in text.split():
            span, _, value = run.partition(":")
            low, _, high = span.partition("-")
            for power in range(int(low), int(high or low) + 1):
                values[power] = int(value)
    except ValueError:
        raise ConfigError(f"{origin}: malformed run {text!r}") from None
    if sorted(values) != list(range(101)):
        raise ConfigError(f"{origin}: max_frequency_runs must cover every power 0..100 once")
    return tuple(values[p] for p in range(101))


@cache
def load_profile(name_or_path: str) -> DeviceProfile:
    return load_model(DeviceProfile, resolve("devices", name_or_path))


def profile_names() -> list[str]:
    return names_in("devices")


@cache
def energy_joules(table_name: str) -> tuple[float, ...]:
    path = configs_dir() / "devices" / "tables" / f"{table_name}.toml"
    return tuple(load_model(EnergyTable, path).joules)


def rapid_max_frequency_hz(profile: DeviceProfile, power_percent_mso: float) -> float | None:
    """Highest frequency the Rapid² allows at a power (None for non-Rapid profiles).

    The power is rounded up to the next whole % MSO: the table is per whole percent and
    rounding up picks the stricter entry.
    """
    if profile.rapid is None:
        return None
    table = parse_runs(profile.rapid.max_frequency_runs, profile.name)
    return float(table[_table_index(power_percent_mso)])


def rapid_datasheet_cap(profile: DeviceProfile, power_percent_mso: float) -> FrequencyCap | None:
    """The strictest datasheet point that applies at this power (None: none applies)."""
    if profile.rapid is None:
        return None
    index = _table_index(power_percent_mso)
    caps = [c for c in profile.rapid.datasheet_caps if index >= c.from_percent_mso - 1e-9]
    return min(caps, key=lambda c: c.max_hz, default=None)


def rapid_energy_j(profile: DeviceProfile, power_percent_mso: float) -> float | None:
    if profile.rapid is None:
        return None
    return energy_at(energy_joules(profile.rapid.energy_table), power_percent_mso)


def energy_at(joules: tuple[float, ...], power_percent_mso: float) -> float:
    """The entry of an energy table (per whole % MSO) that applies at a power: rounded up,
    the stricter entry, as `rapid_max_frequency_hz` does."""
    return joules[_table_index(power_percent_mso)]


def _table_index(power_percent_mso: float) -> int:
    index = math.ceil(power_percent_mso - 1e-9)
    if not 0 <= index <= 100:
        raise ConfigError(f"power {power_percent_mso:g}% MSO is outside 0..100")
    return index
