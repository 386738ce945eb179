"""Driver registry over the entry-point group `stimctl.drivers` (python-can style).

Names map to "module:Class" strings; nothing is imported until `load_driver(name)` asks
for it, so one broken optional driver never breaks stimctl (style-anchors 3.3 #4,
trap 4.14: identical duplicates are merged, conflicting ones are refused by name).

Clinical sessions load drivers with `load_allowed_driver`: only (entry-point name,
distribution) pairs on the site's allow-list, by default the four drivers shipped in the
`stimctl` distribution; a `dist-info` dropped on PYTHONPATH does not qualify. Every
session journals the driver's `DriverOrigin` (distribution, version, file digest).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import cache
from importlib.metadata import entry_points

from stimctl.errors import UnknownDriver
from stimctl.hal._driver import Stimulator

log = logging.getLogger(__name__)

GROUP = "stimctl.drivers"

SHIPPED_DRIVERS: tuple[tuple[str, str], ...] = (
    ("magstim-200", "stimctl"),
    ("magstim-bistim", "stimctl"),
    ("magstim-rapid2", "stimctl"),
    ("magpro", "stimctl"),
)
"""The default allow-list of clinical mode: (entry-point name, distribution)."""


class DriverNotAllowed(UnknownDriver):
    """Clinical mode: the driver is not on the site's allow-list (exit 2, bad input)."""


@dataclass(frozen=True)
class DriverOrigin:
    """Where a loaded driver came from: journaled with every session."""

    name: str
    target: str
    distribution: str | None
    version: str | None
    file: str | None
    sha256: str | None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


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


def _normal(distribution: str) -> str:
    """PEP 503 normalised distribution name: `Stimctl_Drivers` == `stimctl-drivers`."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


@cache
def _providers() -> dict[str, tuple[tuple[str, str], ...]]:
    """name -> sorted (distribution, version) of every installed package declaring it."""
    found: dict[str, set[tuple[str, str]]] = {}
    for ep in entry_points(group=GROUP):
        dist = ep.dist
        found.setdefault(ep.name, set()).add((dist.name, dist.version) if dist else ("", ""))
    return {name: tuple(sorted(pairs)) for name, pairs in found.items()}


def driver_origin(name: str, cls: type) -> DriverOrigin:
    """Distribution, version, source file and SHA-256 of a loaded driver class."""
    providers = _providers().get(name, ())
    distribution = ", ".join(d for d, _ in providers if d) or None
    version = ", ".join(v for _, v in providers if v) or None
    try:
        file: str | None = inspect.getsourcefile(cls) or inspect.getfile(cls)
    except TypeError:  # a class without a file (built in code)
        file = None
    digest = None
    if file is not None:
        try:
            with open(file, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            digest = None
    target = _table().get(name, f"{cls.__module__}:{cls.__qualname__}")
    return DriverOrigin(name, target, distribution, version, file, digest)


def load_allowed_driver(
    name: str, allowed: Iterable[tuple[str, str]] | None
) -> tuple[type[Stimulator], DriverOrigin]:
    """`load_driver`, refusing (before any import) a driver not on the allow-list.

    `allowed` holds (entry-point name, distribution) pairs; None means no restriction
    (research mode). Every distribution declaring the name must be allowed, so a second
    package registering the same name cannot ride on the first.
    """
    check_allowed(name, allowed)
    cls = load_driver(name)
    return cls, driver_origin(name, cls)


def check_allowed(name: str, allowed: Iterable[tuple[str, str]] | None) -> None:
    """Refuse (`DriverNotAllowed`) a driver not on `allowed`, importing nothing."""
    target = driver_target(name)
    if allowed is not None:
        permitted = {_normal(dist) for entry, dist in allowed if entry == name}
        providers = {_normal(dist) for dist, _ in _providers().get(name, ()) if dist}
        if not providers or not providers <= permitted:
            where = ", ".join(sorted(providers)) or "no installed distribution"
            raise DriverNotAllowed(
                f"driver {name!r} ({target}, from {where}) is not on the site's driver "
                "allow-list: clinical mode loads only the drivers listed in the site file"
            )


def clear_cache() -> None:
    """Forget the entry-point table (tests; after installing a plug-in at runtime)."""
    _table.cache_clear()
    _providers.cache_clear()
