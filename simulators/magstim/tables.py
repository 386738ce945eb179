"""Rapid² energy and frequency tables and the TDb087 §3 limits (device-protocols A9).

Data, kept as the reference writes it: the joules table row by row, and each maximum
frequency table as "power range : Hz" runs.
"""

from __future__ import annotations

from typing import Literal

RapidType = Literal[0, 1, 2]  # 0 Rapid², 1 Super Rapid², 2 Super Rapid² Plus (A9, INFERRED)
Mains = Literal[240, 115]

# device-protocols A9 "Energy per pulse, E(P), in joules", P = 0..100.
JOULES: tuple[float, ...] = (
    0.0, 0.0, 0.1, 0.2, 0.4, 0.6, 0.9, 1.2, 1.6, 2.0,
    2.5, 3.0, 3.6, 4.3, 4.9, 5.7, 6.4, 7.3, 8.2, 9.1,
    10.1, 11.1, 12.2, 13.3, 14.5, 15.7, 17.0, 18.4, 19.7, 21.2,
    22.7, 24.2, 25.8, 27.4, 29.1, 30.8, 32.6, 34.5, 36.4, 38.3,
    40.3, 42.3, 44.4, 46.6, 48.8, 51.0, 53.3, 55.6, 58.0, 60.5,
    63.0, 65.5, 68.1, 70.7, 73.4, 76.2, 79.0, 81.8, 84.7, 87.7,
    90.7, 93.7, 96.8, 100.0, 103.2, 106.4, 109.7, 113.0, 116.4, 119.9,
    123.4, 126.9, 130.5, 134.2, 137.9, 141.7, 145.5, 149.3, 153.2, 157.2,
    161.2, 165.2, 169.3, 173.5, 177.7, 181.9, 186.3, 190.6, 195.0, 199.5,
    204.0, 208.5, 213.1, 217.8, 222.5, 227.3, 232.1, 236.9, 241.9, 246.8,
    252.0,
)  # fmt: skip

_TYPE1_240_TAIL = " ".join(f"{p}-{p + 1}:{50 - (p - 50) // 2}" for p in range(50, 100, 2))

# device-protocols A9 "Maximum frequency vs power" (MP-yaml maxFrequency), in Hz.
_MAX_FREQUENCY_RUNS: dict[tuple[int, int], str] = {
    (240, 0): "0-30:50 31:46 32:45 33:44 34:42 35-36:41 37-38:39 39:38 40:37 41:36 42:34 "
    "43-47:33 48:32 49:31 50-51:30 52-53:29 54-55:28 56-57:27 58-59:26 60-61:25 62-63:24 "
    "64-65:23 66-67:22 68-69:21 70-73:20 74-78:19 79-84:18 85-91:17 92-97:16 98-100:15",
    (240, 1): "0-30:100 31:98 32:95 33:93 34:90 35:88 36:85 37:83 38:80 39:78 40:75 41:73 "
    "42:70 43:68 44:65 45:63 46:60 47:58 48:55 49:53 " + _TYPE1_240_TAIL + " 100:25",
    (240, 2): "0-48:100 49:98 50:97 51:95 52:93 53:91 54-55:88 56:87 57:85 58:84 59:82 60:80 "
    "61:79 62:77 63-66:74 67:71 68:70 69:69 70-71:68 72:66 73:65 74-76:62 77:60 78:59 79:58 "
    "80-81:57 82:56 83-84:55 85:53 86:52 87:51 88-89:50 90:49 91:48 92:47 93-94:46 95:45 "
    "96:44 97:43 98-99:42 100:41",
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


def _expand(runs: str) -> tuple[int, ...]:
    table: dict[int, int] = {}
    for run in runs.split():
        span, hz = run.split(":")
        lo, _, hi = span.partition("-")
        for p in range(int(lo), int(hi or lo) + 1):
            table[p] = int(hz)
    if sorted(table) != list(range(101)):
        raise AssertionError(f"max-frequency runs do not cover 0..100 exactly: {runs[:40]}")
    return tuple(table[p] for p in range(101))


MAX_FREQUENCY_HZ: dict[tuple[int, int], tuple[int, ...]] = {
    key: _expand(runs) for key, runs in _MAX_FREQUENCY_RUNS.items()
}

ABSOLUTE_MAX_HZ = {240: 100.0, 115: 60.0}  # TDb087 §6.2
MAX_JOULES_PER_MINUTE = 63000.0  # TDb087 §3
CONTINUOUS_JOULES_PER_SECOND = 1050.0  # TDb087 §3
MIN_WAIT_S = 0.5  # TDb087 §5.6


def joules(power: int) -> float:
    """Energy of one pulse at `power` % (enhanced powers above 100 use the 100 % entry)."""
    return JOULES[min(max(power, 0), 100)]


def max_frequency_hz(mains: int, rapid_type: int, power: int) -> int:
    return MAX_FREQUENCY_HZ[(mains, rapid_type)][min(max(power, 0), 100)]


def max_on_time_s(power: int, hz: float) -> float:
    """TDb087 §3: t_max_on = 63000 / (E f); infinite when nothing is dissipated."""
    energy = joules(power) * hz
    return float("inf") if energy <= 0 else MAX_JOULES_PER_MINUTE / energy


def min_wait_s(power: int, hz: float, pulses: int) -> float:
    """TDb087 §3: t_wait = N (f E - 1050) / (1050 f), never below 0.5 s."""
    if hz <= 0:
        return MIN_WAIT_S
    wait = (
        pulses
        * (hz * joules(power) - CONTINUOUS_JOULES_PER_SECOND)
        / (CONTINUOUS_JOULES_PER_SECOND * hz)
    )
    return max(MIN_WAIT_S, wait)
