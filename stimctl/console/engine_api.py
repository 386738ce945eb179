"""What the console needs from a session engine: commands in, snapshots out.

`stimctl.session.engine.SessionEngine` satisfies it. The console never touches the
device itself: every command goes through these methods, and the screen is drawn from
`snapshot()` alone (plus the plan, for durations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from stimctl.clock import Clock
    from stimctl.journal import Journal
    from stimctl.session.plan import Plan
    from stimctl.session.summary import Snapshot, Summary


class ConsoleEngine(Protocol):
    plan: Plan
    journal: Journal
    clock: Clock

    @property
    def running(self) -> bool: ...

    def start(self) -> None: ...

    def wait(self, timeout: float | None = None) -> Summary: ...

    def pause(self, actor: str) -> None: ...

    def resume(self, actor: str) -> None: ...

    def stop(self, actor: str) -> None: ...

    def abort(self, actor: str, reason: str = "operator abort") -> None: ...

    def acknowledge(self, actor: str) -> None: ...

    def adverse_event(self, actor: str, *, kind: str, severity: str) -> bool: ...

    def estop(self, actor: str) -> bool: ...

    def change_intensity(
        self, percent_rmt: float, *, operator: str, reason: str, confirmed: bool = False
    ) -> None: ...

    def snapshot(self) -> Snapshot: ...
