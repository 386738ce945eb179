"""Rapid^2 maximum repetition frequency by power (device-protocols A9, from MP-yaml
`maxFrequency[voltage][type][power]`). Pure data and one lookup; no I/O.

`type` 0, 1, 2 are presumably Rapid^2, Super Rapid^2 and Super Rapid^2 Plus (INFERRED,
A9). Runs are written "power range:max Hz", as in the reference.
"""

from __future__ import annotations

from functools import cache

_RUNS: dict[tuple[int, int], str] = {
    (240, 0): "0-30:50 31:46 32:45 33:44 34:42 35-36:41 37-38:39 39:38 40:37 41:36 42:34 "
    "43-47:33 48:32 49:31 50-51:30 52-53:29 54-55:28 56-57:27 58-59:26 60-61:25 62-63:24 "
    "64-65:23 66-67:22 68-69:21 70-73:20 74-78:19 79-84:18 85-91:17 92-97:16 98-100:15",
    (240, 1): "0-30:100 31:98 32:95 33:93 34:90 35:88 36:85 37:83 38:80 39:78 40:75 41:73 "
    "42:70 43:68 44:65 45:63 46:60 47:58 48:55 49:53 "
    + " ".join(f"{p}-{p + 1}:{50 - (p - 50) // 2}" for p in range(50, 100, 2))
    + " 100:25",
    (240, 2): "0-48:100 49:98 50:97 51:95 52:93 53:91 54-55:88 56:87 57:85 58:84 59:82 60:80 "
    "61:79 62:77 63-66:74 67:71 68:70 69:69 70-71:68 72:66 73:65 74-76:62 77:60 78:59 "
    "79:58 80-81:57 82:56 83-84:55 85:53 86:52 87:51 88-89:50 90:49 91:48 92:47 93-94:46 "
    "95:45 96:44 97:43 98-99:42 100:41",
    (115, 0): "0-30:36 31-32:35 33:34 34:33 35-36:32 37:31 38:30 39:29 40-41:28 42:27 43-44:26 "
    "45-46:25 47-48:24 49-50:23 51-52:22 53-55:21 56-57:20 58-60:19 61-64:18 65-67:17 "
    "68-72:16 73-76:15 77-81:14 82-86:13 87-94:12 95-100:11",
    (115, 1): "0-37:60 38:59 39:57 40:55 41:54 42:53 43:52 44:51 45:50 46:49 47:47 48:46 49:45 "
    "50:44 51:43 52-53:42 54:41 55-56:40 57:39 58-59:38 60:37 61-62:36 63-64:35 65-66:34 "
    "67-68:33 69-70:32 71-72:31 73-74:30 75-76:29 77-79:28 80-82:27 83-86:26 87-89:25 "
    "90-93:24 94-96:23 97-100:22",
    (115, 2): "0-49:60 50:58 51-52:56 53:54 54:53 55:52 56:51 57:50 58:49 59:48 60:47 61-62:46 "
    "63:45 64:44 65-66:43 67:42 68:41 69-70:40 71-72:39 73:38 74-75:37 76-77:36 78-79:35 "
    "80-81:34 82-84:33 85-86:32 87-88:31 89-91:30 92-93:29 94-96:28 97-99:27 100:25",
}

SYSTEMS = frozenset(_RUNS)


@cache
def _table(mains_v: int, rapid_type: int) -> tuple[float, ...]:
    values: dict[int, float] = {}
    for run in _RUNS[(mains_v, rapid_type)].split():
        powers, hz = run.split(":")
        low, _, high = powers.partition("-")
        for power in range(int(low), int(high or low) + 1):
            values[power] = float(hz)
    if sorted(values) != list(range(101)):
        raise AssertionError(f"frequency table {mains_v} V type {rapid_type} is not 0-100 %")
    return tuple(values[p] for p in range(101))


def max_frequency_hz(mains_v: int, rapid_type: int, power_pct: int) -> float:
    """Highest train frequency at `power_pct` (0-100). Above 100 % (enhanced power) there
    is no table entry (A9): trains are single-pulse only there, so 0 Hz."""
    if power_pct > 100:
        return 0.0
    return _table(mains_v, rapid_type)[max(power_pct, 0)]
