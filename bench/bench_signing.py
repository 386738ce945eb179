"""Cost of signing a session's journal (the seal and one checkpoint per train) against the
wall time of a dry run of the same protocol. Target: below 1% (issue 13).

    .venv/bin/python bench/bench_signing.py [--protocol dep-fda-10hz] [--runs 3]
                                            [--sessions 200]

1. Runs ``stimctl dry-run PROTOCOL --rmt 52 --speed max`` `--runs` times in a scratch
   ``$STIMCTL_HOME`` with a signing key (``stimctl keys init``), as a separate process
   each, and takes the wall time; the journal tells how many trains were signed.
2. Signs that many checkpoints plus one seal, built exactly as the writer builds them
   (`Journal._checkpoint_line`/`_seal_line` on a journal in the scratch folder), for
   `--sessions` sessions, and prints the median and p99 cost per session.
3. Prints the ratio of the median signing cost to the median dry-run wall time.

The checkpoint shares the write and the fsync of its `train_end` (one write of two lines),
so signing adds no fsync: the CPU cost measured here is the whole of it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stimctl.clock import MonotonicClock
from stimctl.journal import Journal, events
from stimctl.journal.signing import Signer

STIMCTL = Path(sys.executable).with_name("stimctl")


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def dry_runs(protocol: str, runs: int, home: Path) -> tuple[list[float], int]:
    env = {**os.environ, "STIMCTL_HOME": str(home)}
    subprocess.run([str(STIMCTL), "keys", "init"], env=env, check=True, capture_output=True)
    walls, trains = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(
            [str(STIMCTL), "dry-run", protocol, "--rmt", "52", "--speed", "max", "--json"],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            sys.exit(f"the dry run of {protocol} failed: {done.stderr.strip()}")
        walls.append(time.perf_counter() - t0)
        journal = Path(json.loads(done.stdout)["journal"])
        records = [json.loads(line) for line in journal.read_text().splitlines()]
        trains = sum(1 for r in records if r["event"] == events.CHECKPOINT)
        assert records[-1]["event"] == events.SEAL and records[-1]["payload"]["signature"]
    return walls, trains


def signing_costs(trains: int, sessions: int, scratch: Path, signer: Signer) -> list[float]:
    journal = Journal.create(scratch, "bench-signing", clock=MonotonicClock(), signer=signer)
    journal.append(events.SESSION_START, {"bench": True})
    train_end = json.dumps({"train": 0, "pulses": 40}).encode()
    costs = []
    with journal._lock:  # the writer holds its lock while it signs; so does the bench
        for _ in range(sessions):
            t0 = time.perf_counter()
            for train in range(trains):
                journal._checkpoint_line(train_end, train, 1)
            journal._seal_line(train_end, events.ACTOR_ENGINE, "completed", 1)
            costs.append(time.perf_counter() - t0)
    journal.close()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protocol", default="dep-fda-10hz")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        walls, trains = dry_runs(args.protocol, args.runs, home)
        os.environ["STIMCTL_HOME"] = str(home)
        from stimctl.keys.files import load_active_signer

        signer = load_active_signer()
        assert signer is not None
        costs = sorted(signing_costs(trains, args.sessions, Path(tmp) / "scratch", signer))
    wall = statistics.median(walls)
    median, p99 = statistics.median(costs), _percentile(costs, 0.99)
    print(f"dry run {args.protocol}: {len(walls)} runs, median wall {wall:.3f} s")
    print(
        f"signing per session ({trains} checkpoints + 1 seal, {args.sessions} sessions):"
        f" median {median * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms"
    )
    print(
        f"ratio signing/dry-run wall: median {median / wall:.4%}, p99 {p99 / wall:.4%}"
        f" (target < 1%)"
    )


if __name__ == "__main__":
    main()
