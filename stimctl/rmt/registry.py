"""Named MEP-source factories, found through the entry-point group `stimctl.mep_sources`.

This is how stimctl reaches the virtual subject in `simulators/` without importing it
(ARCHITECTURE rule 1), the same way it finds drivers. The pyproject entry is

    [project.entry-points."stimctl.mep_sources"]
    virtual = "simulators.virtual_subject:make_source"

Tests and embedders may also `register_mep_source` a factory directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol

from stimctl.errors import ConfigError
from stimctl.rmt.readings import MepSource

ENTRY_POINT_GROUP = "stimctl.mep_sources"
VIRTUAL = "virtual"


class VirtualSourceFactory(Protocol):
    """Builds a simulated subject whose true threshold is `true_rmt` % MSO."""

    def __call__(self, true_rmt: float, seed: int | None) -> MepSource: ...


class StreamSourceFactory(Protocol):
    """Builds a live source `SCHEME:TARGET` (e.g. `lsl:stimctl-emg`) with its options."""

    def __call__(self, target: str, options: Mapping[str, str]) -> MepSource: ...


_registered: dict[str, VirtualSourceFactory] = {}


def register_mep_source(name: str, factory: VirtualSourceFactory) -> None:
    _registered[name] = factory


def unregister_mep_source(name: str) -> None:
    _registered.pop(name, None)


def load_mep_source_factory(name: str) -> VirtualSourceFactory:
    """The factory registered as `name`, else the entry point of that name."""
    if name in _registered:
        return _registered[name]
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == name:
            try:
                factory: VirtualSourceFactory = entry.load()
            except Exception as exc:  # a broken plug-in must still give one clear line
                raise ConfigError(f"MEP source {name!r} failed to load: {exc}") from exc
            return factory
    raise ConfigError(
        f"no MEP source named {name!r}: register it under the entry-point group "
        f"{ENTRY_POINT_GROUP!r} (pyproject) and reinstall"
    )


def load_stream_source(spec: str, options: Mapping[str, str]) -> MepSource:
    """The live source `SCHEME:TARGET` (`--mep lsl:NAME`), built by the entry point SCHEME."""
    scheme, sep, target = spec.partition(":")
    if not sep or not scheme or scheme == VIRTUAL:
        raise ConfigError(f"--mep {spec!r}: expected SCHEME:TARGET, e.g. lsl:stimctl-emg")
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == scheme:
            try:
                factory: Any = entry.load()
            except Exception as exc:  # a broken plug-in must still give one clear line
                raise ConfigError(f"MEP source {scheme!r} failed to load: {exc}") from exc
            source: MepSource = factory(target, options)
            return source
    raise ConfigError(
        f"no MEP source {scheme!r} for --mep {spec!r}: register it under the entry-point "
        f"group {ENTRY_POINT_GROUP!r} (pyproject) and reinstall"
    )
