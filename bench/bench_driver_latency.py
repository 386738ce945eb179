"""Command round-trip latency per driver and keep-alive interval jitter.

Runs every registered driver against its byte-level simulator, either in-process through
`stimsim://` (`simulators.install_url_handler()`) or on a pseudo-terminal served by
`stimctl sim serve SPEC` (prints `PTY <path>` first), and prints median and p99.

    .venv/bin/python bench/bench_driver_latency.py [--transport inproc|pty|pty-wire|both]
        [--n 200] [--keepalive-s 3]

Latency: `status()` (one status exchange; Magstim also a cached temperature), a raw
`transact` of the cheapest status command, and `arm()` from standby, which applies and
reads back the whole planned output state first (ADR 0010). Jitter: the Magstim
keep-alive thread runs with the unit armed (period 0.5 s) and nothing else on the line;
we log when each keep-alive goes out and report interval minus period. No pass/fail:
numbers only.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from stimctl.hal import Stimulator, load_driver

# driver name -> (simulator spec, driver options)
TARGETS: dict[str, tuple[str, dict[str, Any]]] = {
    "magstim-200": ("magstim-200", {}),
    "magstim-bistim": ("magstim-bistim", {}),
    "magstim-rapid2": (
        "magstim-rapid2?version=10.0&unlock_code=abcd-0123abcd-5e",
        {"unlock_code": "abcd-0123abcd-5e"},
    ),
    "magpro": ("magpro-x100", {}),
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(label: str, samples_s: list[float]) -> str:
    ms = [s * 1000 for s in samples_s]
    return (
        f"{label:<44} n={len(ms):<4} median {statistics.median(ms):7.3f} ms"
        f"   p99 {percentile(ms, 99):7.3f} ms   max {max(ms):7.3f} ms"
    )


def timed(fn: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


@contextmanager
def port_for(spec: str, transport: str) -> Iterator[str]:
    if transport == "inproc":
        import simulators

        simulators.install_url_handler()
        yield f"stimsim://{spec}"
        return
    # `sim serve` models the wire time (10 bits a byte at the unit's baud rate) unless told
    # not to (issue 18 item 5): "pty" is without it, "pty-wire" with it.
    wire = [] if transport == "pty-wire" else ["--no-wire-time"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "stimctl", "sim", "serve", spec, *wire],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().split()
        if len(first) != 2 or first[0] != "PTY":
            raise SystemExit(f"`stimctl sim serve {spec}` did not print 'PTY <path>': {first}")
        yield first[1]
    finally:
        proc.terminate()
        proc.wait(5)


def cheapest_query(driver: Any) -> Callable[[], object]:
    """Both vendors' drivers have `transact(command)`; it is not part of `Stimulator`."""
    if driver.vendor == "MagVenture":
        from drivers.magventure.commands import GetStatus

        return lambda: driver.transact(GetStatus())
    command = driver._keepalive_command()
    return lambda: driver.transact(command)


def keepalive_jitter(driver: Stimulator, seconds: float) -> list[float] | None:
    keepalive = getattr(driver, "keepalive", None)
    if keepalive is None:
        return None  # MagVenture: no keep-alive in the protocol (device-protocols B7)
    stamps: list[float] = []
    send = keepalive._send

    def stamped() -> None:
        stamps.append(time.perf_counter())
        send()

    keepalive._send = stamped
    driver.set_intensity(30)  # the planned output state includes output A (ADR 0010)
    driver.arm()
    time.sleep(seconds)
    driver.disarm()
    keepalive._send = send
    period = 0.5
    return [b - a - period for a, b in itertools.pairwise(stamps)][1:]


def arm_latency(driver: Stimulator, n: int) -> list[float]:
    """`arm()` from standby: apply the planned output state, read it back, then arm."""
    driver.set_intensity(30)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        driver.arm()
        samples.append(time.perf_counter() - start)
        driver.disarm()
    return samples


def bench(name: str, transport: str, n: int, keepalive_s: float) -> None:
    spec, options = TARGETS[name]
    with port_for(spec, transport) as url:
        driver = load_driver(name)(url, **options)
        with driver:
            print(summary(f"{name} [{transport}] status()", timed(driver.status, n)))
            query = cheapest_query(driver)
            print(summary(f"{name} [{transport}] one exchange", timed(query, n)))
            arm = arm_latency(driver, max(n // 10, 5))
            print(summary(f"{name} [{transport}] arm() incl. output read-back", arm))
            jitter = keepalive_jitter(driver, keepalive_s)
            if jitter:
                print(summary(f"{name} [{transport}] keep-alive interval - 0.5 s", jitter))
                worst = max(abs(j) for j in jitter) * 1000
                print(f"{'':<44} worst |jitter| {worst:.3f} ms")
            elif jitter is None:
                print(f"{name} [{transport}] keep-alive: none (protocol has no keep-alive)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--transport", choices=["inproc", "pty", "pty-wire", "both"], default="both"
    )
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--keepalive-s", type=float, default=5.0)
    parser.add_argument("--driver", choices=sorted(TARGETS), action="append")
    args = parser.parse_args()
    transports = ["inproc", "pty", "pty-wire"] if args.transport == "both" else [args.transport]
    for transport in transports:
        for name in args.driver or sorted(TARGETS):
            bench(name, transport, args.n, args.keepalive_s)


if __name__ == "__main__":
    main()
