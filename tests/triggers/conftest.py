"""Helpers for the trigger-line tests: unique wire names and a recorder on a wire."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from stimctl import simwire

_count = itertools.count()


def wire_name() -> str:
    """A wire name no other test (or process) uses."""
    return f"t{next(_count)}-{uuid.uuid4().hex[:8]}"


@dataclass
class Recorder:
    """A listener on a simulated wire: every level change with its clock time."""

    edges: list[tuple[bool, float]] = field(default_factory=list)

    def __call__(self, level: bool, at: float) -> None:
        self.edges.append((level, at))

    @property
    def rising(self) -> list[float]:
        return [at for level, at in self.edges if level]


def recorded_wire(name: str) -> Recorder:
    recorder = Recorder()
    simwire.wire(name).connect(recorder)
    return recorder
