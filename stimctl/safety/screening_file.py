"""Screening answer files (TOML): every questionnaire item answered, nothing unknown.

The format is documented for users in docs/screening-format.md (a test keeps it in step).

```toml
questionnaire = "rossi-2011"
answered_on = 2026-11-24
reviewer = "dr-lee"
medications = ["sertraline"]

[answers]
epilepsy_or_seizure = false
...every item of configs/safety/screening.toml...
```
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from stimctl import plausible
from stimctl.errors import ConfigError
from stimctl.safety.inputs import Screening
from stimctl.safety.tables import screening_table
from stimctl.tomlfile import read_toml, validate


class ScreeningFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    questionnaire: Annotated[str, Field(max_length=80)]
    answered_on: dt.date
    reviewer: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    medications: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=100)] = []
    answers: Annotated[dict[str, bool], Field(max_length=500)]


def parse_screening(data: dict[str, object], origin: str) -> Screening:
    parsed = validate(ScreeningFile, dict(data), origin)
    try:
        plausible.past_date(parsed.answered_on, "answered_on")
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    table = screening_table()
    if parsed.questionnaire != table.questionnaire:
        raise ConfigError(
            f"{origin}: questionnaire: '{parsed.questionnaire}' is not the configured "
            f"'{table.questionnaire}'"
        )
    missing = sorted(set(table.items) - set(parsed.answers))
    if missing:
        raise ConfigError(
            f"{origin}: answers.{missing[0]}: missing answer ({len(missing)} missing)"
        )
    unknown = sorted(set(parsed.answers) - set(table.items))
    if unknown:
        raise ConfigError(f"{origin}: answers.{unknown[0]}: unknown questionnaire item")
    return Screening(
        questionnaire=parsed.questionnaire,
        answered_on=parsed.answered_on,
        answers=dict(parsed.answers),
        medications=tuple(parsed.medications),
        reviewer=parsed.reviewer,
    )


def load_screening(path: Path) -> Screening:
    return parse_screening(read_toml(path), str(path))
