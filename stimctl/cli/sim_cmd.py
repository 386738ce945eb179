"""`stimctl sim serve SPEC`: a byte-level simulator on a pseudo-terminal.

SPEC is what follows `stimsim://` in a port URL, e.g.
'magstim-rapid2?version=10&unlock_code=abcd-0123abcd-5e'. The first line of output is
`PTY <path>`; open that path with any serial client. SIGINT or SIGTERM stops the server,
which prints one closing line and exits 0. A bad SPEC is a ConfigError (exit 2).
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
def serve_cmd(spec: str) -> None:
    """Serve the simulator SPEC (e.g. 'magpro-x100?magoption=1') on a pty."""
    # stimctl never imports `simulators` by name (ARCHITECTURE rule 1): the package is
    # found through the `stimctl.simulators` entry point, as dry runs find it.
    from stimctl.session.simulation import simulator_package

    package = simulator_package()
    simulator = package.create_simulator(spec)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def announce(path: str) -> None:
        click.echo(f"PTY {path}")
        sys.stdout.flush()

    try:
        package.serve_pty(simulator, stop, announce)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"stopped: {simulator.model}, {len(simulator.pulses)} pulses delivered")


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
