"""`stimctl sim serve SPEC`: a byte-level simulator on a pseudo-terminal.

SPEC is what follows `stimsim://` in a port URL, e.g.
'magstim-rapid2?version=10&unlock_code=abcd-0123abcd-5e'. The first line of output is
`PTY <path>`; open that path with any serial client. SIGINT or SIGTERM stops the server,
which prints one closing line and exits 0. A bad SPEC is a ConfigError (exit 2).

Wire time (issue 18 item 5) is on by default here: the served device takes 10 bits per
byte at its baud rate, as a real cable does (`--no-wire-time` or `wire_time=0` in SPEC
turns it off). `--trigger sim://NAME` cables a simulated trigger wire to the unit's
Trigger In and serves it to other processes (Linux), so `stimctl run ... --trigger
sim://NAME` fires the served unit through it; the second line of output is then
`TRIGGER sim://NAME`.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import click


@click.group()
def sim() -> None:
    """Byte-level stimulator simulators."""


@sim.command("serve")
@click.argument("spec")
@click.option(
    "--trigger",
    "trigger_url",
    default=None,
    metavar="sim://NAME",
    help="Cable the simulated trigger wire NAME to the unit's Trigger In (Rapid², MagPro).",
)
@click.option(
    "--wire-time/--no-wire-time",
    default=True,
    show_default=True,
    help="Model the serial byte time at the unit's baud rate (10 bits per byte).",
)
def serve_cmd(spec: str, trigger_url: str | None, wire_time: bool) -> None:
    """Serve the simulator SPEC (e.g. 'magpro-x100?magoption=1') on a pty."""
    # stimctl never imports `simulators` by name (ARCHITECTURE rule 1): the package is
    # found through the `stimctl.simulators` entry point, as dry runs find it.
    from contextlib import ExitStack
    from urllib.parse import parse_qsl

    from stimctl import simwire
    from stimctl.errors import ConfigError
    from stimctl.session.simulation import simulator_package

    package = simulator_package()
    simulator = package.create_simulator(spec)
    if "wire_time" not in dict(parse_qsl(spec.partition("?")[2], keep_blank_values=True)):
        simulator.wire_time = wire_time
    cleanup = ExitStack()
    if trigger_url is not None:
        if not trigger_url.startswith("sim://"):
            raise ConfigError(f"--trigger {trigger_url!r}: a served simulator takes sim://NAME")
        name = simwire.check_name(trigger_url[len("sim://") :].strip("/"))
        try:
            simulator.connect_trigger(name)
        except ValueError as exc:
            raise ConfigError(f"--trigger: {exc}") from None
        cleanup.callback(simulator.disconnect_trigger)
        cleanup.callback(simwire.publish(name, simulator.clock).close)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def announce(path: str) -> None:
        click.echo(f"PTY {path}")
        if simulator.trigger_wire is not None:
            click.echo(f"TRIGGER sim://{simulator.trigger_wire}")
        sys.stdout.flush()

    wired = simulator.trigger_wire
    try:
        with cleanup:
            package.serve_pty(simulator, stop, announce)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    pulses = simulator.pulses
    triggered = sum(1 for p in pulses if getattr(p, "via", "serial") == "trigger")
    through = f" ({triggered} through the trigger)" if wired else ""
    click.echo(f"stopped: {simulator.model}, {len(pulses)} pulses delivered{through}")


@sim.command("emg")
@click.option(
    "--subject-rmt",
    type=click.FloatRange(1, 200),
    required=True,
    help="True resting motor threshold of the virtual subject, % MSO.",
)
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None, help="Subject seed.")
@click.option("--name", default="stimctl-emg", show_default=True, help="EMG stream name.")
@click.option(
    "--markers",
    default="stimctl-markers",
    show_default=True,
    help="Marker stream to hear pulses on (stimctl's --lsl NAME).",
)
@click.option("--noise-uv", type=click.FloatRange(0, 1000), default=1.5, show_default=True)
@click.option("--hum-uv", type=click.FloatRange(0, 1000), default=2.0, show_default=True)
@click.option(
    "--burst-rate",
    type=click.FloatRange(0, 10),
    default=0.02,
    show_default=True,
    help="Background EMG bursts per second (a muscle not quite at rest).",
)
@click.option("--burst-uv", type=click.FloatRange(0, 5000), default=120.0, show_default=True)
def emg_cmd(
    subject_rmt: float,
    seed: int | None,
    name: str,
    markers: str,
    noise_uv: float,
    hum_uv: float,
    burst_rate: float,
    burst_uv: float,
) -> None:
    """Publish a synthetic EMG stream over LSL: a virtual subject's MEPs at each pulse.

    Pulses are heard on the marker stream of `run`, `dry-run` or `rmt hunt` with `--lsl`.
    The first line of output says the stream is on the air; SIGINT or SIGTERM stops it.
    """
    from stimctl.lab.lsl import require_pylsl
    from stimctl.session.simulation import simulator_package

    require_pylsl()
    package = simulator_package()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def announce(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()

    try:
        stats = package.serve_emg(
            subject_rmt,
            seed,
            stop,
            announce,
            name=name,
            markers=markers,
            noise_uv=noise_uv,
            hum_uv=hum_uv,
            burst_rate_hz=burst_rate,
            burst_uv=burst_uv,
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"stopped: {stats.pulses} pulses heard, {stats.late_pulses} too late for their MEP")
