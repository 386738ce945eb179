"""Wall time of `stimctl check` as a user runs it (a fresh process each time).

Target (issue 2): median under 0.3 s on the project machine. Prints median and p90 for
the JSON and the human (rich table) outputs, and with a device profile.
Run: .venv/bin/python bench/bench_check.py [runs]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

STIMCTL = str(Path(sys.executable).with_name("stimctl"))
CASES = {
    "json": ["check", "dep-fda-10hz", "--rmt", "55", "--json"],
    "human": ["check", "np-m1-10hz-hodaj", "--rmt", "55"],
    "device": ["check", "dep-itbs-three-d", "--rmt", "55", "--device", "magstim-rapid2-super-240v"],
}


def time_one(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([STIMCTL, *args], capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    print(f"stimctl check wall time over {runs} runs (target: median < 0.300 s)")
    for name, args in CASES.items():
        samples = sorted(time_one(args) for _ in range(runs))
        median = statistics.median(samples)
        p90 = samples[int(0.9 * (len(samples) - 1))]
        verdict = "ok" if median < 0.3 else "SLOW"
        print(f"  {name:<7} median {median:.3f} s  p90 {p90:.3f} s  {verdict}")


if __name__ == "__main__":
    main()
