"""Trigger-line figures (issue 18). Prints p50 / p99 / max; run on a quiet machine.

1. The simulated line (`sim://`) on the real clock: how late each rising edge leaves
   against its schedule, and the error of each interval, at 5, 10, 20 and 50 Hz and for
   theta bursts (50 Hz triplets at 5 Hz). Edges are time-stamped where they reach the
   wire (the listener a simulator's Trigger In would be).
2. A host-timed theta burst on an in-process Rapid² simulator through its Trigger In,
   fired by the driver (`fire(scheduled_s=...)`: READY check at the scheduled time,
   then the edge), with and without wire time: scheduled vs the simulator's pulse log.
3. A status round trip over a real pty, with and without wire time (Magstim 9600 baud,
   MagPro 38400 baud).

Run: .venv/bin/python bench/bench_triggers.py [--quick]
"""

from __future__ import annotations

import itertools
import statistics
import sys
import threading
import time
import uuid

import serial

import simulators
from stimctl import simwire
from stimctl.clock import MonotonicClock
from stimctl.errors import StateError
from stimctl.hal import Transport, load_driver, open_trigger

UNLOCK = "abcd-0123abcd-5e"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def line(name: str, values_s: list[float]) -> None:
    ms = [abs(v) * 1000 for v in values_s]
    print(
        f"  {name:<44} n={len(ms):<5} p50 {statistics.median(ms):8.3f} ms  "
        f"p99 {pct(ms, 0.99):8.3f} ms  max {max(ms):8.3f} ms"
    )


def tbs_times(start: float, seconds: float) -> list[float]:
    bursts = int(seconds * 5)
    return [start + b * 0.2 + k * 0.02 for b in range(bursts) for k in range(3)]


def bench_simulated_line(quick: bool) -> None:
    print("Simulated trigger line on the real clock: edge at the wire vs schedule")
    clock = MonotonicClock()
    seconds = 2.0 if quick else 6.0
    cases: list[tuple[str, float | None]] = [
        ("5 Hz", 5.0),
        ("10 Hz", 10.0),
        ("20 Hz", 20.0),
        ("50 Hz", 50.0),
        ("theta burst (50 Hz triplets, 5 Hz)", None),
    ]
    for name, frequency in cases:
        wire = f"bench-{uuid.uuid4().hex[:8]}"
        edges: list[float] = []

        def listener(level: bool, at: float, edges: list[float] = edges) -> None:
            if level:
                edges.append(time.perf_counter())

        simwire.wire(wire).connect(listener)
        with open_trigger(f"sim://{wire}", clock=clock) as trigger:
            start = clock.now() + 0.05
            if frequency is None:
                times = tbs_times(start, seconds)
            else:
                times = [start + k / frequency for k in range(int(seconds * frequency))]
            receipts = trigger.train(times)
        late = [at - t for at, t in zip(edges, times, strict=True)]
        intervals = [
            (b - a) - (tb - ta)
            for (a, b), (ta, tb) in zip(
                itertools.pairwise(edges), itertools.pairwise(times), strict=True
            )
        ]
        assert all(r.late_s is not None and r.late_s >= 0 for r in receipts)
        line(f"{name}: edge late vs schedule", late)
        line(f"{name}: interval error", intervals)


def bench_rapid_trigger_in(quick: bool) -> None:
    print("Theta burst fired by the Rapid² driver through Trigger In (simulator pulse log)")
    seconds = 2.0 if quick else 4.0
    for wire_time in (False, True):
        clock = MonotonicClock()
        wire = f"bench-{uuid.uuid4().hex[:8]}"
        port = serial.serial_for_url(
            f"stimsim://magstim-rapid2?version=10&unlock_code={UNLOCK}&type=super-plus"
            f"&trigger=sim://{wire}&wire_time={int(wire_time)}",
            baudrate=9600,
            timeout=0.5,
        )
        driver = load_driver("magstim-rapid2")(
            "stimsim://", clock=clock, transport=Transport(port), unlock_code=UNLOCK
        )
        driver.open()
        try:
            driver.attach_trigger(open_trigger(f"sim://{wire}", clock=clock))
            driver.set_intensity(30)
            driver.arm()
            driver.wait_ready(timeout_s=5.0, poll_s=0.05)
            planned = tbs_times(clock.now() + 0.1, seconds)
            times: list[float] = []
            refused = 0
            for t in planned:
                try:
                    driver.fire(scheduled_s=t)
                    times.append(t)
                except StateError:  # a late pulse left the unit recharging at this one
                    refused += 1
        finally:
            driver.close()
        pulses = port.simulator.pulses
        assert len(pulses) == len(times), (len(pulses), len(times))
        late = [p.time - t for p, t in zip(pulses, times, strict=True)]
        label = "with wire time" if wire_time else "without wire time"
        line(f"pulse late vs schedule, {label}", late)
        print(f"  {'':<44} {refused} of {len(planned)} refused: not READY at their time")


def bench_round_trip(quick: bool) -> None:
    print("Status round trip over a pty (write -> whole reply read)")
    runs = 50 if quick else 200
    cases = [
        ("magstim-200", 9600, b"Q@" + bytes([~sum(b"Q@") & 0xFF]), 3),
        ("magpro-x100", 38400, bytes([0xFE, 0x01, 0x00, 0x00, 0xFF]), None),
    ]
    for spec, baud, request, reply_len in cases:
        for wire_time in (False, True):
            sim = simulators.create_simulator(spec)
            sim.wire_time = wire_time
            stop = threading.Event()
            server = simulators.PtyServer(sim)
            thread = threading.Thread(target=server.serve, args=(stop,), daemon=True)
            thread.start()
            trips: list[float] = []
            try:
                with serial.Serial(server.path, baud, timeout=1.0) as port:
                    for _ in range(runs):
                        port.reset_input_buffer()
                        start = time.perf_counter()
                        port.write(request)
                        if reply_len is None:  # MagPro: FE LEN payload CRC FF
                            head = port.read(2)
                            port.read(head[1] + 2)
                        else:
                            port.read(reply_len)
                        trips.append(time.perf_counter() - start)
                        time.sleep(0.005)
            finally:
                stop.set()
                thread.join(timeout=5)
                server.close()
            label = "with wire time" if wire_time else "without wire time"
            line(f"{spec} at {baud} baud, {label}", trips)


def main() -> None:
    import logging

    logging.disable(logging.CRITICAL)
    quick = "--quick" in sys.argv
    simulators.install_url_handler()
    bench_simulated_line(quick)
    bench_rapid_trigger_in(quick)
    bench_round_trip(quick)


if __name__ == "__main__":
    main()
