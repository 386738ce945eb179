"""Whether a measurement's result goes into the record store (`--store/--no-store`).

The rule `rmt curve` follows, shared by `rmt paired` and `rmt hotspot`: by default the
operator's measurements on a person are stored and replays are not; a virtual subject's
or a simulated device's never is (asking for it is refused before any pulse). The subject
must be on record before the first pulse, not found missing after the last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from stimctl.errors import ConfigError

if TYPE_CHECKING:
    from stimctl.cli.measure_rig import Rig, RigRequest
    from stimctl.rmt.results_store import JournalLink, ResultSource

STORE_OPTION = click.option(
    "--store/--no-store",
    default=None,
    help="Store the result in the records [yes for the operator's, no for replays; never virtual].",
)


def decide_store(request: RigRequest, store: bool | None, what: str) -> bool:
    """True if the result is to be stored; refuses a virtual or simulated one."""
    wiring = request.wiring()
    if request.virtual_rmt is not None and store:
        raise ConfigError(f"a virtual subject's {what} is never stored in the records")
    if wiring.fired_by == "simulator" and store:
        raise ConfigError(f"a {what} measured on a simulated device is never stored")
    dry = request.simulated_responses or wiring.fired_by == "simulator"
    decided = (request.amplitudes is None and not dry) if store is None else store
    if decided:
        from stimctl.records import Store, get_subject

        with Store.open() as records:
            get_subject(records, request.subject)  # an unknown subject is a ConfigError
    return decided


def source_of(request: RigRequest) -> ResultSource:
    return "replay" if request.amplitudes is not None else "operator"


def journal_link(rig: Rig) -> JournalLink | None:
    """The finished journal of what the rig fired (None when nothing was fired)."""
    from stimctl.rmt.results_store import JournalLink

    if rig.journal is None:
        return None
    return JournalLink(rig.journal.journal.session_id, rig.journal.journal.head)
