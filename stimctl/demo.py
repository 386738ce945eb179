"""`make demo`: a simulated dry run of a neuropathic-pain session, start to report.

1. The safety verdict of every shipped protocol for the self-test's typical subject (RMT
   55% and AMT 44% MSO by EMG today, scalp-to-cortex distances, age 40) on a Magstim
   Super Rapid² Plus (240 V), at a site allowing accelerated schedules: the same subject,
   site and device as `stimctl selftest`'s device verdicts, so the two agree.
2. A whole session of `np-m1-10hz-90` (10 Hz over M1 at 90% RMT, 40 trains, 2000
   pulses, 19.6 min) on the built-in byte-level simulator, in simulated time.
3. The journal's chain verified, and the session's HTML report written.
"""

from __future__ import annotations

import json
import sys
from io import StringIO

from stimctl.cli import main as cli
from stimctl.testing.expected import REFERENCE_DEVICE, TYPICAL_RMT_PERCENT_MSO

PROTOCOL = "np-m1-10hz-90"
DEVICE = REFERENCE_DEVICE
RMT = f"{TYPICAL_RMT_PERCENT_MSO:g}"


def step(title: str) -> None:
    print(f"\n== {title}")


def main() -> int:
    from stimctl.cli.render import print_verdict_table

    step(
        f"Safety verdicts of the shipped protocols on {DEVICE} (the self-test's typical "
        f"subject: RMT {RMT}% MSO, EMG, today; `stimctl selftest` checks the same verdicts)"
    )
    print_verdict_table(device=DEVICE)

    step(f"Dry run: {PROTOCOL} on the simulated {DEVICE}, simulated time")
    captured = StringIO()
    real_stdout, sys.stdout = sys.stdout, captured
    try:
        code = cli(["dry-run", PROTOCOL, "--rmt", RMT, "--device", DEVICE, "--json"])
    finally:
        sys.stdout = real_stdout
    if code != 0:
        print(captured.getvalue())
        return code
    summary = json.loads(captured.getvalue())
    for key in (
        "session_id",
        "status",
        "pulses_delivered",
        "pulses_planned",
        "trains_delivered",
        "duration_s",
        "train_onset_error_ms",
    ):
        print(f"  {key:<22} {summary[key]}")

    step("Journal chain")
    code = cli(["journal", "verify", summary["journal"]])
    if code != 0:
        return code

    step("Report")
    report = summary["journal"].replace(".jsonl", ".html")
    code = cli(["report", summary["session_id"], "--format", "html", "-o", report])
    if code == 0:
        print(f"  HTML report: {report}")
    return code


if __name__ == "__main__":
    sys.exit(main())
