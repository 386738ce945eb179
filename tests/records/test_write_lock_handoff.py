"""A writer that has waited for SQLite's write lock gets it soon after it is released.

SQLite's own busy handler sleeps longer and longer between tries (100 ms a try once a
writer has waited a third of a second), so a waiter learns of a release up to 100 ms
late, ~50 ms on average, while writers that came later take the lock first: with 8
consoles on one file a start waited 1-4 s at p99 (bench/bench_records.py).
`Store.write` retries ``BEGIN IMMEDIATE`` itself about every millisecond. A real
process holds the lock here, 0.64 s each time, eight times.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from stimctl.records import Store, add_subject

HOLDER = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    for _ in range(int(sys.argv[2])):
        conn.execute("BEGIN IMMEDIATE")
        print("held", flush=True)
        time.sleep(0.64)
        conn.execute("ROLLBACK")
        print(time.time(), flush=True)
        sys.stdin.readline()
    """
)
HANDOFFS = 8


def test_a_waiting_writer_gets_the_lock_soon_after_its_release(db_path: Path) -> None:
    with Store.open(db_path) as store:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(db_path), str(HANDOFFS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdin is not None and holder.stdout is not None
        latencies: list[float] = []
        try:
            for _ in range(HANDOFFS):
                assert holder.stdout.readline().strip() == "held"
                with store.write():  # waits for the holder's ROLLBACK
                    acquired = time.time()
                released = float(holder.stdout.readline())
                latencies.append(acquired - released)
                holder.stdin.write("next\n")
                holder.stdin.flush()
            assert holder.wait(timeout=30) == 0
        finally:
            holder.kill()
        add_subject(store, "S-01")  # the store still works after the contention
    # SQLite's busy handler: ~90 ms each (0.64 s falls just after one of its tries);
    # retried here: under a millisecond (the bound leaves room for a loaded machine).
    assert statistics.mean(latencies) < 0.025, [f"{x * 1e3:.1f} ms" for x in latencies]
