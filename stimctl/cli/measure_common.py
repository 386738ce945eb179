"""What `rmt curve`, `rmt paired` and `rmt hotspot` share around their own measurement.

The common options (virtual subject, replay, pacing, speed, output folder, JSON, device
wiring) are declared once by `measurement_options`, which hands the command one
`Measure` instead of a dozen keyword arguments; `Measure` holds the checks and the
set-up every measurement makes the same way, and `Measure.report` the payload, the
`--out` files and the `--json` print.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stimctl.cli.measure_rig import RigRequest, device_options
from stimctl.cli.options import PERCENT_MSO, Bounded
from stimctl.errors import ConfigError

if TYPE_CHECKING:
    from stimctl.cli.measure_rig import Rig
    from stimctl.cli.rmt_hunt_cmd import Wiring
    from stimctl.clock import Clock
    from stimctl.rmt.runner import PulseInterval


@dataclass(frozen=True)
class Measure:
    """The options every measurement command takes."""

    virtual_rmt: float | None
    seed: int | None
    amplitudes: Path | None
    interval: float
    jitter: float
    speed: str
    out: Path | None
    as_json: bool
    device: str | None
    port: str | None
    driver_options: tuple[str, ...]
    mep_source: str | None

    def request(self, subject: str, kind: str, rmt: float | None = None) -> RigRequest:
        return RigRequest(
            subject, kind, self.device, self.port, self.driver_options, self.virtual_rmt,
            self.seed, self.amplitudes, self.mep_source, rmt=rmt,
        )  # fmt: skip

    def rmt_request(
        self, subject: str, kind: str, rmt: float | None, *, why: str
    ) -> tuple[float, RigRequest, Wiring]:
        """The RMT the measurement refers to (`--rmt`, else the virtual subject's), the
        request and its wiring, with the options checked before anything is opened."""
        threshold = rmt if rmt is not None else self.virtual_rmt
        if threshold is None:
            raise ConfigError(f"--rmt is needed: {why}")
        request = self.request(subject, kind, rmt=float(threshold))
        wiring = request.wiring()  # refuses contradictory options before anything else
        self.check_speed(request)
        return float(threshold), request, wiring

    def check_speed(self, request: RigRequest) -> None:
        if self.speed == "max" and not request.simulated_responses:
            raise ConfigError("--speed max is only for a virtual subject or a replay")

    def pacing(self, wiring: Wiring, *, max_intensity: int, pulses: int) -> PulseInterval:
        """The pulse interval, refused before any pulse if the device cannot keep it."""
        from stimctl.rmt.methods.base import HuntLimits
        from stimctl.rmt.runner import PulseInterval

        pacing = PulseInterval(self.interval, self.jitter)
        if wiring.profile is not None and wiring.fired_by is not None:
            from stimctl.rmt.device import check_hunt_fits_device

            check_hunt_fits_device(wiring.profile, HuntLimits(max_intensity, 1, pulses), pacing)
        return pacing

    def clock(self, wiring: Wiring) -> Clock:
        from stimctl.clock import MonotonicClock, SimulatedClock, VirtualClock

        if self.speed != "max":
            return MonotonicClock()
        # A simulated device shares the timeline with its driver's threads.
        return SimulatedClock() if wiring.fired_by == "simulator" else VirtualClock()

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{name}-{self.seed}") if self.seed is not None else random.Random()

    def report(
        self,
        rig: Rig,
        subject: str,
        result: dict[str, Any],
        *,
        stored: str | None,
        name: str,
        what: str,
        virtual: dict[str, Any] | None = None,
        html: Callable[[], str] | None = None,
    ) -> dict[str, Any]:
        """The result's payload, written to `--out` (`<subject>-<name>.json`, and `.html`
        when given) and printed with `--json`."""
        wiring = rig.wiring
        payload: dict[str, Any] = {
            "subject": subject,
            "device": None if wiring.profile is None else wiring.profile.name,
            "fired_by": wiring.fired_by or "none",
            "disarmed": rig.disarmed,
            "stored": stored,
            **result,
        }
        if self.virtual_rmt is not None:
            payload["virtual_rmt"] = self.virtual_rmt
            payload.update(virtual or {})
        if self.out is not None:
            try:
                self.out.mkdir(parents=True, exist_ok=True)
                (self.out / f"{subject}-{name}.json").write_text(
                    json.dumps(payload, indent=2) + "\n"
                )
                if html is not None:
                    (self.out / f"{subject}-{name}.html").write_text(html())
            except OSError as exc:
                raise ConfigError(f"cannot write the {what} to {self.out}: {exc}") from exc
        if self.as_json:
            click.echo(json.dumps(payload, indent=2))
        return payload


_FIELDS = tuple(field.name for field in fields(Measure))


def measurement_options(
    *, amplitudes_help: str, out_help: str, store_option: Callable[[Any], Any]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The shared options, after the command's own; the command gets `measure: Measure`
    (and `store`, from `store_option`, whose help text differs between commands)."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            measure = Measure(**{name: kwargs.pop(name) for name in _FIELDS})
            return command(measure=measure, **kwargs)

        options = (
            click.option(
                "--virtual-rmt", type=PERCENT_MSO, default=None, help="Virtual subject's RMT."
            ),
            click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="Seed."),
            click.option(
                "--amplitudes",
                type=click.Path(path_type=Path, dir_okay=False),
                default=None,
                help=amplitudes_help,
            ),
            click.option("--interval", type=Bounded(0, 60), default=5.0, show_default=True),
            click.option("--jitter", type=Bounded(0, 60), default=1.0, show_default=True),
            click.option("--speed", type=click.Choice(["realtime", "max"]), default="realtime"),
            click.option(
                "--out",
                type=click.Path(path_type=Path, file_okay=False),
                default=None,
                help=out_help,
            ),
            store_option,
            click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
        )
        decorated: Callable[..., Any] = device_options(wrapper)
        for option in reversed(options):
            decorated = option(decorated)
        return decorated

    return decorate
