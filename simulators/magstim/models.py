"""Magstim 200² and BiStim² simulators (device-protocols A4, TDb086)."""

from __future__ import annotations

from typing import ClassVar

from simulators.magstim.base import (
    CONFLICT,
    INVALID,
    Command,
    Field,
    MagstimSimulator,
    Outcome,
    Reply,
)
from simulators.magstim.frames import digits, parse_digits
from simulators.magstim.tables import joules

# `X` mode characters (A3, CB) in which a trigger of A also fires B: master unit,
# simultaneous (1), low-resolution (2) or high-resolution (4) timing. Not 0 (single
# stimulator), 3 (B triggered independently) or the slave roles Q-T.
B_FOLLOWS_A = frozenset("124")


class Magstim200Simulator(MagstimSimulator):
    """Magstim 200²: Q R @ E J F I."""

    model: ClassVar[str] = "magstim-200"

    def _command_table(self) -> dict[int, Command]:
        table = super()._command_table()
        table[ord("J")] = Command(1, self._cmd_parameters, needs_remote=False)
        return table

    def _cmd_parameters(self, data: bytes) -> Outcome:
        # A4 `J` on a 200²: power A then "000000".
        return Reply((Field.INSTR, digits(self.state.power_a, 3) + b"000000"))


class BiStimSimulator(MagstimSimulator):
    """BiStim²: the 200² commands plus A (power B), C (interval), Y/Z (timing), X, b.

    A trigger fires unit A, then unit B `interval` later (ms, or 0.1 ms in high-resolution
    timing; 0 = simultaneous discharge) when B has power. Both pulses are logged, B on
    channel "B" with its own power.
    """

    model: ClassVar[str] = "magstim-bistim"

    def _command_table(self) -> dict[int, Command]:
        table = super()._command_table()
        table.update(
            {
                ord("J"): Command(1, self._cmd_parameters, needs_remote=False),
                ord("A"): Command(3, self._cmd_power_b),
                ord("C"): Command(3, self._cmd_interval),
                ord("Y"): Command(1, self._cmd_high_res_on),
                ord("Z"): Command(1, self._cmd_high_res_off),
                ord("X"): Command(1, self._cmd_system_mode, needs_remote=False),
                # A4 `b` is a Rapid command, but CB sends it to a BiStim at start-up.
                ord("b"): Command(1, self._cmd_ignore_interlock),
            }
        )
        return table

    def _cmd_parameters(self, data: bytes) -> Outcome:
        s = self.state
        field = digits(s.power_a, 3) + digits(s.power_b, 3) + digits(s.interval, 3)
        return Reply((Field.INSTR, field))

    def _cmd_power_b(self, data: bytes) -> Outcome:
        value = parse_digits(data)
        if value is None or value > self.max_power:
            return INVALID
        self._set_power(value, "b")
        return Reply()

    def _cmd_interval(self, data: bytes) -> Outcome:
        value = parse_digits(data)
        if value is None:
            return INVALID
        self.state.interval = value
        return Reply()

    def _cmd_high_res_on(self, data: bytes) -> Outcome:
        return self._switch_resolution(True)

    def _cmd_high_res_off(self, data: bytes) -> Outcome:
        return self._switch_resolution(False)

    def _switch_resolution(self, high: bool) -> Outcome:
        # A7: the mode cannot change while armed; enabling defaults the interval to
        # 1 ms (10 x 0.1 ms), disabling to 10 ms: the raw value is 10 both ways.
        if self.state.arm != "standby":
            return CONFLICT
        self.state.high_res = high
        self.state.interval = 10
        return Reply()

    def _cmd_system_mode(self, data: bytes) -> Outcome:
        return Reply((Field.INSTR, self._mode_char().encode("ascii")))

    def _cmd_ignore_interlock(self, data: bytes) -> Outcome:
        self.state.interlock_ignored = True
        return Reply()

    def _mode_char(self) -> str:
        # A3 (CB): master roles; 1 simultaneous, 2 low-res, 4 high-res timing.
        if self.state.system_mode is not None:
            return self.state.system_mode
        if self.state.interval == 0:
            return "1"
        return "4" if self.state.high_res else "2"

    def _deliver(self) -> None:
        """A, then B `interval` later (0 = together) whenever B has power and the unit is
        a master timing B from A's trigger (A3 mode chars 1, 2, 4). That is the hazard of
        issue 12 item 1: a unit left at B = 100 % by a paired-pulse study fires it."""
        s = self.state
        self._pulse(s.power_a, "A")
        if s.power_b > 0 and self._mode_char() in B_FOLLOWS_A:
            delay = s.interval * (0.0001 if s.high_res else 0.001)
            self._log_pulse(s.power_b, "B", at=self._t + delay)
            self.coil.heat(self._t, joules(s.power_b))
        self._start_recharge(self._recharge_time())

    def _recharge_time(self) -> float:
        if self.recharge_s is not None:
            return self.recharge_s
        return 4.0  # A7: at most 0.25 Hz in BiStim mode (MP `BiStim` docstring)
