"""What the three Magstim models share: remote control, keep-alive, arm/disarm/fire,
status and coil temperature (device-protocols A4, A6, A7)."""

from __future__ import annotations

import logging

from drivers.magstim._link import MagstimLink
from drivers.magstim.codec import NEWEST, InstrumentStatus, Reply, Version
from drivers.magstim.commands import (
    Arm,
    Command,
    DisableRemote,
    Disarm,
    EnableRemote,
    Fire,
    GetTemperature,
)
from stimctl.clock import Clock
from stimctl.errors import DeviceRejected, DriverError, ProtocolError, StimctlError
from stimctl.hal import (
    ArmState,
    DeviceIdentity,
    DeviceStatus,
    KeepAlive,
    Stimulator,
    Transport,
)

log = logging.getLogger(__name__)

BAUDRATE = 9600  # A1
# A6: the device wants status traffic every 10 s in standby and every 1 s when armed, and
# recommends 500 ms. We keep the recommended 500 ms in both states: the keep-alive is also
# how a lost link is noticed when nobody else talks, within 1 s (issue 12 item 8;
# limits.toml heartbeat_timeout_s), idle or armed.
IDLE_KEEPALIVE_S = 0.5
ARMED_KEEPALIVE_S = 0.5
TEMPERATURE_MAX_AGE_S = 5.0


class MagstimDriver(Stimulator):
    """Base of `Magstim200Driver`, `BiStimDriver` and `RapidDriver`.

    Options: `transport` (an open `Transport`, replaces opening `port_url`),
    `reply_timeout_s` (default 0.5), `keepalive` (default True; False for tests that tick
    the keep-alive by hand with `keepalive_tick()`).
    """

    vendor = "Magstim"

    def __init__(
        self,
        port_url: str,
        *,
        clock: Clock | None = None,
        transport: Transport | None = None,
        reply_timeout_s: float = 0.5,
        keepalive: bool = True,
    ) -> None:
        super().__init__(port_url, clock=clock, transport=transport)
        self._reply_timeout_s = reply_timeout_s
        self._keepalive_enabled = keepalive
        self._link: MagstimLink | None = None
        self._last_instr: InstrumentStatus | None = None
        self._temperature: tuple[float, float] | None = None
        self._temperature_at: float | None = None
        self._temperature_supported = True
        self._host_armed = False  # the host armed the unit and has not disarmed it since
        self._error_code: str | None = None
        self.keepalive = KeepAlive(
            send=self._send_keepalive,
            period=self._keepalive_period,
            clock=self.clock,
            on_error=self._report_fault,
            name=f"stimctl-keepalive-{self.model}",
        )

    # -- the wire ------------------------------------------------------------------

    @property
    def version(self) -> Version:
        """Software version the frames are built for (Rapid overrides)."""
        return NEWEST

    def transact(self, command: Command) -> Reply:
        """One typed command (`drivers.magstim.commands`), sent and its reply decoded."""
        link = self._require_link()
        reply = link.exchange(command.request(self.version))
        if reply.instr is not None:
            self._last_instr = InstrumentStatus(reply.instr)
            self.keepalive.touch()  # any status-returning command keeps control (A6)
        return reply

    def keepalive_tick(self) -> bool:
        """Send the keep-alive now if due (what the thread does); True if one was sent."""
        return self.keepalive.tick()

    def _require_link(self) -> MagstimLink:
        if self._link is None:
            raise DriverError(f"{self.model} on {self.port_url} is not connected")
        return self._link

    def _keepalive_command(self) -> Command:
        return EnableRemote()  # `Q@` (A6), re-sent as-is; Rapid v9+ overrides

    def _send_keepalive(self) -> None:
        self.transact(self._keepalive_command())
        instr = self._last_instr
        if instr is not None and not instr.remote:
            log.warning("%s: remote control lost (status %02x)", self.model, instr.raw)

    def _keepalive_period(self) -> float:
        instr = self._last_instr
        if instr is None or instr.arm_state is not ArmState.STANDBY:
            return ARMED_KEEPALIVE_S  # unknown counts as armed: fail closed
        return IDLE_KEEPALIVE_S

    def _enable_remote(self) -> Reply:
        return self.transact(EnableRemote())

    # -- hooks ---------------------------------------------------------------------

    def open_link(self) -> None:
        """Open the port only: no handshake, no keep-alive, no state checks.

        For expected-message tests and diagnostics (`transact` works afterwards); a
        session uses `open()`.
        """
        if self._link is None:
            transport = self._given_transport or Transport.open(self.port_url, baudrate=BAUDRATE)
            self._link = MagstimLink(transport, reply_timeout_s=self._reply_timeout_s)

    def close_link(self) -> None:
        """Close the port opened by `open_link`, with no disarm and no release."""
        link, self._link = self._link, None
        if link is not None:
            link.transport.close()

    def _do_open(self) -> None:
        self.open_link()
        self._prepare()
        self._enable_remote()
        if self._keepalive_enabled:
            self.keepalive.start()

    def _prepare(self) -> None:
        """Before remote control: read whatever the frames depend on (Rapid: version)."""

    def _do_close(self) -> None:
        self.keepalive.stop()
        link = self._link
        if link is None:
            return
        try:
            if not link.transport.closed:
                self.transact(DisableRemote())  # hand control back to the UI (A4 `R`)
        except StimctlError as exc:
            log.info("%s: could not release remote control: %s", self.model, exc)
        finally:
            link.transport.close()
            self._link = None

    def _do_identify(self) -> DeviceIdentity:
        return DeviceIdentity(vendor=self.vendor, model=self.model)

    def _read_status(self) -> InstrumentStatus:
        """A status-returning command that does not change anything."""
        return self.transact(self._keepalive_command()).status

    def _do_status(self) -> DeviceStatus:
        instr = self._read_status()
        read_at = self.clock.now()
        if self._host_armed and instr.arm_state is ArmState.STANDBY:
            # The unit disarmed itself. Its over-temperature cut-off is one cause (A7):
            # read the coil now, not up to 5 s later, so the session sees the cause (DEV-1)
            # in the same status as the effect.
            self._host_armed = False
            self._temperature_at = None
        return DeviceStatus(
            arm_state=instr.arm_state,
            remote_control=instr.remote,
            coil_present=instr.coil_present,
            coil_temperature_c=self._coil_temperature(),
            error_code=self._read_error_code(instr),
            read_at=read_at,
        )

    def _coil_temperature(self) -> float | None:
        """The hotter winding, re-read at most every few seconds (it costs 9 bytes)."""
        if not self._temperature_supported:
            return None
        now = self.clock.now()
        fresh = (
            self._temperature_at is not None and now - self._temperature_at < TEMPERATURE_MAX_AGE_S
        )
        if not fresh:
            try:
                self.read_temperature()
            except DeviceRejected:
                # `F` is not in TDb086/087 (A4, UNCERTAIN): a unit may not know it.
                self._temperature_supported = False
                return None
        return None if self._temperature is None else max(self._temperature)

    def read_temperature(self) -> tuple[float, float]:
        """Both coil windings in deg C (A4 `F`)."""
        reply = self.transact(GetTemperature())
        if reply.coil1_c is None or reply.coil2_c is None:
            raise ProtocolError("temperature reply without temperatures")
        self._temperature = (reply.coil1_c, reply.coil2_c)
        self._temperature_at = self.clock.now()
        return self._temperature

    def _read_error_code(self, instr: InstrumentStatus) -> str | None:
        return "error" if instr.error else None

    def _do_arm(self) -> None:
        self.transact(Arm())
        self._host_armed = True
        self.keepalive.reschedule()  # 500 ms from now on

    def _do_disarm(self) -> None:
        self._host_armed = False
        self.transact(Disarm())  # `EA` works even without remote control (A4)
        self.keepalive.reschedule()

    def _do_fire(self) -> None:
        self.transact(Fire())
