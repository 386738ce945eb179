"""Load a protocol by shipped name or path."""

from __future__ import annotations

from stimctl.configs import resolve
from stimctl.protocol.models import Protocol
from stimctl.tomlfile import load_model


def load_protocol(name_or_path: str) -> Protocol:
    return load_model(Protocol, resolve("protocols", name_or_path))
