"""`--lsl [NAME]` for `run`, `dry-run` and `rmt hunt`: publish the journal as LSL markers
(stimctl.lab.markers; docs/lab-integration.md)."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from stimctl.clock import Clock
    from stimctl.journal.writer import JournalListener

CONSUMER_WAIT_S = 2.0
"""How long `--lsl` waits for a recorder to connect before the first record."""

CONSUMER_SETTLE_S = 0.6
"""After the first consumer: long enough for another's resolve to come round (0.5 s)."""

LSL_OPTION = click.option(
    "--lsl",
    "lsl",
    is_flag=False,
    flag_value="stimctl-markers",
    default=None,
    metavar="[NAME]",
    help="Publish one LSL marker per pulse and state change (stream NAME, "
    "default stimctl-markers).",
)


def lab_listeners(
    clock: Clock, lsl: str | None, source: object, stack: contextlib.ExitStack
) -> tuple[JournalListener, ...]:
    """The journal listeners a command needs: the marker outlet (`--lsl`), and the pulse
    clock of a live EMG source (anything with `bind(clock)`). Closed with `stack`."""
    listeners: list[JournalListener] = []
    if lsl is not None:
        from stimctl.lab.markers import MarkerOutlet

        outlet = MarkerOutlet(clock, lsl)
        stack.callback(outlet.close)
        listeners.append(outlet)
        # A recorder started with the session must not miss its first markers; once one
        # is connected, others started with it (an EMG simulator) get a moment more.
        if outlet.wait_for_consumers(CONSUMER_WAIT_S):
            time.sleep(CONSUMER_SETTLE_S)
        else:
            click.echo(
                f"stimctl: note: no LSL consumer on marker stream {lsl!r} yet; "
                "markers are published anyway",
                err=True,
            )
    bind = getattr(source, "bind", None)
    if bind is not None:
        listeners.append(bind(clock))
    return tuple(listeners)
