"""IPI and B/A index tables of the ID 9 reply (device-protocols B6).

The set command carries the IPI as a value (0.1 ms units) and the B/A ratio as ratio x
100; the ID 9 reply carries indexes into descending lists. Values are kept in 0.1 ms
(integers) so that the mapping is exact.
"""

from __future__ import annotations


def _burst_ipis() -> tuple[int, ...]:
    # Biphasic Burst: 100 -> 20 ms step 1, 19.5 -> 10.0 step 0.5, 9.9 -> 0.5 step 0.1.
    values = [1000 - 10 * i for i in range(81)]
    values += [200 - 5 * (i - 80) for i in range(81, 101)]
    values += [100 - (i - 100) for i in range(101, 196)]
    return tuple(values)


def _twin_ipis() -> tuple[int, ...]:
    # Twin/Dual: 3000 -> 1000 ms, 950 -> 500, 490 -> 100, 99 -> 20, 19.5 -> 10, 9.9 -> 1.0.
    values = [30000 - 1000 * i for i in range(21)]
    values += [10000 - 500 * (i - 20) for i in range(21, 31)]
    values += [5000 - 100 * (i - 30) for i in range(31, 71)]
    values += [1000 - 10 * (i - 70) for i in range(71, 151)]
    values += [200 - 5 * (i - 150) for i in range(151, 171)]
    values += [100 - (i - 170) for i in range(171, 261)]
    return tuple(values)


BURST_IPI_TENTHS_MS = _burst_ipis()
TWIN_IPI_TENTHS_MS = _twin_ipis()

# B3: burst pulses are sent as an index: 5 pulses -> 0, 4 -> 1, 3 -> 2, 2 -> 3.
BURST_PULSES_BY_INDEX = (5, 4, 3, 2)


def ipi_index(table: tuple[int, ...], tenths_ms: int) -> int | None:
    try:
        return table.index(tenths_ms)
    except ValueError:
        return None


def ba_index(ratio_x100: int) -> int | None:
    """Twin: ratio = 5.00 - 0.05 index, index 0..96 (B6)."""
    if not 20 <= ratio_x100 <= 500 or (500 - ratio_x100) % 5:
        return None
    return (500 - ratio_x100) // 5
