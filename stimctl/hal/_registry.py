"""Driver registry over the entry-point group `stimctl.drivers` (python-can style).

Names map to "module:Class" strings; nothing is imported until `load_driver(name)` asks
for it, so one broken optional driver never breaks stimctl (style-anchors 3.3 #4,
trap 4.14: identical duplicates are merged, conflicting ones are refused by name).
"""

from __future__ import annotations

import importlib
import logging
from functools import cache
from importlib.metadata import entry_points

from stimctl.errors import UnknownDriver
from stimctl.hal._driver import Stimulator

log = logging.getLogger(__name__)

GROUP = "stimctl.drivers"


@cache
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for ep in entry_points(group=GROUP):
        known = table.get(ep.name)
        if known is not None and known != ep.value:
            raise UnknownDriver(
                f"driver name {ep.name!r} is registered twice: {known} and {ep.value}"
            )
        table[ep.name] = ep.value
    return table


def available_drivers() -> list[str]:
    """Registered driver names, sorted. Imports no driver."""
    return sorted(_table())


def driver_target(name: str) -> str:
    """The "module:Class" a name points to; `UnknownDriver` listing the known names."""
    target = _table().get(name)
    if target is None:
        known = ", ".join(available_drivers()) or "none"
        raise UnknownDriver(f"unknown driver {name!r}; known drivers: {known}")
    return target


def load_driver(name: str) -> type[Stimulator]:
    """Import and return the driver class registered as `name`."""
    target = driver_target(name)
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, attr)
    except Exception as exc:  # any import-time failure of a plug-in is "unavailable"
        raise UnknownDriver(f"driver {name!r} ({target}) failed to load: {exc!r}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Stimulator)):
        raise UnknownDriver(f"driver {name!r} ({target}) is not a stimctl.hal.Stimulator")
    return cls


def clear_cache() -> None:
    """Forget the entry-point table (tests; after installing a plug-in at runtime)."""
    _table.cache_clear()
