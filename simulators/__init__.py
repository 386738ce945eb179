"""Byte-level stimulator simulators: a Magstim or MagPro on the wire, without hardware.

They speak the documented protocols (/work/shared/reference/device-protocols.md, cited
as "device-protocols A4" etc.) closely enough that a client written for the real device
drives them unmodified: exact reply lengths, error replies, status semantics, timing.
They never import `drivers` (ARCHITECTURE rule 1); the two meet only on the wire.

Public API
----------
install_url_handler() -> None
    Let `serial.serial_for_url("stimsim://MODEL?key=value&...")` open an in-process
    simulator. Idempotent; nothing is installed on import. `uninstall_url_handler()`
    undoes it.
register_clock(name, clock) / unregister_clock(name)
    Make a `stimctl.clock.Clock` (VirtualClock, SimulatedClock, ...) usable as
    `stimsim://MODEL?clock=name`; the name must be registered before the port opens.
    Without `clock=` a simulator runs on `MonotonicClock` (real time). The device's
    timed events (charging, watchdogs, trains, reply delays) happen on that clock,
    worked out whenever the simulator is touched; port read timeouts stay real time
    (pyserial semantics) and the port never advances the clock itself.
create_simulator(spec, clock=None) -> simulator
    The same spec as after `stimsim://`, without a port (tests drive `write`/`read`).
serve_pty(simulator, stop, announce=None) / PtyServer(simulator)
    Serve on a pseudo-terminal (`stimctl sim serve SPEC` prints `PTY <path>`).
SimSpecError
    Bad model, key or value: a `stimctl.errors.ConfigError` and a
    `serial.SerialException`.

Models and keys (unknown ones raise SimSpecError)
-------------------------------------------------
magstim-200, magstim-bistim, magstim-rapid2, magpro-r30, magpro-x100.
All: seed, clock, coil_temp_c (initial), ambient_c, heat_c_per_j and cool_tau_s (coil
  heating model, simulators.thermal; defaults: a cooled coil), strict_baud (off: when on, a port
  opened at another baud rate than the device's hears and gets nothing),
  subject_rmt (a virtual subject under the coil, simulators.virtual_subject, with this
  true threshold in % MSO, 0 < PCT <= 200) and subject_seed (its seed; needs
  subject_rmt), and the fault keys below. Flags take 1/0, true/false, yes/no, on/off,
  or a bare key (= on).
Magstim: status_report=pre|post (default pre; Q/R always post), charge_s (0.9),
  recharge_s (model default), keepalive_standby_s (10), keepalive_armed_s (1),
  auto_disarm_s (60), power_settle (true).
Rapid: version (default 9.0; "8", "9", "10.1"...), unlock_code (16 chars; default any
  code of the form hhhh-hhhhhhhh-hh), type=standard|super|super-plus, mains=240|115,
  silent_without_remote (default true from v9).
BiStim: power_b (%), interval (raw), high_res: the state a unit was left in.
MagPro: magoption (false), serial (0x012345), coil_type (60), answer_mode_set (false);
  mode, waveform, direction (B3 codes), amplitude_b: the state a unit was left in.
Wire and trigger (issue 18): wire_time (each byte takes 10 bits at the device's baud
  rate on the wire; off by default, on in `stimctl sim serve`), trigger=sim://NAME (the
  simulated trigger wire NAME on the Trigger In: Rapid² and MagPro; the references
  document none for the 200² and BiStim²).
Faults: drop_rate, corrupt_rate (device -> host bytes), drop_input_rate (host ->
  device), reply_delay_s, cable_pulled, coil_removed, error=E01 / fatal_error=E01
  (Magstim), ignore_disarm, keepalive_never_lapses, ignore_settings (output settings
  acknowledged and ignored), sticky_b_power (output B's power cannot be changed).

The simulator object (all methods thread-safe)
----------------------------------------------
write(bytes), read(n) -> bytes, in_waiting(), poll(), next_wakeup()
    Host side; `read` returns what the device has put on the wire by the clock's now.
pulses -> list[Pulse]
    Every delivered pulse: Pulse(time, intensity, channel="A"|"B", train=None|int,
    mep_uv=None|float, via="serial"|"trigger"); `time` is the simulator clock,
    `intensity` % MSO, `mep_uv` the attached subject's peak-to-peak MEP in µV (None
    without a subject). `clear_pulses()`.
attach_subject(subject | None), subject
    Put a subject (anything with `mep_uv(intensity) -> float`, e.g.
    `VirtualSubject(true_rmt, seed)`) under the coil; each pulse logged from then on
    draws one MEP at its intensity. The `subject_rmt` key does this at creation.
faults: Faults
    Mutable switches: drop_rate, corrupt_rate, drop_input_rate, reply_delay_s,
    cable_pulled, ignore_disarm, keepalive_never_lapses, ignore_settings, sticky_b_power.
pull_cable(), plug_cable(), remove_coil(), attach_coil(),
set_coil_temperature(c, winding=None), coil_temperatures()
Magstim only: state (MagstimState), set_error(code, fatal=False), clear_error(),
    instrument_status(), set_state(**vector_state_keys). Rapid adds version, rtms,
    frequency (0.1 Hz), n_pulses, duration (0.1 s), enhanced, charge_delay_ms.
MagPro only: state (MagProState), status_byte(), set_state(**vector_state_keys),
    front_panel(amplitude_a=, amplitude_b=, page=) (an operator's change, sent unsolicited).
triggers -> list[TriggerEdge], connect_trigger(name), disconnect_trigger(), trigger_wire
    Every rising edge on the Trigger In: TriggerEdge(time, delivered, reason).
clock, model, baudrate, byte_time_s, wire_time (settable).

Synthetic EMG (simulators.emg, needs pylsl: the `lab` extra)
------------------------------------------------------------
serve_emg(subject_rmt, seed, stop, announce=None, **options) -> EmgStats
    Publish an EMG stream over LSL with MEPs from a virtual subject at each pulse marker
    stimctl publishes (`stimctl sim emg`); `SyntheticEmg` for tests.
"""

from __future__ import annotations

from typing import Any

import serial

from simulators.core import Pulse, SimulatorBase, TriggerEdge
from simulators.faults import Faults
from simulators.pty import PtyServer, serve_pty
from simulators.spec import (
    MODELS,
    SimSpecError,
    create_simulator,
    register_clock,
    unregister_clock,
)

URL_HANDLER_PACKAGE = "simulators.urlhandler"


def install_url_handler() -> None:
    """Register `stimsim://` with pyserial (idempotent)."""
    if URL_HANDLER_PACKAGE not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(URL_HANDLER_PACKAGE)


def serve_emg(*args: Any, **options: Any) -> Any:
    """`simulators.emg.serve_emg`, imported on use (pylsl is optional)."""
    from simulators.emg import serve_emg as serve

    return serve(*args, **options)


def uninstall_url_handler() -> None:
    while URL_HANDLER_PACKAGE in serial.protocol_handler_packages:
        serial.protocol_handler_packages.remove(URL_HANDLER_PACKAGE)


__all__ = [
    "MODELS",
    "Faults",
    "PtyServer",
    "Pulse",
    "SimSpecError",
    "SimulatorBase",
    "TriggerEdge",
    "create_simulator",
    "install_url_handler",
    "register_clock",
    "serve_emg",
    "serve_pty",
    "uninstall_url_handler",
    "unregister_clock",
]
