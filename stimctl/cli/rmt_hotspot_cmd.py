"""`stimctl rmt hotspot`: search the motor hotspot over a grid of coil positions.

The operator moves the coil to each named position (asked on the terminal, Enter to go
on), `--per-position` pulses there at `--intensity` % MSO, paced like the hunts; the
median MEP per position is shown as a heat map (`--out DIR`: JSON and HTML) and the
position with the largest median is proposed. Wiring as for `rmt hunt` and `rmt curve`
(stimctl.cli.measure_rig). A virtual subject (`--virtual-rmt`) sits at a known hotspot
(`--virtual-hotspot NAME`, default the grid centre) with MEPs falling off with distance
(entry point `virtual-spatial`); the virtual coil moves where the plan says.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stimctl.cli.measure_common import Measure, measurement_options
from stimctl.cli.options import Bounded
from stimctl.cli.rmt_store_policy import STORE_OPTION
from stimctl.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from stimctl.rmt import MepSource
    from stimctl.rmt.device import HuntDevice
    from stimctl.rmt.hotspot import GridPosition, HotspotPulse

_PERCENT = click.IntRange(1, 100)
SPATIAL = "virtual-spatial"


@click.command()
@click.argument("subject")
@click.option("--intensity", type=_PERCENT, required=True, help="Search intensity, % MSO.")
@click.option("--grid", default="3x3", show_default=True, help="ROWSxCOLUMNS (rows A.., cols 1..).")
@click.option("--spacing", type=Bounded(1, 50), default=10.0, show_default=True, help="mm.")
@click.option(
    "--positions",
    "positions_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Positions file instead of --grid: NAME,X_MM,Y_MM per line.",
)
@click.option("--per-position", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option("--max-intensity", type=_PERCENT, default=100, show_default=True, help="Cap.")
@click.option(
    "--virtual-hotspot", default=None, metavar="NAME", help="Virtual subject's hotspot position."
)
@measurement_options(
    amplitudes_help="Replay amplitudes (µV, one per pulse in delivery order).",
    out_help="Directory for the JSON record and the HTML heat map.",
    store_option=STORE_OPTION,
)
def hotspot(
    subject: str,
    intensity: int,
    grid: str,
    spacing: float,
    positions_file: Path | None,
    per_position: int,
    max_intensity: int,
    virtual_hotspot: str | None,
    store: bool | None,
    measure: Measure,
) -> int:
    """Search SUBJECT's motor hotspot: median MEP per coil position, the largest proposed."""
    from stimctl.cli.measure_rig import journaled_stimulate, open_rig
    from stimctl.cli.rmt_store_policy import decide_store, journal_link, source_of
    from stimctl.rmt.hotspot import HotspotPlan, parse_grid, parse_positions, run_hotspot
    from stimctl.rmt.hotspot_report import render_hotspot_html

    if positions_file is not None:
        try:
            positions = parse_positions(positions_file.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read positions file {positions_file}: {exc}") from None
    else:
        positions = parse_grid(grid, spacing)
    plan = HotspotPlan(positions, intensity, per_position, max_intensity)
    virtual_rmt = measure.virtual_rmt
    if virtual_hotspot is not None and virtual_rmt is None:
        raise ConfigError("--virtual-hotspot places a virtual subject; give --virtual-rmt too")
    request = measure.request(subject, "hotspot-search")
    wiring = request.wiring()
    store_result = decide_store(request, store, "hotspot search")
    measure.check_speed(request)
    pulses = len(positions) * per_position
    pacing = measure.pacing(wiring, max_intensity=max_intensity, pulses=pulses)
    clock = measure.clock(wiring)
    rng = measure.rng("hotspot")

    spatial: Any = None
    if virtual_rmt is not None:
        from stimctl.rmt.registry import load_mep_source_factory

        place = _position(positions, virtual_hotspot) if virtual_hotspot else None
        hotspot_mm = (0.0, 0.0) if place is None else (place.x_mm, place.y_mm)
        factory: Any = load_mep_source_factory(SPATIAL)
        spatial = factory(virtual_rmt, measure.seed, hotspot_mm)

    def simulated(device: HuntDevice) -> MepSource:
        # The spatial subject goes under the simulated coil; the MEPs are read back from
        # the device's own pulse log, as in a hunt.
        device.simulator.attach_subject(spatial)
        return device.emg_source()

    with open_rig(
        request,
        clock=clock,
        prompts_to_stderr=measure.as_json,
        start={"plan": plan.as_dict()},
        simulator_source=simulated,
    ) as rig:
        source: MepSource = rig.source
        if spatial is not None and rig.device is None:
            source = spatial

        def move(position: GridPosition) -> None:
            if rig.device is not None:
                # Disarmed while the coil moves: no pulse can go off over the wrong spot.
                rig.device.stimulate.driver.disarm()
            if rig.journal is not None:
                rig.journal.journal.append(
                    "operator", {"action": "coil-position", "position": position.name}
                )
            if spatial is not None:
                spatial.move_to(position.x_mm, position.y_mm)
                return
            if measure.amplitudes is not None:
                return  # a replay: the coil moved when it was recorded
            click.prompt(
                f"Move the coil to {position.name} (x {position.x_mm:g} mm, "
                f"y {position.y_mm:g} mm) and press Enter",
                default="",
                show_default=False,
                err=measure.as_json,
            )

        def show(pulse: HotspotPulse) -> None:
            if rig.journal is not None:
                rig.journal.reading(pulse.index - 1, {"amplitude_uv": pulse.amplitude_uv,
                                                      "position": pulse.position})  # fmt: skip
            if not measure.as_json:
                click.echo(f"{pulse.index:4d}  {pulse.position:>5}  {pulse.amplitude_uv:9.1f} uV")

        result = run_hotspot(
            plan,
            source,
            clock=clock,
            move=move,
            stimulate=journaled_stimulate(rig),
            interval=pacing,
            rng=rng,
            on_pulse=show,
        )
        if rig.journal is not None:
            rig.journal.finish(None, summary={"proposed": result.proposed.name,
                                              "median_uv": result.medians()})  # fmt: skip
    stored_id = None
    if store_result:
        from stimctl.records import Store
        from stimctl.rmt.results_store import record_hotspot

        with Store.open() as records:
            stored_id = record_hotspot(
                records, subject, result, source=source_of(request), journal=journal_link(rig)
            ).id
    measure.report(
        rig,
        subject,
        result.as_dict(),
        stored=stored_id,
        name="hotspot",
        what="hotspot search",
        virtual={"virtual_hotspot": virtual_hotspot},
        html=lambda: render_hotspot_html(subject, result),
    )
    if not measure.as_json:
        best = result.proposed
        click.echo(
            f"proposed hotspot {best.name} (x {best.x_mm:g} mm, y {best.y_mm:g} mm): median "
            f"MEP {result.medians()[best.name]:.0f} uV ({len(result.pulses)} pulses)"
        )
    if stored_id is not None and not measure.as_json:
        click.echo(f"stored as hotspot search {stored_id} for {subject}")
    return ExitCode.OK


def _position(positions: tuple[GridPosition, ...], name: str) -> GridPosition:
    for position in positions:
        if position.name == name:
            return position
    raise ConfigError(
        f"--virtual-hotspot {name!r} is not a position of the grid "
        f"({positions[0].name}..{positions[-1].name})"
    )
