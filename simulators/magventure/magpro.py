"""MagVenture MagPro R30 / X100 simulator, with or without MagOption (device-protocols B).

Wire: 38400 baud, B2 frames with CRC-8/MAXIM. Frames with a bad CRC, a bad end byte or
an unknown ID are ignored silently (B7 advice; no NAK is documented). There is no
remote-control handshake and no keep-alive (B7).

Replies and unsolicited messages (B5, PART E):
- cmd 0 -> ID 0 (13 bytes); cmd 5 -> ID 5 (19); cmd 9 get -> ID 9 (14);
  cmd 10 / 11 get -> ID 10 / 11 (XL's undocumented forms).
- amplitude set -> ID 1; enable -> ID 1, ID 3, ID 1 (the 24 bytes MCP reads);
  disable -> ID 3; every trigger -> ID 2 (di/dt) once the pulse is out;
  page change and train start/stop -> ID 8; coil removed/attached/over-heated -> ID 3.
- set train (6), set delays (8) and set mode (9, unless `answer_mode_set`) answer
  nothing (vector table V9-V15).

Triggers fire only when enabled (KOP). A device-timed train (cmd 4) needs the Timing (2)
or Protocol (7) page; it starts `TRAIN_START_S` after the command and every pulse is
logged at its clock time, followed by its ID 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from simulators.core import SimulatorBase, error_code
from simulators.magstim.tables import joules
from simulators.magventure.frames import END, START, crc8_maxim, frame
from simulators.magventure.indexes import (
    BURST_IPI_TENTHS_MS,
    BURST_PULSES_BY_INDEX,
    TWIN_IPI_TENTHS_MS,
    ba_index,
    ipi_index,
)
from simulators.thermal import COOL_TAU_S, HEAT_C_PER_J
from stimctl.clock import Clock

# The longest host command is 11 / 13 bytes of payload (cmd 9 / XL's cmd 11 set); a
# longer LEN means the FE was not a start byte, so the parser moves on at once instead
# of swallowing the next real frame while it waits for 250 bytes.
MAX_COMMAND_PAYLOAD = 16
TRAIN_START_S = 0.01  # our model: the ID 8 "running" goes out before the first pulse
DIDT_PER_PERCENT = 1.6  # our model: 80 A/us at 50 % (vector V7)
SETTABLE_PAGES = frozenset({1, 2, 3, 4, 7})  # B3: only these through command 7
TRAIN_PAGES = frozenset({2, 7})  # Timing, Protocol (KOP `start`)
STANDARD, POWER, TWIN, DUAL = 0, 1, 2, 3
SETTING_COMMANDS = frozenset({1, 6, 8, 9})  # amplitude, train, delays, mode (B4)
MONOPHASIC, BIPHASIC, HALF_SINE, BIPHASIC_BURST = 0, 1, 2, 3


@dataclass
class MagProState:
    """What a MagPro reports; names follow the `state` keys of tests/vectors/README.md."""

    mode: int = STANDARD
    waveform: int = BIPHASIC
    direction: int = 0
    enabled: bool = False
    serial: int = 0x012345
    coil_type: int = 60
    coil_present: bool = True
    amplitude_a: int = 50
    amplitude_b: int = 0
    factor_a: int = 100
    factor_b: int = 100
    page: int = 1
    running: bool = False
    burst_index: int = 3
    ipi_index: int = 80
    ba_index: int = 80
    rate: int = 10  # pulses per second x 10
    train_pulses: int = 5
    trains: int = 1
    iti: int = 10  # seconds x 10
    delay_in: int = 0  # 0.1 ms
    delay_out: int = 0  # 0.1 ms, signed
    charge_delay_ms: int = 0


class MagProSimulator(SimulatorBase):
    """Shared by the R30 and X100 classes, which only set the model number."""

    baudrate: ClassVar[int] = 38400
    base_model: ClassVar[int] = 1
    trigger_input: ClassVar[str | None] = "TTL Trigger In (device-protocols B7; KOP `trigger`)"

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        magoption: bool = False,
        seed: int | None = None,
        coil_temp_c: float = 25.0,
        ambient_c: float | None = None,
        heat_c_per_j: float = HEAT_C_PER_J,
        cool_tau_s: float = COOL_TAU_S,
        serial: int = 0x012345,
        coil_type: int = 60,
        answer_mode_set: bool = False,
    ) -> None:
        super().__init__(
            clock,
            seed=seed,
            coil_temp_c=coil_temp_c,
            ambient_c=ambient_c,
            heat_c_per_j=heat_c_per_j,
            cool_tau_s=cool_tau_s,
        )
        if not 0 <= serial <= 0xFFFFFF:
            raise ValueError(f"serial must fit 3 bytes, got {serial}")
        if not 0 <= coil_type <= 255:
            raise ValueError(f"coil_type must be 0..255, got {coil_type}")
        # B3 model field: 0 R30, 1 X100, 2 R30+Option, 3 X100+Option.
        self.model_code = self.base_model + (2 if magoption else 0)
        self.answer_mode_set = answer_mode_set
        self.state = MagProState(serial=serial, coil_type=coil_type)
        self._next_trigger_ok = self._t
        self.error: str | None = None
        self.error_fatal = False
        self._train_start: float | None = None
        self._train_done = 0
        self._train_count = 0

    @property
    def magoption(self) -> bool:
        return self.model_code in (2, 3)

    # --- public state API ------------------------------------------------------------

    def status_byte(self) -> int:
        with self._lock:
            self._advance()
            return self._status()

    @property
    def armed(self) -> bool:
        with self._lock:
            self._advance()
            return self.state.enabled

    def set_error(self, code: str | int, *, fatal: bool = False) -> None:
        """The MagPro protocol reports no error codes (B5); a fatal one disables the unit."""
        text = error_code(code)
        with self._lock:
            self._advance()
            self.error = text
            self.error_fatal = fatal
            if fatal and self.state.enabled:
                self._disable(quiet=False)

    def clear_error(self) -> None:
        with self._lock:
            self.error, self.error_fatal = None, False

    def front_panel(
        self,
        *,
        amplitude_a: int | None = None,
        amplitude_b: int | None = None,
        page: int | None = None,
    ) -> None:
        """An operator at the device: the change is reported unsolicited (ID 1 / ID 8, B5)."""
        for name, value in (("amplitude_a", amplitude_a), ("amplitude_b", amplitude_b)):
            if value is not None and not 0 <= value <= 100:
                raise ValueError(f"{name} must be 0..100, got {value}")
        if page is not None and page not in SETTABLE_PAGES:
            raise ValueError(f"page must be one of {sorted(SETTABLE_PAGES)}, got {page}")
        with self._lock:
            self._advance()
            if amplitude_a is not None or amplitude_b is not None:
                if amplitude_a is not None:
                    self.state.amplitude_a = amplitude_a
                if amplitude_b is not None:
                    self.state.amplitude_b = amplitude_b
                self._emit(self._msg_amplitude())
            if page is not None:
                self.state.page = page
                self._emit(self._msg_page())

    def remove_coil(self) -> None:
        with self._lock:
            self._advance()
            self.state.coil_present = False
            self._disable(quiet=True)
            self._emit(self._msg_coil())

    def attach_coil(self) -> None:
        with self._lock:
            self._advance()
            self.state.coil_present = True
            self._emit(self._msg_coil())

    def set_state(self, **values: Any) -> None:
        """Put the device in a state; keys are the `state` keys of tests/vectors/README.md."""
        with self._lock:
            self._advance()
            for key, value in values.items():
                if key == "model":
                    self.model_code = int(value)
                elif key == "enabled" or key == "running":
                    setattr(self.state, key, bool(value))
                elif key == "coil_temp_c":
                    self.coil.set_temperature(self._t, float(value))
                elif key == "didt_a":
                    continue  # derived from the amplitude (DIDT_PER_PERCENT)
                elif hasattr(self.state, key):
                    setattr(self.state, key, int(value))
                else:
                    raise ValueError(f"{type(self).__name__} has no state key {key!r}")

    # --- framing -----------------------------------------------------------------------

    def _receive(self, buf: bytearray) -> None:
        while buf:
            if buf[0] != START:
                del buf[0]
                continue
            if len(buf) < 2:
                return
            n = buf[1]
            if not 0 < n <= MAX_COMMAND_PAYLOAD:
                del buf[0]  # no host command is that long: not a start byte
                continue
            if len(buf) < n + 4:
                return
            payload = bytes(buf[2 : 2 + n])
            if buf[n + 3] != END or crc8_maxim(payload) != buf[n + 2]:
                del buf[0]  # not a frame: resynchronise on the next start byte
                continue
            del buf[: n + 4]
            self._handle(payload)

    def _handle(self, p: bytes) -> None:
        handler = {
            0: self._cmd_status,
            1: self._cmd_amplitude,
            2: self._cmd_enable,
            3: self._cmd_trigger,
            4: self._cmd_start_train,
            5: self._cmd_long_status,
            6: self._cmd_set_train,
            7: self._cmd_set_page,
            8: self._cmd_set_delays,
            9: self._cmd_mode,
            10: self._cmd_get_delays,
            11: self._cmd_get_timing,
        }.get(p[0])
        if handler is None:
            return
        is_get = p[0] == 9 and len(p) > 1 and p[1] == 0  # command 9 with RW 0 only reads
        if self.faults.ignore_settings and p[0] in SETTING_COMMANDS and not is_get:
            if p[0] == 1:
                self._emit(self._msg_amplitude())  # acknowledged as usual, nothing changed
            return
        if self.faults.sticky_b_power and p[0] == 1 and len(p) == 3:
            p = p[:2]  # amplitude A only: B keeps whatever it held
        handler(p)

    # --- messages (B5) ----------------------------------------------------------------

    def _status(self) -> int:
        s = self.state
        return (self.model_code << 5) | (int(s.enabled) << 4) | (s.waveform << 2) | s.mode

    def _temp_byte(self) -> int:
        return max(0, min(255, round(self.coil.hottest(self._t))))

    def _coil_byte(self) -> int:
        return self.state.coil_type if self.state.coil_present else 0

    def _status_fields(self) -> bytes:
        s = self.state
        return (
            bytes([self._status()])
            + s.serial.to_bytes(3, "big")
            + bytes([self._temp_byte(), self._coil_byte(), s.amplitude_a, s.amplitude_b])
        )

    def _msg_amplitude(self) -> bytes:
        return frame(bytes([1, self.state.amplitude_a, self.state.amplitude_b, self._status()]))

    def _msg_coil(self) -> bytes:
        return frame(bytes([3, self._temp_byte(), self._coil_byte(), self._status()]))

    def _msg_page(self) -> bytes:
        return frame(bytes([8, self.state.page, int(self.state.running), self._status()]))

    def _msg_didt(self) -> bytes:
        s = self.state
        didt_b = s.amplitude_b if s.mode in (TWIN, DUAL) else 0
        return frame(bytes([2, _didt(s.amplitude_a), _didt(didt_b), self._status()]))

    def _msg_mode(self, rw: int) -> bytes:
        s = self.state
        ipi = s.ipi_index.to_bytes(2, "little")  # B5: IPI index LSB first
        return frame(
            bytes([9, rw, self.model_code, s.mode, s.direction, s.waveform, s.burst_index])
            + ipi
            + bytes([s.ba_index])
        )

    # --- commands (B4) -------------------------------------------------------------------

    def _cmd_status(self, p: bytes) -> None:
        self._emit(frame(b"\x00" + self._status_fields()))

    def _cmd_long_status(self, p: bytes) -> None:
        s = self.state
        extra = bytes(
            [s.amplitude_a, s.amplitude_b, s.factor_a, s.factor_b, s.page, int(s.running)]
        )
        self._emit(frame(b"\x05" + self._status_fields() + extra))

    def _cmd_amplitude(self, p: bytes) -> None:
        if len(p) not in (2, 3) or any(v > 100 for v in p[1:]):
            return
        self.state.amplitude_a = p[1]
        if len(p) == 3:
            self.state.amplitude_b = p[2]
        self._emit(self._msg_amplitude())

    def _cmd_enable(self, p: bytes) -> None:
        if len(p) < 2 or p[1] not in (0, 1):
            return
        if p[1] == 0:
            if self.faults.ignore_disarm:
                self._emit(self._msg_coil())  # answers as usual, stays enabled
                return
            self._disable(quiet=False)
            return
        if not self.state.coil_present or self.coil.locked_out(self._t) or self.error_fatal:
            return
        self.state.enabled = True
        self._emit(self._msg_amplitude() + self._msg_coil() + self._msg_amplitude())

    def _disable(self, *, quiet: bool) -> None:
        was_running = self.state.running
        self.state.enabled = False
        self._stop_train()
        if not quiet:
            self._emit(self._msg_coil())
        if was_running:
            self._emit(self._msg_page())

    def _triggered(self) -> str | None:
        """TTL Trigger In (B7: a trigger fires only when enabled; KOP `trigger`): the same
        rules as command 3, and, as there, a trigger too soon after the last is ignored."""
        s = self.state
        if not s.enabled:
            return "not enabled"
        if s.running:
            return "a train is running"
        if self._t < self._next_trigger_ok:
            return "sooner than the highest repetition rate allows"
        self._deliver(train=None)
        self._next_trigger_ok = self._t + 1.0 / self._max_rate()
        return None

    def _cmd_trigger(self, p: bytes) -> None:
        s = self.state
        if not s.enabled or s.running or self._t < self._next_trigger_ok:
            return
        self._deliver(train=None)
        self._next_trigger_ok = self._t + 1.0 / self._max_rate()

    def _deliver(self, train: int | None) -> None:
        s = self.state
        count = BURST_PULSES_BY_INDEX[s.burst_index] if s.waveform == BIPHASIC_BURST else 1
        burst_ipi = BURST_IPI_TENTHS_MS[s.ipi_index] / 10000 if count > 1 else 0.0
        for k in range(count):
            self._log_pulse(s.amplitude_a, "A", train, at=self._t + k * burst_ipi)
            self.coil.heat(self._t, joules(s.amplitude_a))
        if s.mode in (TWIN, DUAL) and s.ipi_index < len(TWIN_IPI_TENTHS_MS):
            b = s.amplitude_b if s.mode == DUAL else round(s.amplitude_a * _ratio(s.ba_index))
            self._log_pulse(b, "B", train, at=self._t + TWIN_IPI_TENTHS_MS[s.ipi_index] / 10000)
            self.coil.heat(self._t, joules(b))
        self._emit(self._msg_didt())
        self._after_thermal_change()

    def _cmd_start_train(self, p: bytes) -> None:
        s = self.state
        if not s.enabled or s.running or s.page not in TRAIN_PAGES:
            return
        s.running = True
        self._train_start = self._t + TRAIN_START_S
        self._train_done = 0
        self._emit(self._msg_page())

    def _cmd_set_train(self, p: bytes) -> None:
        if len(p) != 9 or self.state.page != 2 or self.state.running:
            return  # KOP: train parameters only on the Timing page
        rate, pulses, trains, iti = (int.from_bytes(p[i : i + 2], "big") for i in (1, 3, 5, 7))
        rate_ok = 1 <= rate <= 10 or (rate % 10 == 0 and 10 <= rate <= 1000)
        pulses_ok = 1 <= pulses <= 1000 or (1100 <= pulses <= 2000 and pulses % 100 == 0)
        if not (rate_ok and rate <= 10 * self._max_rate() and pulses_ok):
            return
        if not (1 <= trains <= 500 and 1 <= iti <= 3000):
            return
        s = self.state
        s.rate, s.train_pulses, s.trains, s.iti = rate, pulses, trains, iti

    def _cmd_set_page(self, p: bytes) -> None:
        if len(p) not in (2, 3) or p[1] not in SETTABLE_PAGES or self.state.running:
            return
        self.state.page = p[1]
        self._emit(self._msg_page())

    def _cmd_set_delays(self, p: bytes) -> None:
        if len(p) != 9:
            return
        d_in = int.from_bytes(p[1:3], "big")
        d_out = int.from_bytes(p[3:5], "big", signed=True)
        charge = int.from_bytes(p[5:7], "big")
        if d_in > 1000 or not -1000 <= d_out <= 1000 or charge > 12000:
            return
        self.state.delay_in, self.state.delay_out, self.state.charge_delay_ms = d_in, d_out, charge

    def _cmd_get_delays(self, p: bytes) -> None:
        if len(p) < 2 or p[1] != 0:
            return  # the set form (XL only) is not modelled
        s = self.state
        body = (
            bytes([10, 0])
            + s.delay_in.to_bytes(2, "big")
            + s.delay_out.to_bytes(2, "big", signed=True)
            + s.charge_delay_ms.to_bytes(2, "big")
        )
        self._emit(frame(body))

    def _cmd_get_timing(self, p: bytes) -> None:
        if len(p) < 2 or p[1] != 0:
            return
        s = self.state
        numbers = b"".join(v.to_bytes(2, "big") for v in (s.rate, s.train_pulses, s.trains, s.iti))
        self._emit(frame(bytes([11, 0, 0]) + numbers + bytes([0, 0, 0])))

    def _cmd_mode(self, p: bytes) -> None:
        if len(p) != 11:
            return
        if p[1] == 0:
            self._emit(self._msg_mode(0))
            return
        if p[1] != 1 or not self._apply_mode(p):
            return
        if self.answer_mode_set:
            self._emit(self._msg_mode(1))

    def _apply_mode(self, p: bytes) -> bool:
        mode, direction, wave, burst = p[3], p[4], p[5], p[6]
        ipi = int.from_bytes(p[7:9], "big")
        ratio = int.from_bytes(p[9:11], "big")
        if mode > DUAL or direction > 1 or wave > BIPHASIC_BURST or burst > 3:
            return False
        if mode in (TWIN, DUAL) and (not self.magoption or wave == BIPHASIC_BURST):
            return False  # twin/dual need MagOption; KOP forbids them with bursts
        s = self.state
        index = s.ipi_index
        if wave == BIPHASIC_BURST:
            found = ipi_index(BURST_IPI_TENTHS_MS, ipi)
        elif mode in (TWIN, DUAL):
            found = ipi_index(TWIN_IPI_TENTHS_MS, ipi)
        else:
            found = index  # the IPI means nothing here; the device keeps the old one
        ba = s.ba_index if mode != TWIN else ba_index(ratio)
        if found is None or ba is None:
            return False
        s.mode, s.direction, s.waveform, s.burst_index = mode, direction, wave, burst
        s.ipi_index, s.ba_index = found, ba
        return True

    # --- limits ----------------------------------------------------------------------

    def _max_rate(self) -> float:
        """B7 (XL `_RATEs`): the highest repetition rate, pulses per second."""
        s = self.state
        r30 = self.model_code in (0, 2)
        if s.mode in (TWIN, DUAL):
            if r30:
                return 5.0
            return 5.0 if s.waveform == MONOPHASIC else 50.0
        if r30:
            return 30.0
        return 20.0 if s.waveform == BIPHASIC_BURST else 100.0

    # --- time ------------------------------------------------------------------------

    def _train_pulse_time(self) -> float | None:
        if self._train_start is None:
            return None
        s = self.state
        train, i = divmod(self._train_done, s.train_pulses)
        period = 10.0 / s.rate
        train_len = (s.train_pulses - 1) * period + s.iti / 10
        return self._train_start + train * train_len + i * period

    def _next_event_time(self) -> float | None:
        return self._train_pulse_time()

    def _on_event(self) -> None:
        due = self._train_pulse_time()
        if due is None or due > self._t:
            return
        s = self.state
        self._deliver(train=self._train_count + self._train_done // s.train_pulses)
        self._train_done += 1
        if self._train_start is not None and self._train_done >= s.train_pulses * s.trains:
            self._stop_train()
            self._emit(self._msg_page())

    def _stop_train(self) -> None:
        if self._train_start is not None:
            s = self.state
            self._train_count += -(-self._train_done // s.train_pulses)
        self._train_start = None
        self.state.running = False

    def _after_thermal_change(self) -> None:
        if self.state.enabled and self.coil.locked_out(self._t):
            self._disable(quiet=False)  # our model of the 40 °C lockout (A7 analogue)


class MagProR30Simulator(MagProSimulator):
    model: ClassVar[str] = "magpro-r30"
    base_model: ClassVar[int] = 0


class MagProX100Simulator(MagProSimulator):
    model: ClassVar[str] = "magpro-x100"
    base_model: ClassVar[int] = 1


def _didt(amplitude: int) -> int:
    return min(255, round(amplitude * DIDT_PER_PERCENT))


def _ratio(index: int) -> float:
    return 5.0 - 0.05 * index  # B6 Twin B/A
