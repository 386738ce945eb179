"""Print the fault matrix of issue 12 (every driver family x every fault, real processes).

    .venv/bin/python bench/fault_matrix.py [--quick]

--quick runs one family (Rapid²). Takes a few minutes in full.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.matrix import FAMILIES, faults_of, run_cell, table


def main() -> None:
    families = FAMILIES[2:3] if "--quick" in sys.argv else FAMILIES
    cells = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stimctl-faults-") as tmp:
        for family in families:
            for fault in faults_of(family):
                work = Path(tmp) / f"{family.device}-{fault.replace(' ', '-')}"
                cells.append(run_cell(family, fault, work))
    print(table(cells))
    bad = [c for c in cells if not (c.safe and c.consistent)]
    took = time.monotonic() - started
    print(f"\n{len(cells)} cells in {took:.0f} s; {len(bad)} unsafe or inconsistent")


if __name__ == "__main__":
    main()
