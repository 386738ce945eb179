"""`sim://NAME`: a simulated trigger line on the named `stimctl.simwire` wire.

The far end is a byte-level simulator's Trigger In: in-process
(`stimsim://magstim-rapid2?trigger=sim://NAME`) or another process
(`stimctl sim serve magstim-rapid2 --trigger sim://NAME`, Linux). The line works on any
`Clock`: under a `VirtualClock` each edge carries the virtual time, so a train is
exact and instant. Keys: `width_ms`, and `loopback=1` (the line reads its own wire
back, as a hardware loopback input would).

Fail closed: opening a line with nothing on the wire (no simulator in this process, none
serving the name in another) is refused; pulses into nothing would be journaled as
delivered.
"""

from __future__ import annotations

from stimctl import simwire
from stimctl.errors import ConfigError, TransportError
from stimctl.hal import TriggerLine


class SimulatedLine(TriggerLine):
    scheme = "sim"

    def _configure(self) -> None:
        self.name = simwire.check_name(self.where.strip("/"))
        loop = (self._text("loopback", "0") or "1").lower()
        if loop not in ("0", "1", "true", "false", "on", "off", "yes", "no"):
            raise ConfigError(f"trigger line {self.url!r}: loopback must be 1 or 0")
        self._loopback = loop in ("1", "true", "on", "yes")
        self._wire = simwire.wire(self.name)
        self._remote: simwire.RemoteEnd | None = None

    @property
    def has_loopback(self) -> bool:
        return self._loopback

    def _do_open(self) -> None:
        if self._wire.connected == 0:
            self._remote = simwire.remote_end(self.name)
            if self._remote is None:
                raise ConfigError(
                    f"trigger line {self.url}: nothing is connected to simulated wire"
                    f" {self.name!r} (give the simulator ?trigger=sim://{self.name}, or"
                    f" `stimctl sim serve ... --trigger sim://{self.name}`)"
                )

    def _do_close(self) -> None:
        if self._remote is not None:
            self._remote.close()
            self._remote = None

    def _do_set(self, level: bool) -> None:
        if self._remote is not None:
            try:
                self._remote.send(level)
            except OSError as exc:
                raise TransportError(
                    f"trigger line {self.url}: the simulator serving it is gone ({exc.strerror})"
                ) from None
        self._wire.drive(level, self.clock.now())

    def _do_read_back(self) -> bool:
        return self._wire.level
