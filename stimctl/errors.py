"""The one error tree of stimctl (ARCHITECTURE rule 8).

Every error carries the process exit code the CLI uses for it, so a failure anywhere
becomes one clear line and a distinct exit code, never a traceback.
"""

from __future__ import annotations


class ExitCode:
    """Process exit codes shared by every command."""

    OK = 0
    OVERRIDE_REQUIRED = 1  # the safety verdict needs an override (operator and reason)
    BAD_INPUT = 2  # usage errors, malformed files, unknown names, wrong units
    BLOCKED = 3  # safety verdict `block`, or a runtime safety violation
    DEVICE = 4  # the device refused, replied garbage or did not reply
    CONNECTION = 5  # the link to the device is gone
    STATE = 6  # a command not allowed in the current state; `journal verify`: unfinished
    RECORDS = 7  # the record store is unreadable or inconsistent
    TAMPERED = 8  # `journal verify`, `report`, `records audit`: a journal or row was altered
    DISARM_UNCONFIRMED = 9  # the device did not confirm a disarm: switch the stimulator off
    AUTH = 10  # unknown/disabled operator, wrong credential, locked account, or wrong role
    ADVERSE_EVENT = 11  # a serious adverse event ended the session
    EMG_STREAM = 12  # the live EMG stream is missing, silent or broken (threshold hunts)
    NOT_CONFIRMED = 13  # headless `run`: the operator did not type the confirmation
    INTERNAL = 70  # a bug in stimctl (EX_SOFTWARE)
    INTERRUPTED = 130


class StimctlError(Exception):
    """Base of every error stimctl raises on purpose."""

    exit_code: int = ExitCode.BAD_INPUT


class ConfigError(StimctlError):
    """A protocol, profile, table or site file is missing, malformed or out of range.

    `details` lists every problem of a file, one line each (the CLI prints them under the
    error line): a newcomer fixes a file in one round, not one problem per run.
    """

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, message: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.details = details


class SafetyViolation(StimctlError):
    """A safety rule refused a protocol or a runtime command."""

    exit_code = ExitCode.BLOCKED

    def __init__(self, message: str, rule: str = "", source: str = "") -> None:
        super().__init__(message)
        self.rule = rule
        self.source = source


class OverrideRequired(SafetyViolation):
    """The verdict is `override` and no operator and reason were given."""

    exit_code = ExitCode.OVERRIDE_REQUIRED


class AuthError(StimctlError):
    """An unknown or disabled operator, a wrong credential, a locked account, or a role
    that may not do what was asked (21 CFR 11.10(d), (g))."""

    exit_code = ExitCode.AUTH


class NotConfirmed(StimctlError):
    """The operator did not type the subject id (or `start`) the headless `run` asked
    for: nothing was started, no pulse delivered."""

    exit_code = ExitCode.NOT_CONFIRMED


class StateError(StimctlError):
    """A command that the current state does not allow."""

    exit_code = ExitCode.STATE


class NotReadyYet(StateError):
    """The unit is armed but still recharging when a pulse is due (not READY, not in
    standby): the engine may wait briefly for it (`stimctl.session.delivery`)."""


class RecordsError(StimctlError):
    """The SQLite record store or a journal cannot be read or written consistently."""

    exit_code = ExitCode.RECORDS


class EmgStreamError(StimctlError):
    """A live EMG stream (LSL) could not be found, fell silent, or broke mid-hunt: no
    MEP can be measured, so the hunt stops and the device is disarmed (issue 18)."""

    exit_code = ExitCode.EMG_STREAM


class DriverError(StimctlError):
    """Anything that went wrong between stimctl and a stimulator."""

    exit_code = ExitCode.DEVICE


class UnknownDriver(DriverError):
    """No driver of that name is registered, or it failed to load."""

    exit_code = ExitCode.BAD_INPUT


class TransportError(DriverError):
    """The serial port could not be opened, read or written."""

    exit_code = ExitCode.CONNECTION


class ConnectionLost(TransportError):
    """The port vanished (a pulled cable, a closed pty, a dead simulator)."""


class EncodingError(DriverError):
    """A value reached a codec that cannot encode it (wrong type, too many digits): the
    driver did not check it first, which is a bug in stimctl, not a safety refusal and
    not a device fault (issue 14 item 6)."""

    exit_code = ExitCode.INTERNAL


class DeviceTimeout(DriverError):
    """The device did not send the expected number of bytes before the deadline."""


class ProtocolError(DriverError):
    """The device replied with bytes that do not parse as the protocol says."""


class ChecksumError(ProtocolError):
    """A frame arrived whose checksum or CRC does not match its contents."""


class DeviceRejected(ProtocolError):
    """The device answered with an error reply (for example Magstim `?` or `<cmd>?`)."""


class OutputStateMismatch(DriverError):
    """Before arming, the device read back an output setting other than the planned one
    (issue 12 item 1): it is not armed. Names the parameter, the wanted and the read value."""

    def __init__(self, model: str, port: str, parameter: str, wanted: object, read: object) -> None:
        super().__init__(
            f"{model} on {port}: {parameter} reads {read!r}, planned {wanted!r}; "
            "not arming (set it on the device or check the device profile)"
        )
        self.model = model
        self.port = port
        self.parameter = parameter
        self.wanted = wanted
        self.read = read
