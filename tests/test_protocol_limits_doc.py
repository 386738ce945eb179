"""docs/protocol-limits.md lists every field of the file models with the range the code uses.

A field added without a documented range, or a range changed in code and not in the
document (or the other way round), fails here.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import annotated_types as at
import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from stimctl.device_profiles import DeviceProfile, EnergyTable, RapidTables
from stimctl.protocol.models import (
    Coil,
    ContinuousPattern,
    Intensity,
    Protocol,
    Schedule,
    ThetaBurstPattern,
    TrainPattern,
)
from stimctl.site import SiteFile

DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol-limits.md"

# (doc section heading, model, prefix of the key as written in the file)
MODELS: list[tuple[str, type[BaseModel], str]] = [
    ("Protocol files", Protocol, ""),
    ("Protocol files", Coil, "coil."),
    ("Protocol files", Intensity, "intensity."),
    ("Protocol files", TrainPattern, "pattern."),
    ("Protocol files", ContinuousPattern, "pattern."),
    ("Protocol files", ThetaBurstPattern, "pattern."),
    ("Protocol files", Schedule, "schedule."),
    ("Site file", SiteFile, ""),
    ("Device profiles", DeviceProfile, ""),
    ("Device profiles", RapidTables, "rapid."),
    ("Device profiles", EnergyTable, ""),
]


def sections() -> dict[str, list[str]]:
    """Heading (after '## ') -> table rows below it."""
    found: dict[str, list[str]] = {}
    current = ""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line[3:].split(" (")[0].strip()
            found[current] = []
        elif line.startswith("|") and current:
            found[current].append(line)
    return found


def constraints(info: FieldInfo | Any) -> dict[str, float]:
    """ge/le/max_length of a field, looking inside Optional[Annotated[...]] and list[...]."""
    found: dict[str, float] = {}
    metadata = list(getattr(info, "metadata", []))
    annotation = getattr(info, "annotation", info)
    stack = [annotation]
    while stack:
        current = stack.pop()
        if typing.get_origin(current) is typing.Annotated:
            args = typing.get_args(current)
            for extra in args[1:]:
                metadata += list(getattr(extra, "metadata", [extra]))
            stack.append(args[0])
        elif typing.get_origin(current) in (typing.Union, types.UnionType, list, dict):
            stack.extend(typing.get_args(current))
    for item in metadata:
        if isinstance(item, at.Ge):
            found["ge"] = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, at.Le):
            found["le"] = float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, at.MaxLen):
            found.setdefault("max_length", float(item.max_length))
    return found


def number(value: float) -> str:
    """As the document writes it: 1000000 and 0.001, not 1e+06."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def documented_fields() -> list[tuple[str, str, dict[str, float]]]:
    rows = []
    for section, model, prefix in MODELS:
        for name, info in model.model_fields.items():
            bounds = constraints(info)
            if bounds:
                rows.append((section, f"{prefix}{name}", bounds))
    return rows


@pytest.mark.parametrize(
    ("section", "key", "bounds"),
    documented_fields(),
    ids=[f"{s}:{k}" for s, k, _ in documented_fields()],
)
def test_every_bounded_field_is_documented_with_its_range(
    section: str, key: str, bounds: dict[str, float]
) -> None:
    rows = sections()[section]
    matching = [r for r in rows if f"`{key}`" in r]
    assert matching, f"{key} has no row in {DOC.name} section {section!r}"
    row = matching[0]
    if "ge" in bounds and "le" in bounds:
        expected = f"{number(bounds['ge'])} – {number(bounds['le'])}"
        assert expected in row, f"{key}: code range {expected}, doc row {row!r}"
    elif "max_length" in bounds:
        longest = number(bounds["max_length"])
        assert longest in row, f"{key}: max {longest}, {row!r}"


def test_the_session_ceilings_in_the_doc_are_the_code_constants() -> None:
    from stimctl import plausible

    text = DOC.read_text(encoding="utf-8")
    assert f"| pulses per session | {plausible.MAX_PULSES_PER_SESSION:,}".replace(",", " ") in text
    assert f"{plausible.MAX_SESSION_DURATION_S:g} s (2 h)" in text
