"""The session's alarms: latched, one per code, acknowledged by the operator.

An alarm stays on the board until acknowledged; a high-priority alarm is cleared only by
an acknowledgement, and the unconfirmed-disarm alarm (`DISARM`) not even then while the
device has not confirmed a disarm since (fail closed: the operator must switch the
stimulator off). The board does not journal: the loop journals an alarm the first time
`raise_alarm` takes it.
"""

from __future__ import annotations

import threading

from stimctl.session.watchdog import Action, Alarm, Priority

DISARM_ALARM = "DISARM"


class AlarmBoard:
    """Thread-safe: the console reads it while the engine thread writes it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._alarms: list[Alarm] = []
        self._disarm_error: str | None = None

    def raise_alarm(self, alarm: Alarm) -> bool:
        """Latch `alarm`; False when one of its code is already latched."""
        with self._lock:
            if any(a.code == alarm.code for a in self._alarms):
                return False
            self._alarms.append(alarm)
            return True

    def acknowledge(self) -> None:
        """Clear the high-priority alarms, except an unconfirmed disarm."""
        with self._lock:
            self._alarms = [
                a
                for a in self._alarms
                if a.priority is not Priority.HIGH
                or (a.code == DISARM_ALARM and self._disarm_error is not None)
            ]

    def disarm_confirmed(self) -> None:
        with self._lock:
            self._disarm_error = None

    def disarm_unconfirmed(self, error: str) -> Alarm:
        """Remember the failed disarm; the alarm to raise for it."""
        with self._lock:
            self._disarm_error = error
        message = (
            f"the device did not confirm it is disarmed ({error}): "
            "switch the stimulator off at its power switch"
        )
        return Alarm(DISARM_ALARM, Priority.HIGH, message, Action.FAULT)

    @property
    def disarm_error(self) -> str | None:
        with self._lock:
            return self._disarm_error

    @property
    def alarms(self) -> list[Alarm]:
        with self._lock:
            return list(self._alarms)

    def lines(self) -> list[str]:
        """The summary's alarm lines."""
        return [f"{a.priority}: {a.message}" for a in self.alarms]
