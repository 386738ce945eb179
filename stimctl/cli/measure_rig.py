"""Who fires and who reads the MEPs of a measurement (curve, paired pulses, hotspot).

The same wiring as `stimctl rmt hunt` (stimctl.cli.rmt_hunt_cmd): `--device MODEL
--port URL` fires through the stimulator's driver (disarmed and closed however the
measurement ends, every trigger journaled before its response), `--port stimsim://...` or
`--device MODEL --virtual-rmt PCT` through the profile's built-in simulator, otherwise
nothing is fired by stimctl and the source stands for the pulse.

MEPs come from one of: a virtual subject (`--virtual-rmt`), a replayed file
(`--amplitudes`), any entry point of the group `stimctl.mep_sources` (`--mep-source
NAME`, for instance a live EMG stream added by a plug-in), or the operator typing each
amplitude.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stimctl.errors import ConfigError

if TYPE_CHECKING:
    from stimctl.cli.rmt_hunt_cmd import Wiring
    from stimctl.clock import Clock
    from stimctl.rmt import MepSource
    from stimctl.rmt.device import HuntDevice
    from stimctl.rmt.journaling import HuntJournal


def device_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--device`, `--port`, `--driver-option`, `--mep-source`: as for `rmt hunt`."""
    for option in reversed(
        (
            click.option(
                "--device",
                default=None,
                help="Device profile (MODEL): fires with --port; simulated with --virtual-rmt.",
            ),
            click.option(
                "--port",
                default=None,
                help="Port URL of the stimulator (needs --device); stimsim://... simulates it.",
            ),
            click.option(
                "--driver-option",
                "driver_options",
                multiple=True,
                metavar="KEY=VALUE",
                help="Driver option, e.g. unlock_code=... for a Rapid².",
            ),
            click.option(
                "--mep-source",
                default=None,
                metavar="NAME",
                help="MEPs from this entry point of stimctl.mep_sources (e.g. a live EMG).",
            ),
        )
    ):
        command = option(command)
    return command


@dataclass(frozen=True)
class RigRequest:
    """The options that decide the wiring, checked before anything is opened."""

    subject: str
    kind: str
    device: str | None
    port: str | None
    driver_options: tuple[str, ...]
    virtual_rmt: float | None
    seed: int | None
    amplitudes: Path | None
    mep_source: str | None
    rmt: float | None = None

    def wiring(self) -> Wiring:
        from stimctl.cli.rmt_hunt_cmd import _wiring

        sources = [
            name
            for name, given in (
                ("--virtual-rmt", self.virtual_rmt is not None),
                ("--amplitudes", self.amplitudes is not None),
                ("--mep-source", self.mep_source is not None),
            )
            if given
        ]
        if len(sources) > 1:
            raise ConfigError(f"{' and '.join(sources)} are different MEP sources; give one")
        wiring = _wiring(self.device, self.port, self.virtual_rmt, self.amplitudes)
        if self.driver_options and wiring.fired_by is None:
            raise ConfigError("--driver-option needs a device to fire through (--device, --port)")
        return wiring

    @property
    def simulated_responses(self) -> bool:
        """The MEPs are made up or replayed (never stored as a subject's measurement)."""
        return self.virtual_rmt is not None or self.amplitudes is not None


@dataclass
class Rig:
    """An open measurement rig: the device (None: nothing fired), the journal of what it
    fired (None when nothing is fired), and where the MEPs come from."""

    device: HuntDevice | None
    journal: HuntJournal | None
    source: MepSource
    wiring: Wiring

    @property
    def disarmed(self) -> bool | None:
        if self.device is None or self.device.stimulate.stop_report is None:
            return None
        return self.device.stimulate.stop_report.disarmed


@contextlib.contextmanager
def open_rig(
    request: RigRequest,
    *,
    clock: Clock,
    prompts_to_stderr: bool,
    start: dict[str, Any] | None = None,
    simulator_source: Callable[[HuntDevice], MepSource] | None = None,
) -> Iterator[Rig]:
    """Open the stimulator (if any), the journal and the MEP source.

    `simulator_source(device)`: the MEP source of a simulated device with a virtual
    subject (default: `HuntDevice.emg_source`, the MEPs the simulator logged).
    A measurement that raises is journaled as a fault (or stopped on Ctrl-C) and the
    device is disarmed before the error goes on.
    """
    from stimctl.cli.rmt_hunt_cmd import _key_values, _redacted, _stimulator, _warn

    wiring = request.wiring()
    with _stimulator(
        wiring,
        clock,
        request.virtual_rmt,
        request.seed,
        _key_values(request.driver_options),
        warn=_warn,
    ) as device:
        if device is not None and device.simulated and request.virtual_rmt is not None:
            source = (simulator_source or _emg_source)(device)
        else:
            source = mep_source(
                request, prompts_to_stderr=prompts_to_stderr, device_fires=device is not None
            )
        journal = None
        if device is not None:  # pulses fired through a stimulator are journaled
            from stimctl.rmt.journaling import HuntJournal

            header = {
                "subject": request.subject,
                "device": None if wiring.profile is None else wiring.profile.name,
                "port": None if request.port is None else _redacted(request.port),
                "fired_by": wiring.fired_by,
                **(start or {}),
            }
            journal = HuntJournal.start(clock=clock, start=header, kind=request.kind)
        rig = Rig(device, journal, source, wiring)
        try:
            yield rig
        except BaseException as exc:
            if journal is not None:
                stopped = isinstance(exc, KeyboardInterrupt)
                journal.finish(None, error=str(exc) or type(exc).__name__, stopped=stopped)
            raise


def _emg_source(device: HuntDevice) -> MepSource:
    return device.emg_source()


def mep_source(request: RigRequest, *, prompts_to_stderr: bool, device_fires: bool) -> MepSource:
    """The MEP source of a measurement that does not read a simulated device."""
    from stimctl.cli.rmt_hunt_cmd import _source
    from stimctl.rmt.registry import load_mep_source_factory

    if request.mep_source is not None:
        # Plug-ins get the threshold the measurement refers to (a live EMG ignores it).
        reference = request.rmt if request.rmt is not None else 0.0
        return load_mep_source_factory(request.mep_source)(reference, request.seed)
    return _source(
        request.virtual_rmt,
        request.seed,
        request.amplitudes,
        prompts_to_stderr=prompts_to_stderr,
        device_fires=device_fires,
    )


def journaled_stimulate(rig: Rig) -> Callable[[int], None] | None:
    """The device's single-pulse stimulate, each trigger journaled once fired."""
    from stimctl.cli.rmt_hunt_cmd import _journaled

    if rig.device is None:
        return None
    return _journaled(rig.device, rig.journal)
