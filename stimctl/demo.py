"""`make demo`: check every shipped protocol for an example subject and print verdicts.

The example subject has an EMG resting motor threshold of 55% MSO measured today on the
device used, a Magstim Super Rapid² Plus (240 V); the site rules are the shipped default
(clinical mode, no accelerated schedules).
"""

from __future__ import annotations

import datetime as dt
import sys

from rich.console import Console
from rich.table import Table

from stimctl.cli.render import VERDICT_STYLE
from stimctl.configs import names_in
from stimctl.device_profiles import load_profile
from stimctl.errors import StimctlError
from stimctl.protocol import load_protocol
from stimctl.safety import MotorThreshold, Subject
from stimctl.safety.engine import evaluate
from stimctl.site import load_site

DEVICE = "magstim-rapid2-super-plus-240v"
RMT_PERCENT_MSO = 55.0


def verdict_table() -> Table:
    now = dt.datetime.now(dt.UTC)
    device = load_profile(DEVICE)
    subject = Subject(MotorThreshold(RMT_PERCENT_MSO, "emg", now.date(), device=DEVICE))
    site = load_site()
    table = Table(title=f"Shipped protocols, RMT {RMT_PERCENT_MSO:g}% MSO (EMG), {device.title}")
    for column in ("protocol", "class", "pulses", "% MSO", "verdict", "deciding finding"):
        table.add_column(column, overflow="fold")
    for name in names_in("protocols"):
        verdict = evaluate(load_protocol(name), subject, now=now, device=device, site=site)
        deciding = verdict.deciding()
        reason = (
            "; ".join(f"{f.rule}: {f.message}" for f in deciding)
            if verdict.verdict.value != "allow"
            else f"{len(verdict.findings)} checks passed"
        )
        style = VERDICT_STYLE[verdict.verdict.value]
        table.add_row(
            name,
            str(verdict.derived["protocol_class"]),
            str(verdict.derived["total_pulses"]),
            f"{verdict.derived['dose_percent_mso']:g}",
            f"[{style}]{verdict.verdict.value}[/]",
            reason,
        )
    return table


def main() -> int:
    console = Console()
    try:
        console.print(verdict_table())
    except StimctlError as exc:
        print(f"stimctl demo: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
