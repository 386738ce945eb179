"""Site rules file (configs/site/*.toml): clinical or research mode and schedule policy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stimctl.configs import configs_dir
from stimctl.safety.inputs import SiteRules
from stimctl.tomlfile import load_model


class AllowedDriver(BaseModel):
    """A driver clinical mode may load: its entry-point name and the distribution."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: Annotated[str, Field(min_length=1, max_length=80)]
    distribution: Annotated[str, Field(min_length=1, max_length=120)]


class SiteFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    schema_version: Literal[1]
    mode: Literal["clinical", "research"] = "clinical"
    accelerated_allowed: bool = False
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    screening_validity_days: Annotated[int, Field(ge=0, le=365)] = 30
    conservative_duration_table: bool = False
    # Who may run without signing in (ADR 0014): dry runs on the simulator by default;
    # sessions on a stimulator only in research mode and only where the site says so.
    # A clinical session on a stimulator always needs an authenticated operator.
    unauthenticated_dry_runs: bool = True
    unauthenticated_research_runs: bool = False
    research_allowed: bool = False
    """Whether research sessions (`--mode research`) may run here at all. A clinic's
    site file says false (the shipped default): research mode relaxes clinical rules and
    is not a per-command escape from them (issue 12 item 4)."""

    @model_validator(mode="after")
    def _research_mode_needs_permission(self) -> SiteFile:
        if self.mode == "research" and not self.research_allowed:
            raise ValueError('mode = "research" needs research_allowed = true')
        return self

    database_url: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    """The clinic's shared record store (``postgresql://...``, issue 17); absent: the
    console's own SQLite file. $STIMCTL_DATABASE_URL overrides it. Keep the password
    out of it (use ~/.pgpass or a client certificate; docs/clinic-setup.md)."""

    drivers: Annotated[list[AllowedDriver], Field(max_length=50)] | None = None
    """Clinical mode loads only these drivers (issue 13 item 6); absent: the shipped four."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def rules(self, file: str | None = None) -> SiteRules:
        drivers = None
        if self.drivers is not None:
            drivers = tuple((d.name, d.distribution) for d in self.drivers)
        return SiteRules(
            mode=self.mode,
            accelerated_allowed=self.accelerated_allowed,
            timezone=self.timezone,
            screening_validity_days=self.screening_validity_days,
            conservative_duration_table=self.conservative_duration_table,
            research_allowed=self.research_allowed,
            file=file,
            drivers=drivers,
        )


def load_site(path: str | None = None) -> SiteRules:
    """The site rules: `path`, else $STIMCTL_SITE, else the shipped default."""
    return load_site_file(path).rules(str(site_path(path)))


def site_path(path: str | None = None) -> Path:
    """The site file in force: `path`, else $STIMCTL_SITE, else the shipped default."""
    chosen = path or os.environ.get("STIMCTL_SITE")
    return Path(chosen) if chosen else configs_dir() / "site" / "default.toml"


def load_site_file(path: str | None = None) -> SiteFile:
    """The whole site file (rules and settings that are not safety rules)."""
    return load_model(SiteFile, site_path(path))
