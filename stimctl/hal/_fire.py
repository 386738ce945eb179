"""`FireReceipt`: what `Stimulator.fire()` says about the pulse it just triggered.

A pulse can be triggered over the serial link (a fire command) or by an edge on a
hardware trigger line into the stimulator's Trigger In (issue 18). Either way the session
journals when the host meant the pulse to leave (`scheduled_s`, when known) and when it
actually did (`actual_s`), both on the session's clock, and by which path (`via`), so a
record of every pulse says how it was delivered and how late it was.
"""

from __future__ import annotations

import dataclasses

VIA_SERIAL = "serial"


@dataclasses.dataclass(frozen=True)
class FireReceipt:
    """How and when one trigger left the host.

    `via` is ``"serial"`` for a fire command, otherwise the trigger line's URL.
    `actual_s` is the clock reading right after the command was written or the edge
    was set; `scheduled_s` is the time the caller asked for (None when not given).
    """

    via: str
    actual_s: float
    scheduled_s: float | None = None

    @property
    def late_s(self) -> float | None:
        """How late the trigger left, in seconds (None without a schedule)."""
        if self.scheduled_s is None:
            return None
        return self.actual_s - self.scheduled_s

    def to_journal(self) -> dict[str, object]:
        """The fields a pulse record carries (JSON-safe)."""
        fields: dict[str, object] = {"via": self.via, "actual_s": round(self.actual_s, 6)}
        if self.scheduled_s is not None:
            fields["scheduled_s"] = round(self.scheduled_s, 6)
        return fields
