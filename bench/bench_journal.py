"""Journal append latency with fsync on this machine's disk, and verify throughput.

    .venv/bin/python bench/bench_journal.py [--records 2000] [--dir PATH]

Prints the median, p99 and max of one `Journal.append` (serialise, write, fsync) and the
sustained records per second, for one writer and for two threads sharing the journal,
then how fast `verify` reads the result. Run it on the disk the journals will live on
(`--dir`): a tmpfs or a RAM disk makes fsync free and the figures meaningless.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from stimctl.clock import MonotonicClock
from stimctl.journal import Journal, events, verify


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def _report(label: str, latencies_s: list[float], wall_s: float, records: int) -> None:
    ordered = sorted(latencies_s)
    print(
        f"{label:<22} median {statistics.median(ordered) * 1e3:7.3f} ms"
        f"  p99 {_percentile(ordered, 0.99) * 1e3:7.3f} ms"
        f"  max {ordered[-1] * 1e3:7.3f} ms"
        f"  {records / wall_s:9.0f} records/s"
    )


def bench_one_writer(directory: Path, records: int) -> Path:
    latencies: list[float] = []
    with Journal.create(directory, "bench-1", clock=MonotonicClock()) as journal:
        journal.append(events.SESSION_START, {"bench": True})
        start = time.perf_counter()
        for index in range(records):
            t0 = time.perf_counter()
            journal.append(events.PULSE, {"train": index // 50, "index": index})
            latencies.append(time.perf_counter() - t0)
        wall = time.perf_counter() - start
        journal.append(events.SESSION_END, {"status": "completed", "pulses_delivered": records})
    _report("append, 1 thread", latencies, wall, records)
    return journal.path


def bench_two_writers(directory: Path, records: int) -> None:
    latencies: list[float] = []
    lock = threading.Lock()
    journal = Journal.create(directory, "bench-2", clock=MonotonicClock())
    journal.append(events.SESSION_START, {"bench": True})

    def writer(actor: str) -> None:
        mine = []
        for index in range(records // 2):
            t0 = time.perf_counter()
            journal.append(events.DEVICE, {"n": index}, actor=actor)
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=writer, args=(a,)) for a in ("engine", "watchdog")]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    journal.close()
    _report("append, 2 threads", latencies, wall, len(latencies))


def bench_verify(path: Path) -> None:
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        result = verify(path)
        runs.append(time.perf_counter() - t0)
    assert result.ok, result.reason
    best = min(runs)
    print(
        f"{'verify':<22} {result.records} records in {statistics.median(runs) * 1e3:.1f} ms"
        f" (median of 5), {result.records / best:.0f} records/s at best"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: temp)")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="stimctl-bench-", dir=args.dir))
    try:
        print(f"journal directory: {directory}  ({args.records} records per run)")
        path = bench_one_writer(directory, args.records)
        bench_two_writers(directory, args.records)
        bench_verify(path)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
