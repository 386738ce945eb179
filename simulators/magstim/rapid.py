"""Magstim Rapid² simulator (device-protocols A4, A5, A8, A9; TDb087).

Software version decides the layouts: before v7, v7-8, v9, v10+ (A5 `\\` reply 21/22/24
bytes; `D` 4 or 5 digits, `[` 3 or 4; `x`, `n`, `o` only from v9; `n`/`o` 4 digits on
v9 and 5 from v10). From v9 remote control needs the 16-character unlock code (A8.1),
and without remote control the unit answers nothing that needs it (MP-virt, UNCERTAIN;
`silent_without_remote=False` makes it answer `<cmd>S` instead).

Trains are device-timed: with duration > 0 the unit is in rTMS mode (A8.2), and one
trigger delivers `pulses` pulses at `frequency`, each logged at its own clock time.
The trigger is refused (`ES`) when the train breaks the A9 limits: frequency above the
table for the power, on-time above 63000 J/min, or during the post-train wait, which is
max(0.5 s, TDb087 §3 formula). Parameter changes are refused (`<cmd>S`) while a train
runs and during that wait (A8.2).

Trigger In (Tin+ pin 5 / Tin- pin 6 of the rear 26-way HD D, TDb087 §4.2; issue 18): a
rising edge fires like `EH` (in rTMS mode it starts the loaded train, A8.2 "one trigger
produces one train"). In single-pulse mode the 1 Hz limit is the serial trigger's
(TDb087 §5.5); an external trigger may come as fast as the unit recharges, which we
model from the A9 tables: ready again 0.9 x 1 / (maximum frequency at the power) after a
pulse (0.9 as for the serial 1 Hz: our margin for the host's jitter), and no pulse that
would take the energy of the last 60 s above 63000 J (A9 "at most 63 000 J per minute").
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any, ClassVar, Literal

from simulators.core import VIA_TRIGGER
from simulators.magstim.base import (
    CONFLICT,
    INVALID,
    PAD,
    Command,
    Field,
    MagstimSimulator,
    Outcome,
    Reply,
)
from simulators.magstim.frames import digits, parse_digits
from simulators.magstim.tables import (
    ABSOLUTE_MAX_HZ,
    joules,
    max_frequency_hz,
    max_on_time_s,
    min_wait_s,
)
from stimctl.clock import Clock

DISSIPATION_J_PER_MIN = 63000.0  # A9 (TDb087 §3)
READY_MARGIN = 0.9  # ready again at 90 % of the period (our model, as for the serial 1 Hz)
UNLOCK_CODE_SHAPE = re.compile(r"[0-9A-Fa-f]{4}-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{2}")  # A8.1
RapidTypeName = Literal["standard", "super", "super-plus"]
RAPID_TYPES: dict[str, int] = {"standard": 0, "super": 1, "super-plus": 2}


def parse_version(text: str) -> tuple[int, int]:
    """'9' -> (9, 0); '10.1' -> (10, 1)."""
    match = re.fullmatch(r"(\d{1,2})(?:\.(\d{1,2}))?", text.strip())
    if match is None:
        raise ValueError(f"version must look like 9, 9.0 or 10.1, got {text!r}")
    return int(match.group(1)), int(match.group(2) or 0)


class RapidSimulator(MagstimSimulator):
    """Rapid², Super Rapid², Super Rapid² Plus; mains 240 or 115 V."""

    model: ClassVar[str] = "magstim-rapid2"
    trigger_input: ClassVar[str | None] = "Tin+ pin 5 / Tin- pin 6, rear 26-way HD D (TDb087 4.2)"

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        version: str = "9.0",
        unlock_code: str | None = None,
        rapid_type: RapidTypeName = "standard",
        mains: int = 240,
        silent_without_remote: bool | None = None,
        **kwargs: Any,
    ) -> None:
        if rapid_type not in RAPID_TYPES:
            raise ValueError(f"type must be one of {sorted(RAPID_TYPES)}, got {rapid_type!r}")
        if mains not in (240, 115):
            raise ValueError(f"mains must be 240 or 115, got {mains!r}")
        if unlock_code is not None and len(unlock_code) != 16:
            raise ValueError(f"unlock code must be 16 characters (A8.1), got {unlock_code!r}")
        self.version = parse_version(version)
        self.version_text = f"{self.version[0]}.{self.version[1]}"
        self.unlock_code = unlock_code
        self.rapid_type = RAPID_TYPES[rapid_type]
        self.mains = mains
        self.silent_without_remote = (
            self.version >= (9, 0) if silent_without_remote is None else silent_without_remote
        )
        # Rapid parameters (A5): tenths of Hz and of seconds, as on the wire.
        self.rtms = False
        self.frequency = 0
        self.n_pulses = 1
        self.duration = 0
        self.wait = 0
        self.enhanced = False
        self.charge_delay_ms = 0
        self.plus1: bool | None = None  # None = from the type (Plus1 on super-plus)
        self._train_start: float | None = None
        self._train_done = 0
        self._train_total = 0
        self._train_hz = 0.0
        self._train_power = 0
        self._train_count = 0
        self._wait_until = float("-inf")
        self._energy: deque[tuple[float, float]] = deque()  # (time, J) per pulse, last 60 s
        super().__init__(clock, **kwargs)

    # --- layout by version -----------------------------------------------------------

    @property
    def v9(self) -> bool:
        return self.version >= (9, 0)

    @property
    def v10(self) -> bool:
        return self.version >= (10, 0)

    def _command_table(self) -> dict[int, Command]:
        table = super()._command_table()
        table[ord("Q")] = Command(self._enable_remote_len, self._cmd_enable_remote, False)
        table.update(
            {
                ord("\\"): Command(1, self._cmd_parameters, needs_remote=False),
                ord("B"): Command(4, self._cmd_frequency),
                ord("D"): Command(5 if self.v9 else 4, self._cmd_pulses),
                ord("["): Command(4 if self.v9 else 3, self._cmd_duration),
                ord("^"): Command(1, self._cmd_enhanced_on),
                ord("_"): Command(1, self._cmd_enhanced_off),
                ord("b"): Command(1, self._cmd_ignore_interlock),
                ord("N"): Command(1, self._cmd_version, needs_remote=False),
            }
        )
        if self.v9:
            table.update(
                {
                    ord("x"): Command(1, self._cmd_system_status, needs_remote=False),
                    ord("n"): Command(5 if self.v10 else 4, self._cmd_set_charge_delay),
                    ord("o"): Command(1, self._cmd_get_charge_delay, needs_remote=False),
                }
            )
        return table

    def _enable_remote_len(self, buf: bytearray) -> int | None:
        if len(buf) < 2:
            return None
        return 1 if not self.v9 or buf[1] == PAD else 16  # A8.1: Q + 16-char code

    # --- commands ----------------------------------------------------------------------

    def _cmd_enable_remote(self, data: bytes) -> Outcome:
        if not self.v9:
            return super()._cmd_enable_remote(data)
        accepted = self._code_accepted(data) or (data == b"@" and self.state.remote)
        if accepted:
            self.state.remote = True
            return Reply(post=True)
        # A11.1: a missing or wrong code on v9+ gets no answer at all.
        return None if self.silent_without_remote else INVALID

    def _code_accepted(self, data: bytes) -> bool:
        try:
            code = data.decode("ascii")
        except UnicodeDecodeError:
            return False
        if self.unlock_code is not None:
            return code == self.unlock_code
        return UNLOCK_CODE_SHAPE.fullmatch(code) is not None  # A8.1: shape only

    def _cmd_parameters(self, data: bytes) -> Outcome:
        p = self.state.power_a
        if self.v9:
            widths = (5, 4, 4)
        elif self.version >= (7, 0):
            widths = (4, 3, 4)
        else:
            widths = (4, 3, 3)
        field = (
            digits(p, 3)
            + digits(self.frequency, 4)
            + digits(self.n_pulses, widths[0])
            + digits(self.duration, widths[1])
            + digits(self.wait, widths[2])
        )
        return Reply((Field.INSTR, Field.RAPID, field))

    def _cmd_frequency(self, data: bytes) -> Outcome:
        value = parse_digits(data)
        if value is None or value > ABSOLUTE_MAX_HZ[self.mains] * 10:
            return INVALID
        if value > 10 * max_frequency_hz(self.mains, self.rapid_type, self.state.power_a):
            return INVALID  # A9: above the maximum for this power
        if self._busy():
            return CONFLICT
        self.frequency = value
        return self._rapid_reply()

    def _cmd_pulses(self, data: bytes) -> Outcome:
        value = parse_digits(data)
        if value is None or value > (6000 if self.v9 else 1000):  # A8.3 (MP, MAGIC-rp)
            return INVALID
        if self._busy():
            return CONFLICT
        self.n_pulses = value
        return self._rapid_reply()

    def _cmd_duration(self, data: bytes) -> Outcome:
        value = parse_digits(data)
        if value is None:
            return INVALID
        if self._busy() or (value > 0 and self.enhanced):
            return CONFLICT  # A8.4: enhanced power only in single-pulse mode
        self.duration = value
        self.rtms = value > 0  # A8.2: duration 1.0 s -> train mode, 0 -> single pulse
        return self._rapid_reply()

    def _cmd_enhanced_on(self, data: bytes) -> Outcome:
        if self.rtms or self._busy():
            return CONFLICT
        self.enhanced = True
        return self._rapid_reply()

    def _cmd_enhanced_off(self, data: bytes) -> Outcome:
        if self._busy():
            return CONFLICT
        self.enhanced = False
        if self.state.power_a > 100:
            self.state.power_a = 100  # A8.4: disabling clamps power to 100 % (device)
        return self._rapid_reply()

    def _cmd_ignore_interlock(self, data: bytes) -> Outcome:
        self.state.interlock_ignored = True
        return Reply()

    def _cmd_version(self, data: bytes) -> Outcome:
        if data != b"D":
            return INVALID
        # A5: N, 'V', version text, NUL, checksum; no status byte.
        return Reply((b"V" + self.version_text.encode("ascii") + b"\x00",), keepalive=False)

    def _cmd_system_status(self, data: bytes) -> Outcome:
        return Reply((Field.INSTR, Field.RAPID, Field.EXT))

    def _cmd_set_charge_delay(self, data: bytes) -> Outcome:
        value = parse_digits(data)
        if value is None or value > (10000 if self.v10 else 2000):  # A4 `n` (MAGIC-rp)
            return INVALID
        if self._busy():
            return CONFLICT
        self.charge_delay_ms = value
        if self.v10:
            return Reply((Field.INSTR, Field.RAPID, Field.EXT))
        return self._rapid_reply()

    def _cmd_get_charge_delay(self, data: bytes) -> Outcome:
        return Reply((Field.INSTR, digits(self.charge_delay_ms, 5 if self.v10 else 4)))

    def _rapid_reply(self) -> Reply:
        return Reply((Field.INSTR, Field.RAPID))

    # --- status ----------------------------------------------------------------------

    def _rapid_status(self) -> int:
        bits = 0x01 if self.enhanced else 0
        bits |= 0x02 if self._train_start is not None else 0
        bits |= 0x04 if self._t < self._wait_until else 0
        bits |= 0x08 if not self.rtms else 0
        bits |= 0x10  # HV PSU connected
        coil_ready = self.state.coil_present and not self.coil.locked_out(self._t)
        bits |= 0x20 if coil_ready else 0
        return bits

    def _ext_status(self) -> int:
        plus1 = self.rapid_type == 2 if self.plus1 is None else self.plus1
        bits = 0x01 if plus1 else 0
        bits |= 0x04 if self.v10 and self.charge_delay_ms > 0 else 0
        return bits

    def _silent_without_remote(self) -> bool:
        return self.silent_without_remote

    # --- delivery ----------------------------------------------------------------------

    def _power_limit(self) -> int:
        return 110 if self.enhanced else 100

    def _busy(self) -> bool:
        return self._train_start is not None or self._t < self._wait_until

    def _fire_refusal(self) -> Outcome:
        if not self.rtms:
            return None
        hz = self.frequency / 10
        power = self.state.power_a
        if hz <= 0 or self.n_pulses <= 0:
            return CONFLICT
        if hz > max_frequency_hz(self.mains, self.rapid_type, power):
            return CONFLICT
        on_time = (self.n_pulses - 1) / hz
        max_on = max_on_time_s(power, hz)
        if max_on < 60.0 and on_time > max_on:
            return CONFLICT  # A9: more than 63000 J in a minute
        return None

    def _trigger_refusal(self) -> str | None:
        if self.rtms:
            return None  # a train: `_fire_refusal` has judged it (A9)
        joules_now = joules(self.state.power_a)
        recent = self._recent_energy_j()
        if recent + joules_now > DISSIPATION_J_PER_MIN:
            return (
                f"refused: {recent + joules_now:.0f} J in 60 s would exceed"
                f" {DISSIPATION_J_PER_MIN:.0f} J (A9)"
            )
        return None

    def _recent_energy_j(self) -> float:
        since = self._t - 60.0
        while self._energy and self._energy[0][0] <= since:
            self._energy.popleft()
        return sum(j for _, j in self._energy)

    def _pulse(self, power: int, channel: str, train: int | None = None) -> None:
        super()._pulse(power, channel, train)
        self._recent_energy_j()  # keeps only the last minute
        self._energy.append((self._t, joules(power)))

    def _deliver(self) -> None:
        if not self.rtms:
            super()._deliver()
            return
        self._train_start = self._t
        self._train_done = 0
        self._train_total = self.n_pulses
        self._train_hz = self.frequency / 10
        self._train_power = self.state.power_a
        self.state.arm = "armed"
        self._ready_at = None

    def _recharge_time(self) -> float:
        # A7: at most 1 Hz in single-pulse mode, 0.5 Hz with enhanced power. Ready again
        # a little before the period ends, so a host firing at exactly 1 Hz (or 0.5 Hz)
        # is not refused for a millisecond of jitter (our model).
        default = 1.9 if self.enhanced else 0.9
        if self._via == VIA_TRIGGER and not self.enhanced:
            # External trigger: as fast as the A9 table allows at this power.
            fmax = max_frequency_hz(self.mains, self.rapid_type, self.state.power_a)
            default = READY_MARGIN / fmax
        base = self.recharge_s if self.recharge_s is not None else default
        return base + self.charge_delay_ms / 1000

    def _disarm(self) -> None:
        if self._train_start is not None:
            self._end_train()
        super()._disarm()

    def _end_train(self) -> None:
        wait = min_wait_s(self._train_power, self._train_hz, self._train_done)
        self._wait_until = self._t + wait
        self._train_start = None
        self._train_count += 1
        self._idle_since = self._t

    def _next_train_pulse(self) -> float | None:
        if self._train_start is None:
            return None
        return self._train_start + self._train_done / self._train_hz

    def _next_event_time(self) -> float | None:
        times = [t for t in (super()._next_event_time(), self._next_train_pulse()) if t is not None]
        return min(times) if times else None

    def _on_event(self) -> None:
        due = self._next_train_pulse()
        if due is not None and due <= self._t:
            self._pulse(self._train_power, "A", train=self._train_count)
            self._train_done += 1
            if self.coil.locked_out(self._t):
                self._disarm()
            elif self._train_done >= self._train_total:
                self._end_train()
                self.state.arm = "armed"
                self._ready_at = self._wait_until
        super()._on_event()

    def _save_settings(self) -> dict[str, Any]:
        saved = super()._save_settings()
        saved.update(
            rtms=self.rtms,
            frequency=self.frequency,
            n_pulses=self.n_pulses,
            duration=self.duration,
            enhanced=self.enhanced,
            charge_delay_ms=self.charge_delay_ms,
        )
        return saved

    def _restore_settings(self, saved: dict[str, Any]) -> None:
        for key in ("rtms", "frequency", "n_pulses", "duration", "enhanced", "charge_delay_ms"):
            setattr(self, key, saved.pop(key))
        super()._restore_settings(saved)

    # --- vector-table state keys --------------------------------------------------------

    def _set_state_key(self, key: str, value: Any) -> None:
        if key == "rtms":
            self.rtms = bool(value)
            if self.rtms and self.duration == 0:
                self.duration = 10
            if not self.rtms:
                self.duration = 0
        elif key == "frequency_hz":
            self.frequency = round(float(value) * 10)
        elif key == "pulses":
            self.n_pulses = int(value)
        elif key == "duration_s":
            self.duration = round(float(value) * 10)
            self.rtms = self.duration > 0
        elif key == "wait_s":
            self.wait = round(float(value) * 10)
        elif key == "enhanced":
            self.enhanced = bool(value)
        elif key == "plus1":
            self.plus1 = bool(value)
        elif key == "charge_delay_ms":
            self.charge_delay_ms = int(value)
        elif key == "unlock_code":
            self.unlock_code = str(value)
        else:
            super()._set_state_key(key, value)
