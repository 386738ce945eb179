"""What the Magstim 200², BiStim² and Rapid² simulators share (device-protocols PART A).

The device reads one command byte, then exactly as many data bytes as that command
takes, then the checksum (A2: no start byte, no terminator). It answers with the echoed
command, the instrument status byte (A3), optional data and a checksum, or with one of
the A2.1 error replies. It never sends anything unsolicited (PART E).

State machine (A7, PART E): standby -> (EB) armed -> (after `charge_s`) ready ->
(EH) pulse -> armed (recharging) -> ready ...; EA or any of these disarms: 60 s armed
without a pulse (A7), a keep-alive lapse (A6: 10 s in standby, 1 s armed; the unit also
drops remote control, INFERRED), an over-temperature coil (40 °C, A7), a removed coil,
a fatal error.

Status in replies: by default the status byte shows the state *before* the command
took effect, except for Q and R (A4 "Status before or after the change?", MP-virt).
`status_report="post"` switches to the state after it. This is UNCERTAIN in the
sources, so both are offered; the vector tables mark the rows that depend on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Literal

from simulators.core import SimulatorBase, error_code
from simulators.magstim.frames import (
    UNKNOWN_COMMAND,
    checksum,
    digits,
    error_reply,
    parse_digits,
    with_checksum,
)
from simulators.magstim.tables import joules
from simulators.thermal import COOL_TAU_S, HEAT_C_PER_J
from stimctl.clock import Clock

Arm = Literal["standby", "armed", "ready"]
StatusReport = Literal["pre", "post"]

INVALID = b"?"  # A2.1 valid command, invalid data
# Commands that change an output setting (A4): what the `ignore_settings` fault ignores.
SETTING_COMMANDS = frozenset(b"@ACYZBD[^_n")
CONFLICT = b"S"  # A2.1 valid command and data, conflicts with the state

PAD = 0x40  # `@`, the padding byte of data-less commands (A2)


class Field(Enum):
    """Status fields of a reply, filled from the pre- or post-command snapshot."""

    INSTR = 0
    RAPID = 1
    EXT = 2  # two bytes, MSB first (A3); always post-change (vector M20-set-v10)


@dataclass(frozen=True)
class Reply:
    """A normal reply: the command echo is added, then these parts, then the checksum."""

    parts: tuple[bytes | Field, ...] = (Field.INSTR,)
    post: bool = False  # Q and R always report the status after the change (A4)
    keepalive: bool = True  # counts as the A6 "valid command that returns system status"


Outcome = Reply | bytes | None  # bytes = INVALID / CONFLICT; None = no reply at all


@dataclass(frozen=True)
class Command:
    """One command byte: how many data bytes follow, whether it needs remote control."""

    data_len: int | Callable[[bytearray], int | None]
    handler: Callable[[bytes], Outcome]
    needs_remote: bool = True


@dataclass
class MagstimState:
    """What a Magstim reports; field names follow tests/vectors/README.md state keys."""

    remote: bool = False
    arm: Arm = "standby"
    coil_present: bool = True
    power_a: int = 30
    power_b: int = 30
    interval: int = 10
    high_res: bool = False
    system_mode: str | None = None  # BiStim `X` char; None = derived from the timing mode
    error_code: str = "E00"  # Rapid `I` reply; "E00" = no error (our choice, INFERRED)
    error_present: bool = False
    error_fatal: bool = False
    interlock_ignored: bool = False


class MagstimSimulator(SimulatorBase):
    """Base of the three Magstim models; subclasses add commands and delivery rules."""

    baudrate: ClassVar[int] = 9600
    max_power: ClassVar[int] = 100

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        seed: int | None = None,
        coil_temp_c: float = 24.0,
        ambient_c: float | None = None,
        heat_c_per_j: float = HEAT_C_PER_J,
        cool_tau_s: float = COOL_TAU_S,
        status_report: StatusReport = "pre",
        charge_s: float = 0.9,
        recharge_s: float | None = None,
        keepalive_standby_s: float = 10.0,
        keepalive_armed_s: float = 1.0,
        auto_disarm_s: float = 60.0,
        power_settle: bool = True,
    ) -> None:
        super().__init__(
            clock,
            seed=seed,
            coil_temp_c=coil_temp_c,
            ambient_c=ambient_c,
            heat_c_per_j=heat_c_per_j,
            cool_tau_s=cool_tau_s,
        )
        if status_report not in ("pre", "post"):
            raise ValueError(f"status_report must be 'pre' or 'post', got {status_report!r}")
        for name, value in (
            ("charge_s", charge_s),
            ("keepalive_standby_s", keepalive_standby_s),
            ("keepalive_armed_s", keepalive_armed_s),
            ("auto_disarm_s", auto_disarm_s),
        ):
            if value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if recharge_s is not None and recharge_s < 0:
            raise ValueError(f"recharge_s must be >= 0, got {recharge_s}")
        self.state = MagstimState()
        self.status_report: StatusReport = status_report
        self.charge_s = charge_s
        self.recharge_s = recharge_s
        self.keepalive_standby_s = keepalive_standby_s
        self.keepalive_armed_s = keepalive_armed_s
        self.auto_disarm_s = auto_disarm_s
        self.power_settle = power_settle
        self._ready_at: float | None = None
        self._last_valid = self._t
        self._idle_since = self._t
        self._commands = self._command_table()

    # --- public state API ------------------------------------------------------------

    def remove_coil(self) -> None:
        with self._lock:
            self._advance()
            self.state.coil_present = False
            if not self.state.interlock_ignored:
                self._disarm()

    def attach_coil(self) -> None:
        with self._lock:
            self._advance()
            self.state.coil_present = True

    @property
    def armed(self) -> bool:
        with self._lock:
            self._advance()
            return self.state.arm != "standby"

    def set_error(self, code: str | int, *, fatal: bool = False) -> None:
        """Raise a device error: status bit 5 (and 6 if fatal), `I@` reports `code`."""
        text = error_code(code)
        with self._lock:
            self._advance()
            self.state.error_code = text
            self.state.error_present = True
            self.state.error_fatal = fatal
            if fatal:
                self._disarm()

    def clear_error(self) -> None:
        with self._lock:
            self.state.error_code = "E00"
            self.state.error_present = False
            self.state.error_fatal = False

    def set_state(self, **values: Any) -> None:
        """Put the device in a state; keys are the `state` keys of tests/vectors/README.md.

        For tests that replay expected-message tables. `arm="ready"` means charged now.
        """
        with self._lock:
            self._advance()
            for key, value in values.items():
                self._set_state_key(key, value)
            self._last_valid = self._t
            self._idle_since = self._t

    def instrument_status(self) -> int:
        with self._lock:
            self._advance()
            return self._instr()

    # --- framing -----------------------------------------------------------------------

    def _receive(self, buf: bytearray) -> None:
        while buf:
            spec = self._commands.get(buf[0])
            if spec is None:
                del buf[0]
                self._emit(UNKNOWN_COMMAND)
                continue
            n = spec.data_len if isinstance(spec.data_len, int) else spec.data_len(buf)
            if n is None or len(buf) < n + 2:
                return  # wait for the rest of the frame (or the inter-byte timeout)
            frame = bytes(buf[: n + 2])
            del buf[: n + 2]
            self._dispatch(spec, frame)

    def _dispatch(self, spec: Command, frame: bytes) -> None:
        cmd, data = frame[0], frame[1:-1]
        pre = self._snapshot()
        outcome: Outcome
        if spec.needs_remote and not self.state.remote and not _is_disarm(cmd, data):
            outcome = None if self._silent_without_remote() else CONFLICT
        elif checksum(frame[:-1]) != frame[-1]:
            # The documents do not say; MP-virt answers "invalid data" (A2.1, UNCERTAIN).
            outcome = INVALID
        elif self._ignores(cmd):
            saved = self._save_settings()
            outcome = spec.handler(data)  # the usual reply ...
            self._restore_settings(saved)  # ... and nothing changed
        else:
            outcome = spec.handler(data)
        if outcome is None:
            return
        if isinstance(outcome, bytes):
            self._emit(error_reply(cmd, outcome))
            return
        post = self._snapshot()
        snap = post if (outcome.post or self.status_report == "post") else pre
        body = bytearray([cmd])
        for part in outcome.parts:
            if part is Field.INSTR:
                body.append(snap[0])
            elif part is Field.RAPID:
                body.append(snap[1])
            elif part is Field.EXT:
                body += post[2].to_bytes(2, "big")
            else:
                assert isinstance(part, bytes)
                body += part
        self._emit(with_checksum(bytes(body)))
        if outcome.keepalive and self.state.remote:
            self._last_valid = self._t

    def _ignores(self, cmd: int) -> bool:
        if self.faults.ignore_settings and cmd in SETTING_COMMANDS:
            return True
        return self.faults.sticky_b_power and cmd == ord("A")

    def _save_settings(self) -> dict[str, Any]:
        s = self.state
        return {"power_a": s.power_a, "power_b": s.power_b, "interval": s.interval,
                "high_res": s.high_res}  # fmt: skip

    def _restore_settings(self, saved: dict[str, Any]) -> None:
        for key, value in saved.items():
            setattr(self.state, key, value)

    def _snapshot(self) -> tuple[int, int, int]:
        return self._instr(), self._rapid_status(), self._ext_status()

    def _instr(self) -> int:
        s = self.state
        bits = {"standby": 0x01, "armed": 0x02, "ready": 0x04}[s.arm]
        bits |= 0x08 if s.coil_present else 0
        bits |= 0x20 if s.error_present else 0
        bits |= 0x40 if s.error_present and s.error_fatal else 0
        bits |= 0x80 if s.remote else 0
        return bits

    def _rapid_status(self) -> int:
        return 0

    def _ext_status(self) -> int:
        return 0

    def _silent_without_remote(self) -> bool:
        return False

    # --- the command table ----------------------------------------------------------------

    def _command_table(self) -> dict[int, Command]:
        return {
            ord("Q"): Command(1, self._cmd_enable_remote, needs_remote=False),
            ord("R"): Command(1, self._cmd_disable_remote, needs_remote=False),
            ord("@"): Command(3, self._cmd_power_a),
            ord("E"): Command(1, self._cmd_mode),
            ord("F"): Command(1, self._cmd_temperature, needs_remote=False),
            ord("I"): Command(1, self._cmd_error_code, needs_remote=False),
        }

    def _cmd_enable_remote(self, data: bytes) -> Outcome:
        self.state.remote = True
        return Reply(post=True)

    def _cmd_disable_remote(self, data: bytes) -> Outcome:
        # "returns control to the UI" (TDb086 §4.6); it does not disarm (MAGIC sends a
        # disarm first, so the unit itself does not).
        self.state.remote = False
        return Reply(post=True)

    def _cmd_power_a(self, data: bytes) -> Outcome:
        value = parse_digits(data)
        if value is None or value > self._power_limit():
            return INVALID
        if self._busy():
            return CONFLICT
        self._set_power(value, "a")
        return Reply()

    def _cmd_mode(self, data: bytes) -> Outcome:
        if data == b"A":
            if not self.faults.ignore_disarm:
                self._disarm()
            return Reply()
        if data == b"B":
            return self._try_arm()
        if data == b"H":
            return self._try_fire()
        return INVALID

    def _cmd_temperature(self, data: bytes) -> Outcome:
        c1, c2 = self.coil.temperatures(self._t)
        field = digits(_tenths(c1), 3) + digits(_tenths(c2), 3)
        return Reply((Field.INSTR, field))

    def _cmd_error_code(self, data: bytes) -> Outcome:
        return Reply((Field.INSTR, self.state.error_code.encode("ascii")))

    # --- behaviour --------------------------------------------------------------------

    def _power_limit(self) -> int:
        return self.max_power

    def _busy(self) -> bool:
        """True while parameter changes are refused (Rapid train and post-train wait)."""
        return False

    def _set_power(self, value: int, which: Literal["a", "b"]) -> None:
        old = self.state.power_a if which == "a" else self.state.power_b
        if which == "a":
            self.state.power_a = value
        else:
            self.state.power_b = value
        if self.power_settle and self.state.arm != "standby" and value != old:
            # A7: about 10 ms per % up and 100 ms per % down before the unit is ready
            # again (MP `setPower` docstring); modelled as a drop of the ready bit.
            settle = 0.01 * (value - old) if value > old else 0.1 * (old - value)
            self.state.arm = "armed"
            self._ready_at = max(self._ready_at or self._t, self._t + settle)

    def _arm_refused(self) -> bool:
        s = self.state
        return (
            (not s.coil_present and not s.interlock_ignored)
            or self.coil.locked_out(self._t)
            or (s.error_present and s.error_fatal)
        )

    def _try_arm(self) -> Outcome:
        if self.state.arm != "standby" or self._arm_refused():
            return CONFLICT  # A2.1 / M11: arming when already armed
        self.state.arm = "armed"
        self._ready_at = self._t + self.charge_s
        self._idle_since = self._t
        return Reply()

    def _try_fire(self) -> Outcome:
        if self.state.arm != "ready":
            return CONFLICT
        refusal = self._fire_refusal()
        if refusal is not None:
            return refusal
        self._deliver()
        return Reply()

    def _fire_refusal(self) -> Outcome:
        return None

    def _triggered(self) -> str | None:
        """A rising edge on the Trigger In: the same preconditions as `EH` (ready, no
        refusal), plus the model's own limits for external triggers."""
        if self.state.arm != "ready":
            return f"not ready ({self.state.arm})"
        if self._fire_refusal() is not None:
            return "refused: the loaded train breaks the device's limits"
        refusal = self._trigger_refusal()
        if refusal is not None:
            return refusal
        self._deliver()
        return None

    def _trigger_refusal(self) -> str | None:
        """Limits that hold only for external triggers (none by default)."""
        return None

    def _deliver(self) -> None:
        """One trigger: log the pulse(s), heat the coil, start recharging."""
        self._pulse(self.state.power_a, "A")
        self._start_recharge(self._recharge_time())

    def _pulse(self, power: int, channel: str, train: int | None = None) -> None:
        self._log_pulse(power, channel, train)
        self.coil.heat(self._t, joules(power))

    def _start_recharge(self, seconds: float) -> None:
        self._idle_since = self._t
        if self.coil.locked_out(self._t):
            self._disarm()
            return
        self.state.arm = "armed"
        self._ready_at = self._t + seconds

    def _recharge_time(self) -> float:
        if self.recharge_s is not None:
            return self.recharge_s
        # MP-virt's 200² model: 2 s below 50 %, 3 s to 79 %, 4 s above (UNCERTAIN).
        power = self.state.power_a
        return 2.0 if power < 50 else 3.0 if power < 80 else 4.0

    def _disarm(self) -> None:
        self.state.arm = "standby"
        self._ready_at = None

    def _after_thermal_change(self) -> None:
        if self.coil.locked_out(self._t):
            self._disarm()

    # --- time -------------------------------------------------------------------------

    def _keepalive_deadline(self) -> float | None:
        if not self.state.remote or self.faults.keepalive_never_lapses:
            return None
        limit = self.keepalive_standby_s if self.state.arm == "standby" else self.keepalive_armed_s
        return self._last_valid + limit

    def _auto_disarm_deadline(self) -> float | None:
        if self.state.arm == "standby" or self._busy():
            return None
        return self._idle_since + self.auto_disarm_s

    def _next_event_time(self) -> float | None:
        times = [
            t
            for t in (self._ready_at, self._keepalive_deadline(), self._auto_disarm_deadline())
            if t is not None
        ]
        return min(times) if times else None

    def _on_event(self) -> None:
        t = self._t
        if self._ready_at is not None and self._ready_at <= t:
            self._ready_at = None
            if self.state.arm == "armed":
                self.state.arm = "ready"
        keepalive = self._keepalive_deadline()
        if keepalive is not None and keepalive <= t:
            # A6 (INFERRED): on loss the unit disarms and drops remote control.
            self._disarm()
            self.state.remote = False
        auto = self._auto_disarm_deadline()
        if auto is not None and auto <= t:
            self._disarm()  # A7: armed and not fired for more than a minute

    # --- vector-table state keys --------------------------------------------------------

    def _set_state_key(self, key: str, value: Any) -> None:
        s = self.state
        if key == "arm":
            if value not in ("standby", "armed", "ready"):
                raise ValueError(f"arm must be standby/armed/ready, got {value!r}")
            s.arm = value
            self._ready_at = self._t + self.charge_s if value == "armed" else None
        elif key in ("coil1_c", "coil2_c"):
            self.coil.set_temperature(self._t, float(value), 0 if key == "coil1_c" else 1)
        elif key == "error":
            s.error_code = str(value)
        elif key in ("remote", "coil_present", "high_res", "interlock_ignored"):
            setattr(s, key, bool(value))
        elif key in ("power_a", "power_b", "interval"):
            setattr(s, key, int(value))
        elif key == "system_mode":
            s.system_mode = str(value)
        else:
            raise ValueError(f"{type(self).__name__} has no state key {key!r}")


def _is_disarm(cmd: int, data: bytes) -> bool:
    return cmd == ord("E") and data == b"A"  # A4: E needs remote control "except stop"


def _tenths(temp_c: float) -> int:
    # Three digits of 0.1 °C is the field's whole range (A4 `F`); beyond it the device
    # could not say more, so the field saturates (it is a display limit, not our value).
    return max(0, min(999, round(temp_c * 10)))


__all__ = ["PAD", "Arm", "Command", "Field", "MagstimSimulator", "MagstimState", "Reply"]
