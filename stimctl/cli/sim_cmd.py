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
