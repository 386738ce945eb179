"""The engine every simulated stimulator shares: bytes in, bytes out, time from a clock.

A simulator is a pure state machine. The host side calls `write(bytes)`; the device side
answers by queueing bytes with the clock time at which they appear on the wire; `read(n)`
returns what has appeared by now. Nothing runs in the background: time-driven behaviour
(charging, keep-alive watchdog, device-timed trains, cooling) is worked out whenever the
simulator is touched, by replaying every event that fell due since the last call, in
order, at its own time stamp. So the same model runs on a real clock (pty server) and on
a `VirtualClock` (tests) with identical results.

Thread-safe: one lock guards everything, and a condition variable wakes readers when the
host writes (the in-process port blocks on it under a real clock).

Wire time (`wire_time = True`, `?wire_time=1`; on by default in `stimctl sim serve`):
each byte takes 10 bits at the device's baud rate (start, 8 data, stop: 9600 baud
Magstim A1, 38400 MagPro B1) to cross the cable, one after another in each direction, so
a command reaches the device only when its last byte has arrived and a reply is read byte
by byte as it comes down the line. Off, bytes cross instantly (unit tests, dry runs).
Wire time needs a clock that moves on its own or that the test moves (the port never
advances it).

Trigger In (issue 18): models with a documented trigger input (`trigger_input`) can be
cabled to a simulated trigger wire (`connect_trigger`, `?trigger=sim://NAME`); a rising
edge is a trigger, delivered under the same rules as a serial fire plus the model's own
limits for external triggers, and every edge is kept in `triggers`.
"""

from __future__ import annotations

import bisect
import itertools
import random
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from simulators.faults import Faults
from simulators.thermal import COOL_TAU_S, HEAT_C_PER_J, CoilThermal
from stimctl import simwire
from stimctl.clock import Clock, MonotonicClock

# A frame whose bytes stop arriving for this long is thrown away, as a UART receiver
# with an inter-byte timeout would (our model; the documents say nothing). It also
# means a dropped byte costs one command, not every command after it.
FRAME_TIMEOUT_S = 0.5
MAX_EVENTS_PER_ADVANCE = 1_000_000
BITS_PER_BYTE = 10  # start bit, 8 data bits, 1 stop bit (8N1: A1, B1)
VIA_SERIAL = "serial"
VIA_TRIGGER = "trigger"


@dataclass(frozen=True)
class Pulse:
    """One delivered magnetic pulse, as the simulator logged it.

    `time` is the simulator clock's time; `intensity` is % of maximum stimulator output;
    `channel` is "A" or "B" (BiStim's second unit, MagPro twin/dual); `train` counts the
    device-timed trains (0, 1, ...) and is None for a pulse from a single trigger.
    `mep_uv` is the peak-to-peak MEP the attached virtual subject produced, in µV (None
    when no subject is attached). `via` is "serial" (fire command, device-timed train)
    or "trigger" (an edge on the Trigger In).
    """

    time: float
    intensity: int
    channel: str = "A"
    train: int | None = None
    mep_uv: float | None = None
    via: str = VIA_SERIAL


@dataclass(frozen=True)
class TriggerEdge:
    """One rising edge on the Trigger In: when, and whether it delivered (else why not)."""

    time: float
    delivered: bool
    reason: str = ""


class MepModel(Protocol):
    """A subject under the coil: one peak-to-peak MEP (µV) per pulse at an intensity.

    `simulators.virtual_subject.VirtualSubject` is one; tests may attach a stub.
    """

    def mep_uv(self, intensity_percent_mso: float) -> float: ...


class SimulatorBase(ABC):
    """Shared plumbing: clock, lock, input framing timeout, timed output, faults, log."""

    model: ClassVar[str] = ""
    baudrate: ClassVar[int] = 9600
    trigger_input: ClassVar[str | None] = None
    """Where the model's documented trigger input is (None: the references name none)."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        seed: int | None = None,
        coil_temp_c: float = 24.0,
        ambient_c: float | None = None,
        heat_c_per_j: float = HEAT_C_PER_J,
        cool_tau_s: float = COOL_TAU_S,
    ) -> None:
        if heat_c_per_j < 0:
            raise ValueError(f"heat_c_per_j must be >= 0, got {heat_c_per_j}")
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.faults = Faults()
        self.strict_baud = False  # see simulators.urlhandler.protocol_stimsim
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._t = self.clock.now()
        self._inbuf = bytearray()
        self._last_in = self._t
        self._out: list[tuple[float, int, bytes]] = []
        self._seq = itertools.count()
        self._pulses: list[Pulse] = []
        self._subject: MepModel | None = None
        self.wire_time = False
        self._in_flight: list[tuple[float, int]] = []  # host bytes on the wire (wire time)
        self._host_tx_free = self._t
        self._device_tx_free = self._t
        self._via = VIA_SERIAL  # how the delivery being handled was triggered
        self._trigger_wire: simwire.Wire | None = None
        self._triggers: list[TriggerEdge] = []
        self.coil = CoilThermal(
            self._t,
            coil_temp_c,
            coil_temp_c if ambient_c is None else ambient_c,
            heat_c_per_j=heat_c_per_j,
            tau_s=cool_tau_s,
        )

    # --- host side --------------------------------------------------------------

    @property
    def byte_time_s(self) -> float:
        """Time one byte takes on the wire at the device's baud rate (8N1)."""
        return BITS_PER_BYTE / self.baudrate

    def write(self, data: bytes) -> None:
        """Bytes from the host arrive at the device now (with wire time: each one a byte
        time after the one before it finished)."""
        with self._lock:
            self._advance()
            if self.faults.cable_pulled:
                return
            if self.wire_time:
                byte_time = self.byte_time_s
                for byte in data:
                    arrives = max(self._t, self._host_tx_free) + byte_time
                    self._host_tx_free = arrives
                    self._in_flight.append((arrives, byte))
            else:
                self._accept(data)
            self._changed.notify_all()

    def _accept(self, data: bytes) -> None:
        """Bytes that have arrived at the device at `self._t`."""
        now = self._t
        if self._inbuf and now - self._last_in > FRAME_TIMEOUT_S:
            self._inbuf.clear()
        for byte in data:
            if self.faults.drop_input_rate and self._rng.random() < self.faults.drop_input_rate:
                continue
            self._inbuf.append(byte)
        if data:
            self._last_in = now
        self._receive(self._inbuf)

    def read(self, size: int) -> bytes:
        """Up to `size` bytes that the device has put on the wire by now."""
        with self._lock:
            self._advance()
            out = bytearray()
            while self._out and self._out[0][0] <= self._t and len(out) < size:
                when, seq, chunk = self._out.pop(0)
                room = size - len(out)
                out += chunk[:room]
                if len(chunk) > room:
                    self._out.insert(0, (when, seq, chunk[room:]))
            return bytes(out)

    def in_waiting(self) -> int:
        with self._lock:
            self._advance()
            return sum(len(chunk) for when, _, chunk in self._out if when <= self._t)

    def discard_output(self) -> None:
        """Forget bytes already on the wire (the host flushed its input buffer)."""
        with self._lock:
            self._advance()
            self._out = [item for item in self._out if item[0] > self._t]

    def next_wakeup(self) -> float | None:
        """Earliest clock time at which something may change (output or state)."""
        with self._lock:
            self._advance()
            times = [self._out[0][0]] if self._out else []
            if self._in_flight:
                times.append(self._in_flight[0][0])
            event = self._next_event_time()
            if event is not None:
                times.append(event)
            return min(times) if times else None

    def wait_for_write(self, timeout: float | None) -> None:
        """Block (real time) until the host writes, or `timeout` seconds pass."""
        with self._changed:
            self._changed.wait(timeout)

    def poll(self) -> None:
        """Bring the device up to the clock's present (runs due trains, timers)."""
        with self._lock:
            self._advance()

    # --- fault and state API ------------------------------------------------------

    @property
    def pulses(self) -> list[Pulse]:
        """Every delivered pulse so far, oldest first (a copy)."""
        with self._lock:
            self._advance()
            return list(self._pulses)

    def clear_pulses(self) -> None:
        with self._lock:
            self._pulses.clear()

    @property
    def subject(self) -> MepModel | None:
        """The subject whose MEPs the pulse log reports, or None."""
        with self._lock:
            return self._subject

    def attach_subject(self, subject: MepModel | None) -> None:
        """Put `subject` under the coil: every pulse from now on logs its MEP (None: none).

        Each pulse, every channel and every pulse of a burst or train alike, draws one MEP
        at its own intensity; paired-pulse interactions are not modelled.
        """
        with self._lock:
            self._advance()  # pulses already due belong to the previous subject
            self._subject = subject

    def pull_cable(self) -> None:
        """The link is gone: the in-process port raises like a vanished device."""
        with self._lock:
            self.faults.cable_pulled = True
            self._inbuf.clear()
            self._in_flight.clear()
            self._out.clear()
            self._changed.notify_all()

    def plug_cable(self) -> None:
        with self._lock:
            self.faults.cable_pulled = False

    def set_coil_temperature(self, temp_c: float, winding: int | None = None) -> None:
        """Force the coil (or one winding, 0 or 1) to `temp_c` now; may trip the lockout."""
        with self._lock:
            self._advance()
            self.coil.set_temperature(self._t, temp_c, winding)
            self._after_thermal_change()

    def coil_temperatures(self) -> tuple[float, float]:
        with self._lock:
            self._advance()
            return self.coil.temperatures(self._t)

    # --- Trigger In --------------------------------------------------------------------

    def connect_trigger(self, name: str) -> None:
        """Cable the simulated trigger wire `name` (`sim://name`) to the Trigger In."""
        if self.trigger_input is None:
            raise ValueError(
                f"{self.model} has no trigger input documented in the references;"
                " trigger it over serial"
            )
        with self._lock:
            if self._trigger_wire is not None:
                self._trigger_wire.disconnect(self._trigger_edge)
            self._trigger_wire = simwire.wire(name)
            self._trigger_wire.connect(self._trigger_edge)

    def disconnect_trigger(self) -> None:
        with self._lock:
            if self._trigger_wire is not None:
                self._trigger_wire.disconnect(self._trigger_edge)
            self._trigger_wire = None

    @property
    def trigger_wire(self) -> str | None:
        """The name of the simulated wire on the Trigger In, or None."""
        wire = self._trigger_wire
        return None if wire is None else wire.name

    @property
    def triggers(self) -> list[TriggerEdge]:
        """Every rising edge the Trigger In saw, oldest first (a copy)."""
        with self._lock:
            self._advance()
            return list(self._triggers)

    def _trigger_edge(self, level: bool, at: float) -> None:
        if not level:
            return  # the rising edge triggers (TTL); the falling one only ends the pulse
        with self._lock:
            self._advance()
            self._via = VIA_TRIGGER
            try:
                refusal = self._triggered()
            finally:
                self._via = VIA_SERIAL
            self._triggers.append(TriggerEdge(self._t, refusal is None, refusal or ""))
            self._changed.notify_all()

    def _triggered(self) -> str | None:
        """Handle a rising edge on the Trigger In now: deliver and return None, or
        return why the unit did not fire (it stays silent on the wire either way)."""
        return "no trigger input"

    @property
    @abstractmethod
    def armed(self) -> bool:
        """True while the device could deliver a pulse (Magstim armed/ready, MagPro enabled)."""

    @abstractmethod
    def set_error(self, code: str | int, *, fatal: bool = False) -> None:
        """Raise a device error (a fatal one disarms and blocks arming)."""

    @abstractmethod
    def clear_error(self) -> None: ...

    @abstractmethod
    def set_state(self, **values: Any) -> None:
        """Put the device in a state given by the `state` keys of tests/vectors/README.md."""

    @abstractmethod
    def remove_coil(self) -> None: ...

    @abstractmethod
    def attach_coil(self) -> None: ...

    # --- for subclasses -------------------------------------------------------------

    @property
    def now(self) -> float:
        """The simulator's present (the time of the event being handled)."""
        return self._t

    def _emit(self, data: bytes, at: float | None = None) -> None:
        """Put a device message on the wire at `at` (default now), through the faults."""
        if self.faults.cable_pulled or not data:
            return
        out = bytearray()
        for byte in data:
            if self.faults.drop_rate and self._rng.random() < self.faults.drop_rate:
                continue
            if self.faults.corrupt_rate and self._rng.random() < self.faults.corrupt_rate:
                byte ^= 1 << self._rng.randrange(8)
            out.append(byte)
        if not out:
            return
        when = (self._t if at is None else at) + self.faults.reply_delay_s
        if not self.wire_time:
            bisect.insort(self._out, (when, next(self._seq), bytes(out)))
            return
        byte_time = self.byte_time_s
        start = max(when, self._device_tx_free)
        for i, byte in enumerate(out):
            bisect.insort(self._out, (start + (i + 1) * byte_time, next(self._seq), bytes([byte])))
        self._device_tx_free = start + len(out) * byte_time

    def _log_pulse(
        self, intensity: int, channel: str = "A", train: int | None = None, at: float | None = None
    ) -> None:
        # Drawn as the pulse is logged, so the log and the subject's noise stay in step.
        mep = None if self._subject is None else self._subject.mep_uv(intensity)
        when = self._t if at is None else at
        self._pulses.append(Pulse(when, intensity, channel, train, mep, self._via))

    def _advance(self) -> None:
        """Replay every event due up to the clock's present, each at its own time."""
        now = self.clock.now()
        for _ in range(MAX_EVENTS_PER_ADVANCE):
            event = self._next_event_time()
            arrival = self._in_flight[0][0] if self._in_flight else None
            if arrival is not None and arrival <= now and (event is None or arrival <= event):
                self._t = max(self._t, arrival)
                _, byte = self._in_flight.pop(0)
                self._accept(bytes([byte]))  # wire time: one byte has arrived
                continue
            if event is None or event > now:
                break
            self._t = max(self._t, event)
            self._on_event()
        else:  # pragma: no cover - a model bug, never a device behaviour
            raise RuntimeError(f"{type(self).__name__}: event loop made no progress")
        # A clock that jumps backwards (VirtualClock.jump) must not make the device
        # relive the past: its own time only moves forwards.
        self._t = max(self._t, now)

    @abstractmethod
    def _receive(self, buf: bytearray) -> None:
        """Consume complete frames from the front of `buf` and answer them."""

    @abstractmethod
    def _next_event_time(self) -> float | None:
        """The time of the next timed event, or None."""

    @abstractmethod
    def _on_event(self) -> None:
        """Handle every event due at `self._t`; must move `_next_event_time` on."""

    @abstractmethod
    def _after_thermal_change(self) -> None:
        """React to a coil temperature change (lockout)."""


def error_code(code: str | int) -> str:
    """'E01' stays; 1, '1' or '01' become 'E01' (source E = system, device-protocols A4 I)."""
    text = str(code).strip()
    if text.isdigit() and len(text) <= 2:
        return f"E{int(text):02d}"
    if len(text) == 3 and text[0].isalpha() and text[1:].isdigit():
        return text.upper()
    raise ValueError(f"error code must be like E01 (source letter, two digits), got {code!r}")
