"""MagVenture MagPro R30 / X100, with or without MagOption (device-protocols part B).

No keep-alive and no remote-control handshake (B7); "enabled" is the armed state and a
trigger fires only when enabled. Train parameters are accepted only on the Timing page
(B4 command 6, KOP), so `configure_train` moves there first.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from drivers.magventure import _output as output
from drivers.magventure._reader import MagProReader
from drivers.magventure.codec import (
    MODELS,
    TIMING_PAGE,
    Message,
    StatusByte,
    encode,
)
from drivers.magventure.commands import (
    Command,
    Disable,
    Enable,
    Fire,
    GetLongStatus,
    GetMode,
    GetStatus,
    SetAmplitude,
    SetDelays,
    SetMode,
    SetPage,
    SetTrain,
    StartTrain,
)
from stimctl.clock import Clock
from stimctl.errors import (
    ConfigError,
    ConnectionLost,
    DeviceRejected,
    DeviceTimeout,
    DriverError,
    ProtocolError,
    StateError,
)
from stimctl.hal import (
    ArmState,
    Capabilities,
    DeviceIdentity,
    DeviceStatus,
    FireReceipt,
    KeepAlive,
    OutputPlan,
    OutputState,
    Stimulator,
    TrainSpec,
    Transport,
    TriggerLine,
    found_armed_notice,
)

log = logging.getLogger(__name__)

BAUDRATE = 38400  # B1
QUIET_S = 0.005  # about 19 byte times at 38400 baud: the line is quiet
SETTLE_MAX_S = 0.25  # longest wait for a quiet line at open
# Highest repetition rate by model (B7, XL `_RATEs`; MST is not documented: UNCERTAIN).
_MAX_PPS = {0: 30.0, 1: 100.0, 2: 30.0, 3: 100.0, 4: 30.0, 5: 100.0}
_OPTION_MODELS = {2, 3, 4}  # MagOption: Twin/Dual, outputs A and B
DEFAULT_ITI_S = 1.0  # sent when one train is configured: the device needs some ITI
# Link watch (issue 12 item 8): the protocol has no keep-alive (B7) and a silent line
# raises no error, so after LINK_POLL_S without any message the driver asks for status
# (command 0; Localite polls twice a second, XL comment in B5) and calls the link lost
# when no reply comes within LINK_POLL_TIMEOUT_S: silence is noticed within 1 s.
LINK_POLL_S = 0.5
LINK_POLL_TIMEOUT_S = 0.5
# Slack on the device's minimum trigger spacing: the bytes of two triggers may travel
# at different speeds (USB adapter, pty), so the device may see them a little closer.
TRIGGER_MARGIN_S = 0.002


class MagProDriver(Stimulator):
    """MagVenture MagPro.

    ``MagProDriver(port_url, *, clock=None, transport=None, reply_timeout_s=1.0,
    model=None, option=None, waveform="biphasic", current_direction="normal",
    link_watch=True)``

    - `model`: expected model name, case-insensitive (R30, X100, R30+Option, X100+Option,
      R30+Option+Mono, MST); with `option` true, "x100" means "X100+Option". `open`
      refuses a device that reports another model.
    - `option`: expected MagOption, a bool or "true"/"false" (device profiles store
      strings); None = take what the device reports.
    - `waveform` ("monophasic", "biphasic", "half-sine") and `current_direction`
      ("normal", "reverse"): the single-pulse output the site uses (device profile
      `driver_options`). Set and read back before every arm, with mode Standard and
      amplitude B 0 (issue 12 item 1), unless `plan_output` plans a burst or pair.
    - `link_watch`: poll the status after 0.5 s without any message, so a silent line
      is reported (`ConnectionLost`) within 1 s; False for scripted-port tests.
    """

    vendor = "MagVenture"
    model = "MagPro"

    def __init__(
        self,
        port_url: str,
        *,
        clock: Clock | None = None,
        transport: Transport | None = None,
        reply_timeout_s: float = 1.0,
        model: str | None = None,
        option: bool | str | None = None,
        waveform: str = "biphasic",
        current_direction: str = "normal",
        link_watch: bool = True,
    ) -> None:
        super().__init__(port_url, clock=clock, transport=transport)
        self._link_watch_enabled = link_watch
        self.link_watch = KeepAlive(
            send=self._poll_link,
            period=lambda: LINK_POLL_S,
            clock=self.clock,
            on_error=self._report_fault,
            name="stimctl-magpro-link-watch",
        )
        self._waveform = output.named(waveform, output.WAVEFORMS, "waveform")
        self._direction = output.named(current_direction, output.DIRECTIONS, "current direction")
        if self._waveform == output.BURST:
            raise ConfigError("the single-pulse waveform cannot be a burst; plan a burst instead")
        self._reply_timeout_s = reply_timeout_s
        self._expected_option = _parse_option(option)
        self._expected_model = _parse_model(model, self._expected_option)
        self._transport: Transport | None = None
        self._reader: MagProReader | None = None
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._latest: dict[int, Message] = {}
        self._status_byte: StatusByte | None = None
        self._serial: int | None = None
        self.pulses_seen: int | None = 0  # ID 2 messages since open (one per pulse, B5)
        self._last_trigger_at: float | None = None

    # -- link ------------------------------------------------------------------------

    def open_link(self) -> None:
        """Open the port and start the reader only (no status check); for table tests."""
        if self._transport is not None:
            return
        transport = self._given_transport or Transport.open(self.port_url, baudrate=BAUDRATE)
        self._transport = transport
        self._reader = MagProReader(
            transport, on_message=self._remember, on_fault=self._report_fault
        )
        self._reader.start()

    def transact(self, command: Command) -> Message | None:
        """Send one typed command (`drivers.magventure.commands`); return its documented
        reply, or None if it has none."""
        transport, reader = self._require_link()
        request = command.request()
        with self._write_lock:
            mark = reader.mark()
            transport.write(request.frame)
        log.debug("-> %s %s", command.name, request.frame.hex(" "))
        if request.awaits is None:
            return None
        return reader.wait_for(request.awaits, mark, self._reply_timeout_s)

    def latest(self, message_id: int) -> Message | None:
        """The newest message of that id (unsolicited ones included)."""
        with self._state_lock:
            return self._latest.get(message_id)

    def _poll_link(self) -> None:
        """The link watch's probe: one status request, a short deadline."""
        transport, reader = self._require_link()
        request = encode("get_status")
        with self._write_lock:
            mark = reader.mark()
            transport.write(request.frame)
        try:
            reader.wait_for(0, mark, LINK_POLL_TIMEOUT_S)
        except DeviceTimeout as exc:
            silent = LINK_POLL_S + LINK_POLL_TIMEOUT_S
            raise ConnectionLost(
                f"MagPro on {self.port_url} silent for {silent:.1f} s: link lost ({exc})"
            ) from exc

    def _remember(self, message: Message) -> None:
        self.link_watch.touch()  # any message shows the line is alive
        with self._state_lock:
            self._latest[message.id] = message
            if message.status is not None:
                self._status_byte = StatusByte(message.status)
            if message.serial is not None:
                self._serial = message.serial
            if message.id == 2:
                self.pulses_seen = (self.pulses_seen or 0) + 1

    def _require_link(self) -> tuple[Transport, MagProReader]:
        if self._transport is None or self._reader is None:
            raise DriverError(f"MagPro on {self.port_url} is not connected")
        return self._transport, self._reader

    # -- queries ---------------------------------------------------------------------

    def get_status(self) -> Message:
        message = self.transact(GetStatus())
        if message is None:  # pragma: no cover - get_status always awaits ID 0
            raise ProtocolError("no status message")
        return message

    def get_long_status(self) -> Message:
        """ID 5: amplitudes, factors, page and train-running flag (B5)."""
        self._require_open()
        message = self.transact(GetLongStatus())
        if message is None:  # pragma: no cover
            raise ProtocolError("no long status message")
        return message

    def get_mode(self) -> Message:
        """ID 9: model, mode, current direction, waveform, burst, IPI and B/A indices."""
        self._require_open()
        message = self.transact(GetMode())
        if message is None:  # pragma: no cover
            raise ProtocolError("no mode message")
        return message

    def set_mode(
        self,
        *,
        mode: int,
        waveform: int,
        direction: int = 0,
        burst_pulses: int = 2,
        ipi_ms: float = 10.0,
        ba_ratio: float = 1.0,
    ) -> Message:
        """Mode (0 Standard, 1 Power, 2 Twin, 3 Dual), waveform (0 Monophasic, 1 Biphasic,
        2 Half Sine, 3 Biphasic Burst), direction (0 Normal, 1 Reverse), burst pulses 2-5,
        IPI and B/A ratio (B4 command 9). Only in standby; read back and compared."""
        self._require_open()
        self._require_state({ArmState.STANDBY}, "change mode or waveform")
        if waveform == 3 and mode in (2, 3):
            raise ConfigError("Twin/Dual cannot use Biphasic Burst (KOP, B4)")
        current = self.get_mode()
        self.transact(
            SetMode(
                model=_model_byte(current),  # echo of the byte read back (MCP/MAGIC/KOP)
                mode=mode,
                direction=direction,
                waveform=waveform,
                burst_pulses=burst_pulses,
                ipi_ms=ipi_ms,
                ba_ratio=ba_ratio,
            )
        )
        held = self.get_mode()
        if (held.mode, held.waveform, held.direction) != (mode, waveform, direction):
            raise DeviceRejected(
                f"MagPro holds mode {held.mode}, waveform {held.waveform}, direction "
                f"{held.direction} instead of {mode}, {waveform}, {direction}"
            )
        return held

    def set_page(self, page: int) -> None:
        self._require_open()
        self.transact(SetPage(page))

    def set_delays(self, *, in_ms: float, out_ms: float, charge_ms: int) -> None:
        """Trigger-in/out and charge delays (B4 command 8)."""
        self._require_open()
        self._require_state({ArmState.STANDBY}, "change delays")
        self.transact(SetDelays(in_ms=in_ms, out_ms=out_ms, charge_ms=charge_ms))

    # -- hooks -----------------------------------------------------------------------

    def _do_open(self) -> None:
        self.open_link()
        status = self._first_status()
        reported = StatusByte(status.status or 0)
        if reported.enabled:
            # No keep-alive in the protocol (B7, ADR 0006): a host that crashed while the
            # unit was enabled left it so. Disable it before anything else - before the
            # model checks below, which may refuse the unit and close the port - and say so.
            self.transact(Disable())
            if StatusByte(self.get_status().status or 0).enabled:
                raise StateError(f"MagPro on {self.port_url} was found enabled and did not disable")
            self.found_armed_at_open = found_armed_notice(self.model, self.port_url, ArmState.READY)
            log.warning("%s", self.found_armed_at_open)
        if self._expected_model is not None and reported.model_name != self._expected_model:
            raise ConfigError(
                f"expected a MagPro {self._expected_model}, "
                f"the device reports {reported.model_name}"
            )
        has_option = reported.model in _OPTION_MODELS
        if self._expected_option is not None and has_option != self._expected_option:
            raise ConfigError(
                f"expected MagOption={self._expected_option}, "
                f"the device reports {reported.model_name}"
            )
        if self._link_watch_enabled:
            self.link_watch.start()

    def _first_status(self) -> Message:
        """The first status of a session. A unit's last messages to a session that closed
        a moment ago may still be on the cable (38400 baud: about 0.26 ms a byte, B1);
        their tails arrive outside a frame. Those are let pass, not taken for a broken
        unit: wait for a quiet line, and ask again while only such tails come in, for at
        most SETTLE_MAX_S; any other error (and a tail after that) fails the open."""
        deadline = time.monotonic() + SETTLE_MAX_S
        self._settle_link(deadline)
        while True:
            try:
                return self.get_status()
            except ProtocolError as exc:
                if "outside a frame" not in str(exc) or time.monotonic() >= deadline:
                    raise
                log.warning("MagPro on %s: %s (an earlier session's tail?)", self.port_url, exc)
                self._settle_link(deadline)

    def _settle_link(self, deadline: float) -> None:
        """Wait (real time, until `deadline`) until nothing has come in for QUIET_S."""
        _, reader = self._require_link()
        seen = reader.mark()
        while time.monotonic() < deadline:
            time.sleep(QUIET_S)
            now = reader.mark()
            if now == seen:
                return
            seen = now

    def close_link(self) -> None:
        """Stop the reader and close the port, with no disarm (pair of `open_link`)."""
        self._do_close()

    def _do_close(self) -> None:
        self.link_watch.stop()
        reader, transport = self._reader, self._transport
        self._reader = None
        self._transport = None
        if reader is not None:
            reader.stop()
        if transport is not None:
            transport.close()

    def _model_number(self) -> int | None:
        if self._status_byte is not None:
            return self._status_byte.model
        if self._expected_model is not None:
            return MODELS.index(self._expected_model)
        return None

    def _do_capabilities(self) -> Capabilities:
        number = self._model_number()
        name = "MagPro" if number is None else f"MagPro {MODELS[number]}"
        option = number in _OPTION_MODELS if number is not None else bool(self._expected_option)
        return Capabilities(
            model=name,
            output_range_pct=(0, 100),
            frequency_range_hz=(0.1, _MAX_PPS.get(number if number is not None else 1, 100.0)),
            device_timed_trains=True,
            keepalive_period_s=None,  # B7: the protocol has none
            outputs=("A", "B") if option else ("A",),
            max_pulses=1000,
            telemetry=frozenset({"coil_temperature", "didt", "coil_type"}),
            reports_pulses=True,  # one ID 2 message per delivered pulse (B5)
        )

    def _do_identify(self) -> DeviceIdentity:
        number = self._model_number()
        model = "MagPro" if number is None else f"MagPro {MODELS[number]}"
        serial = None if self._serial is None else str(self._serial)
        return DeviceIdentity(vendor=self.vendor, model=model, serial_number=serial)

    def _do_status(self) -> DeviceStatus:
        message = self.get_status()
        status = StatusByte(message.status or 0)
        coil_type = message.coil_type
        return DeviceStatus(
            arm_state=ArmState.READY if status.enabled else ArmState.STANDBY,
            remote_control=True,  # no handshake: the link answering is all there is (B7)
            coil_present=None if not coil_type else True,  # 0 = unrecognised (B3)
            coil_temperature_c=None if message.coil_temp_c is None else float(message.coil_temp_c),
            error_code=None,
            read_at=self.clock.now(),
        )

    def _do_set_intensity(self, percent: int, output: str) -> None:
        current = self.get_status()
        a = current.amplitude_a or 0
        b = current.amplitude_b or 0
        if output == "A":
            a = percent
        else:
            b = percent
        # 3-byte form (KOP/XL/CPP-MV, B4); the base class reads it back at once.
        self.transact(SetAmplitude(a, b))

    def _do_configure_train(self, spec: TrainSpec) -> None:
        if spec.duration_s is not None and not math.isclose(
            spec.pulses, spec.frequency_hz * spec.duration_s, abs_tol=1e-6
        ):
            raise ConfigError(
                f"{spec.pulses} pulses do not match {spec.frequency_hz} Hz x {spec.duration_s} s"
            )
        if spec.trains > 1 and spec.inter_train_interval_s is None:
            raise ConfigError("several trains need inter_train_interval_s")
        iti = (
            spec.inter_train_interval_s
            if spec.inter_train_interval_s is not None
            else DEFAULT_ITI_S
        )
        self.transact(SetPage(TIMING_PAGE))  # train settings only on Timing (KOP)
        self.transact(
            SetTrain(rate_pps=spec.frequency_hz, pulses=spec.pulses, trains=spec.trains, iti_s=iti)
        )

    # -- whole output state (issue 12 item 1; drivers.magventure._output) ---------------

    def _do_check_output_plan(self, plan: OutputPlan) -> None:
        if plan.enhanced_power:
            raise ConfigError("a MagPro has no enhanced power mode")
        if plan.paired is not None and self._do_capabilities().outputs != ("A", "B"):
            raise ConfigError("a paired pulse needs a MagPro with MagOption (Dual mode, B3)")
        self._mode_args(plan)  # refuses names and combinations the device cannot take

    def _mode_args(self, plan: OutputPlan) -> output.ModeSettings:
        return output.mode_args(plan, waveform=self._waveform, direction=self._direction)

    def _do_wanted_output(self, plan: OutputPlan) -> OutputState:
        return output.wanted(plan, self._mode_args(plan))

    def _do_apply_output(self, plan: OutputPlan) -> None:
        args = self._mode_args(plan)
        current = self.get_mode()
        self.transact(
            SetMode(
                model=_model_byte(current),
                mode=args.mode,
                direction=args.direction,
                waveform=args.waveform,
                burst_pulses=args.burst_pulses,
                ipi_ms=args.ipi_ms,
            )
        )
        b = output.power_b(plan)
        status = self.get_status()
        a = self._intensity.get("A", status.amplitude_a or 0)
        if (status.amplitude_a, status.amplitude_b) != (a, b):
            self.transact(SetAmplitude(a, b))  # 3-byte form (B4)

    def _do_read_output(self) -> OutputState:
        return output.read_back(self.get_status(), self.get_mode())

    def _do_arm(self) -> None:
        self.transact(Enable())

    def _do_disarm(self) -> None:
        self.transact(Disable())

    def _do_fire(self) -> None:
        # The MagPro silently ignores a trigger that comes sooner than its highest rate
        # allows (B7), while the host would journal it as delivered. A host-timed train
        # catching up after a late pulse does exactly that; wait out the gap instead.
        if self._last_trigger_at is not None:
            due = self._last_trigger_at + 1.0 / self._max_trigger_rate_pps() + TRIGGER_MARGIN_S
            if self.clock.now() < due:
                self.clock.sleep_until(due)
        self.transact(Fire())
        self._last_trigger_at = self.clock.now()

    def _do_trigger(self, line: TriggerLine, scheduled_s: float | None) -> FireReceipt:
        # The same rate rule holds for an edge on the TTL Trigger In (B7: a trigger of
        # any kind fires only when the unit can): wait out the gap, never let it drop one.
        if self._last_trigger_at is not None:
            due = self._last_trigger_at + 1.0 / self._max_trigger_rate_pps() + TRIGGER_MARGIN_S
            if self.clock.now() < due:
                self.clock.sleep_until(due)
        receipt = line.pulse(scheduled_s)
        self._last_trigger_at = receipt.actual_s
        return receipt

    def _max_trigger_rate_pps(self) -> float:
        """Highest repetition rate for the model, mode and waveform now held (B7, XL
        `_RATEs`): X100 100 pps (20 with Biphasic Burst), R30 30; with MagOption in
        Twin/Dual: R30 5, X100 5 monophasic and 50 otherwise. Unknown models: R30's 30."""
        status = self._status_byte
        number = self._model_number()
        r30 = number in (0, 2, 4) or number is None
        if status is not None and status.mode in (2, 3):
            return 5.0 if r30 or status.waveform == 0 else 50.0
        if r30:
            return 30.0
        return 20.0 if status is not None and status.waveform == 3 else 100.0

    def _do_start_train(self) -> None:
        self.transact(SetPage(TIMING_PAGE))  # start needs the Timing page (B4 cmd 4)
        self.transact(StartTrain())


def _parse_option(option: bool | str | None) -> bool | None:
    if option is None or isinstance(option, bool):
        return option
    text = str(option).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise ConfigError(f"MagPro option must be true or false, got {option!r}")


def _parse_model(model: str | None, option: bool | None) -> str | None:
    if model is None:
        return None
    by_name = {name.lower(): name for name in MODELS}
    name = by_name.get(model.strip().lower())
    if name is None:
        raise ConfigError(f"unknown MagPro model {model!r}; known: {', '.join(MODELS)}")
    if option and "+Option" not in name:
        name = f"{name}+Option"
    if option is False and "+Option" in name:
        raise ConfigError(f"MagPro model {name} contradicts option=false")
    return name


def _model_byte(mode: Message) -> int:
    """The model byte of an ID 9 reply, echoed in set-mode (B4 command 9); the decoder
    always fills it for ID 9, so a missing one is a malformed reply."""
    if mode.model is None:
        raise ProtocolError("the MagPro mode reply carries no model byte")
    return mode.model
