"""Loaders for the shared expected-message tables (tests/vectors/*.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def load_cases(vendor: str) -> list[dict[str, Any]]:
    """Rows of `magstim` or `magventure`, each a dict as described in README.md."""
    with (HERE / f"{vendor}.toml").open("rb") as fh:
        cases: list[dict[str, Any]] = tomllib.load(fh)["case"]
    return cases


def hex_bytes(text: str) -> bytes:
    return bytes.fromhex(text)
