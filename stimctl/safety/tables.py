"""The safety tables shipped in configs/safety/, loaded and validated once per process.

Every number carries its source and status tag; a malformed table is a ConfigError at
load time, never a silent default.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from stimctl.configs import configs_dir, file_digest
from stimctl.errors import ConfigError
from stimctl.tomlfile import load_model

Status = Literal["V", "V2", "R", "U", "P"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class Limit(_Strict):
    value: float
    source: Annotated[str, Field(min_length=3)]
    status: Status


class DurationTableLimits(_Strict):
    file: str
    conservative_scale: Limit
    max_frequency_hz: Limit
    max_percent_rmt: Limit


class ItiRegion(_Strict):
    """A region of frequency x intensity x train length where an interval is sourced."""

    id: str
    what: str
    max_frequency_hz: float
    max_percent_rmt: float
    max_pulses_per_train: int | None = None
    """None: the train's own Table 4 cell bounds it."""
    min_interval_s: float
    source: Annotated[str, Field(min_length=3)]
    status: Status


class ItiLimits(_Strict):
    block_if_at_most_s: Limit
    allow_from_s: Limit
    tested_frequency_hz: Limit
    regions: list[ItiRegion]


class IntensityLimits(_Strict):
    conventional_clinical_percent_rmt: Limit
    conventional_research_percent_rmt: Limit
    itbs_percent_rmt: Limit
    tbs_allow_percent_amt: Limit
    ctbs_block_from_percent_rmt: Limit
    max_output_percent_mso: Limit
    visual_rmt_override_from_percent_rmt: Limit
    rmt_max_age_days_clinical: Limit
    depth_gradient_percent_mso_per_mm: Limit


class PulseLimits(_Strict):
    hf_session: Limit
    hf_day_standard: Limit
    hf_day_accelerated: Limit
    lf_session: Limit
    lf_seconds_above_110: Limit
    itbs_session_standard: Limit
    itbs_session_accelerated: Limit
    itbs_day_accelerated: Limit
    ctbs_session: Limit
    m1_pain_session: Limit


class SessionLimits(_Strict):
    conventional_per_day_standard: Limit
    conventional_per_day_accelerated: Limit
    itbs_per_day_accelerated: Limit
    min_gap_minutes_accelerated: Limit
    max_consecutive_days_accelerated: Limit
    first_exposures_checklist: Limit


class CourseLimits(_Strict):
    mdd_10hz_or_itbs: Limit
    saint: Limit
    hcoil_h1: Limit
    pain_induction: Limit
    pain_maintenance_min_gap_days: Limit


class DeviceLimits(_Strict):
    coil_temperature_stop_c: Limit
    coil_temperature_warn_c: Limit
    heartbeat_timeout_s: Limit
    rapid_min_wait_s: Limit
    rapid_dissipation_j_per_min: Limit
    rapid_continuous_j_per_s: Limit
    rapid_continuous_max_pulses: Limit


class AgeLimits(_Strict):
    min_cleared_years_depression: Limit
    min_cleared_years_other: Limit


class RiskLimits(_Strict):
    conventional_cap_percent_rmt: Limit
    itbs_cap_percent_rmt: Limit
    ctbs_block_from_percent_rmt: Limit


class Limits(_Strict):
    schema_version: Literal[1]
    table_version: str
    duration_table: DurationTableLimits
    iti: ItiLimits
    intensity: IntensityLimits
    pulses: PulseLimits
    sessions: SessionLimits
    course: CourseLimits
    device: DeviceLimits
    age: AgeLimits
    risk: RiskLimits


class HCoilEnvelope(_Strict):
    indication: str
    frequency_hz: float
    max_percent_rmt: float
    threshold_limb: Literal["hand", "leg"] = "hand"
    """Whose RMT the cap refers to: H7's is a leg threshold (safety-limits 13.3)."""
    train_duration_s: float
    inter_train_interval_s: float
    pulses_per_session: int
    source: str
    status: Status


class HCoilTable(_Strict):
    schema_version: Literal[1]
    models: dict[str, HCoilEnvelope]


class ScreeningItem(_Strict):
    question: str
    on_yes: Literal["block", "override", "record"]
    rule: str
    source: str


class DrugLists(_Strict):
    source: str
    status: Status
    strong_hazard: list[str]
    relative_hazard: list[str]


class ScreeningTable(_Strict):
    schema_version: Literal[1]
    questionnaire: str
    items: dict[str, ScreeningItem]
    drugs: DrugLists


@dataclass(frozen=True)
class DurationCell:
    seconds: float
    """The value the engine applies: the monotone envelope of the published row."""
    tested_only: bool
    """True for '>' cells: the longest duration tested, not an observed limit."""
    published: float = 0.0
    """The value as the table prints it (safety-limits 1.1a)."""
    status: str = "R"
    """The cell's own status tag (V, V2, R, U, P)."""
    anchor: str = ""
    """Why the cell has a better status than the row (an independent anchor)."""

    @property
    def envelope(self) -> bool:
        """True where the envelope lowered the published value (not a published number)."""
        return self.seconds < self.published

    @property
    def tag(self) -> str:
        """The tag a finding cites: E for an envelope cell, else the cell's status."""
        return "E" if self.envelope else self.status


@dataclass(frozen=True)
class DurationTable:
    table_id: str
    source: str
    frequencies_hz: tuple[float, ...]
    intensities_percent: tuple[float, ...]
    cells: tuple[tuple[DurationCell, ...], ...]
    row_sources: tuple[str, ...]


def parse_duration_table(text: str, origin: str) -> DurationTable:
    """Parse the CSV of configs/safety/wass1998_t4.csv (comment lines carry metadata)."""
    meta: dict[str, str] = {}
    rows: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].strip().partition("=")
            meta[key.strip()] = value.strip().strip('"')
        elif line.strip():
            rows.append(line)
    table = list(csv.reader(io.StringIO("\n".join(rows))))
    try:
        header, body = table[0], table[1:]
        if header[-1] != "source":
            raise ValueError("the last column must be 'source' (a source on every row)")
        if any(len(row) != len(header) or not row[-1].strip() for row in body):
            raise ValueError("every row needs every cell and a source")
        intensities = tuple(float(col.removeprefix("i")) for col in header[1:-1])
        frequencies = tuple(float(row[0]) for row in body)
        default = meta.get("status", "R").split()[0]
        cells = tuple(
            _envelope(
                [
                    _parse_cell(c, default, meta.get(f"anchor_{_key(row[0])}_{_key(col)}", ""))
                    for c, col in zip(row[1:-1], header[1:-1], strict=True)
                ]
            )
            for row in body
        )
        row_sources = tuple(row[-1].strip() for row in body)
    except (IndexError, ValueError) as exc:
        raise ConfigError(f"{origin}: malformed duration table: {exc}") from None
    if any(len(row) != len(intensities) for row in cells):
        raise ConfigError(f"{origin}: a row has the wrong number of cells")
    if list(frequencies) != sorted(frequencies) or list(intensities) != sorted(intensities):
        raise ConfigError(f"{origin}: rows and columns must be in increasing order")
    if "table_id" not in meta or "source" not in meta:
        raise ConfigError(f"{origin}: table_id and source are required header lines")
    return DurationTable(
        meta["table_id"], meta["source"], frequencies, intensities, cells, row_sources
    )


def _parse_cell(text: str, default_status: str, anchor: str) -> DurationCell:
    value, _, status = text.strip().partition("|")
    tested_only = value.startswith(">")
    seconds = float(value.removeprefix(">"))
    tag = status.strip() or default_status
    if tag not in ("V", "V2", "R", "U", "P"):
        raise ValueError(f"unknown status tag {tag!r} in cell {text!r}")
    return DurationCell(seconds, tested_only, seconds, tag, anchor)


def _envelope(row: list[DurationCell]) -> tuple[DurationCell, ...]:
    """Running minimum over increasing intensity (safety-limits 9.1 [P]): a cell never
    allows longer trains than a lower intensity's; the published value is kept."""
    out: list[DurationCell] = []
    lowest = float("inf")
    for cell in row:
        lowest = min(lowest, cell.published)
        out.append(replace(cell, seconds=lowest))
    return tuple(out)


def _key(number: str) -> str:
    return f"{float(number.removeprefix('i')):g}"


def safety_dir() -> Path:
    return configs_dir() / "safety"


@cache
def limits() -> Limits:
    return load_model(Limits, safety_dir() / "limits.toml")


@cache
def duration_table() -> DurationTable:
    path = safety_dir() / limits().duration_table.file
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_duration_table(text, str(path))


@cache
def hcoil_table() -> HCoilTable:
    return load_model(HCoilTable, safety_dir() / "hcoil.toml")


@cache
def screening_table() -> ScreeningTable:
    return load_model(ScreeningTable, safety_dir() / "screening.toml")


@dataclass(frozen=True)
class Tables:
    """Every safety table an evaluation reads, loaded before the rules run: the engine
    hands them to the rules through the context, so a rule reads no file."""

    limits: Limits
    duration: DurationTable
    hcoil: HCoilTable
    screening: ScreeningTable


@cache
def tables() -> Tables:
    """The shipped tables, loaded and validated once per process."""
    return Tables(limits(), duration_table(), hcoil_table(), screening_table())


def table_digests() -> dict[str, str]:
    """SHA-256 of every safety table file, recorded with verdicts and sessions."""
    return {p.name: file_digest(p) for p in sorted(safety_dir().iterdir()) if p.is_file()}
