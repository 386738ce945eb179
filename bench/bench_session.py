"""Session engine figures (issue 4). Prints medians and p99; run on a quiet machine.

1. E-stop: time from `engine.estop()` to the disarm command's bytes arriving at the
   device, over a real pty (target p99 < 5 ms), and to the confirmed disarm.
2. Timing against the simulator's own pulse log, real time, in-process `stimsim://`:
   host-timed pulse jitter at 10, 20 and 50 Hz and inter-train interval error
   (targets p99 < 1 ms).
3. Accelerated dry run: the FDA 10 Hz protocol (37.5 min) on simulated time (target < 5 s).

Run: .venv/bin/python bench/bench_session.py [--quick]
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import simulators
from stimctl.clock import Clock, MonotonicClock, SimulatedClock, driving
from stimctl.device_profiles import load_profile
from stimctl.journal import Journal
from stimctl.protocol.models import Protocol
from stimctl.safety import MotorThreshold, SiteRules, Subject
from stimctl.session.engine import SessionEngine
from stimctl.session.guard import RuntimeGuard
from stimctl.session.plan import compile_plan
from stimctl.session.runner import open_session, prepare
from stimctl.session.simulation import SimulatedDevice, open_simulated_session

NOW = dt.datetime.now(dt.UTC)
SUBJECT = Subject(MotorThreshold(30.0, "emg", NOW.date()))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def line(name: str, values_s: list[float], target_ms: float | None = None) -> None:
    ms = [abs(v) * 1000 for v in values_s]
    verdict = ""
    if target_ms is not None:
        verdict = "ok" if pct(ms, 0.99) < target_ms else "MISSED"
    print(
        f"  {name:<34} n={len(ms):<5} median {statistics.median(ms):8.3f} ms  "
        f"p99 {pct(ms, 0.99):8.3f} ms  max {max(ms):8.3f} ms  {verdict}"
    )


def train_protocol(frequency: float, pulses: int, iti: float, trains: int) -> Protocol:
    return Protocol.model_validate(
        {
            "schema_version": 1,
            "name": "bench",
            "title": "bench",
            "indication": "research",
            "source": "bench",
            "target": {"site": "M1-hand", "hemisphere": "left"},
            "coil": {"family": "figure-8"},
            "intensity": {"percent_rmt": 100},
            "pattern": {
                "kind": "train",
                "frequency_hz": frequency,
                "pulses_per_train": pulses,
                "inter_train_interval_s": iti,
                "trains": trains,
            },
        }
    )


def host_timed_engine(
    frequency: float, pulses: int, iti: float, trains: int, clock: Clock, home: Path
) -> tuple[SessionEngine, SimulatedDevice]:
    """A session forced to host timing (single pulses fired on absolute deadlines)."""
    profile = load_profile("magpro-x100")
    sim = SimulatedDevice(profile, clock)
    protocol = train_protocol(frequency, pulses, iti, trains)
    plan = compile_plan(protocol, SUBJECT.rmt.percent_mso, device_timed_trains=False)
    from stimctl.hal import load_driver

    driver = load_driver(profile.driver)(sim.url, clock=clock, transport=sim.open_transport())
    with driving(clock):
        driver.open()
    journal = Journal.create(home, f"bench-{frequency:g}hz-{time.monotonic_ns()}", clock=clock)
    guard = RuntimeGuard.for_plan(plan, coil_stop_c=40.0, coil_warn_c=38.0)
    return SessionEngine(driver, plan, journal, clock=clock, guard=guard), sim


def bench_host_timing(home: Path, quick: bool) -> None:
    print("Host-timed pulses and train onsets against the simulator's pulse log (real time)")
    trains = 3 if quick else 6
    for frequency in (10.0, 20.0, 50.0):
        pulses = int(frequency)  # 1 s trains
        engine, sim = host_timed_engine(frequency, pulses, 1.0, trains, MonotonicClock(), home)
        engine.start()
        summary = engine.wait(timeout=120)
        engine.driver.close()
        log = sim.pulse_log()
        times = [p.time for p in log]
        by_train = [times[i * pulses : (i + 1) * pulses] for i in range(trains)]
        jitter = [
            (b - a) - 1.0 / frequency for train in by_train for a, b in itertools.pairwise(train)
        ]
        first = [t[0] for t in by_train if t]
        period = pulses / frequency + 1.0
        iti_error = [(b - a) - period for a, b in itertools.pairwise(first)]
        assert summary.pulses_delivered == len(log), "journal and simulator disagree"
        line(f"{frequency:g} Hz inter-pulse error", jitter, 1.0)
        line(f"{frequency:g} Hz train-onset interval error", iti_error, 1.0)


def bench_estop(home: Path, quick: bool, wire_time: bool = False) -> None:
    wire = "with wire time (38400 baud, 10 bits a byte)" if wire_time else "without wire time"
    print(f"Emergency stop over a pty, {wire}: request -> disarm at the device, -> confirmed")
    runs = 15 if quick else 60
    to_wire: list[float] = []
    to_confirm: list[float] = []
    sim = simulators.create_simulator("magpro-x100")
    sim.wire_time = wire_time
    arrived: list[float] = []
    original = sim._disable  # type: ignore[attr-defined]

    def spy(*, quiet: bool) -> None:
        # The disable command (ID 2 with 00, device-protocols B4) has reached the device
        # and is acted on: with wire time, when its last byte is in (the device's clock
        # is the real perf_counter, so its time stamps compare with ours).
        arrived.append(sim.now)
        original(quiet=quiet)

    sim._disable = spy  # type: ignore[attr-defined]
    stop = threading.Event()
    server = simulators.PtyServer(sim)
    thread = threading.Thread(target=server.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        for _ in range(runs):
            prepared = prepare(
                str(_write(home, train_protocol(10.0, 20, 5.0, 50))),
                SUBJECT,
                "magpro-x100",
                site=SiteRules(),
                now=NOW,
            )
            engine = open_session(prepared, server.path, clock=MonotonicClock(), journal_dir=home)
            engine.start()
            time.sleep(0.3 + 0.1 * (len(to_wire) % 5))
            arrived.clear()
            start = time.perf_counter()
            engine.estop("operator:bench")
            to_confirm.append(time.perf_counter() - start)
            if arrived:
                to_wire.append(arrived[0] - start)
            engine.wait(timeout=30)
            engine.driver.close()
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
    line("e-stop -> disarm bytes at device", to_wire, 5.0)
    line("e-stop -> disarm confirmed", to_confirm)


def _write(home: Path, protocol: Protocol) -> Path:
    import tomllib  # noqa: F401  (the protocol is written as TOML below)

    path = home / "bench.toml"
    p = protocol.pattern.model_dump()
    path.write_text(
        'schema_version = 1\nname = "bench"\ntitle = "bench"\nindication = "research"\n'
        'source = "bench"\n[target]\nsite = "M1-hand"\nhemisphere = "left"\n'
        '[coil]\nfamily = "figure-8"\n[intensity]\npercent_rmt = 100\n[pattern]\n'
        f'kind = "train"\nfrequency_hz = {p["frequency_hz"]}\n'
        f"pulses_per_train = {p['pulses_per_train']}\n"
        f"inter_train_interval_s = {p['inter_train_interval_s']}\ntrains = {p['trains']}\n"
    )
    return path


def bench_dry_run(home: Path) -> None:
    print("Accelerated dry run: dep-fda-10hz (37.5 min, 3000 pulses) on simulated time")
    walls: list[float] = []
    result: dict[str, Any] = {}
    for _ in range(3):
        clock = SimulatedClock()
        prepared = prepare(
            "dep-fda-10hz", SUBJECT, "magstim-rapid2-super-plus-240v", site=SiteRules(), now=NOW
        )
        start = time.perf_counter()
        with SimulatedDevice(prepared.device, clock) as sim:
            engine = open_simulated_session(prepared, sim, journal_dir=home)
            engine.start()
            summary = engine.wait(timeout=120)
            with driving(clock):
                engine.driver.close()
        walls.append(time.perf_counter() - start)
        result = summary.as_dict()
    print(
        f"  wall median {statistics.median(walls):.2f} s (target < 5 s) for "
        f"{result['duration_s']:.0f} s simulated; status {result['status']}, "
        f"pulses {result['pulses_delivered']}/{result['pulses_planned']}"
    )


def main() -> None:
    import logging

    logging.disable(logging.CRITICAL)  # the figures, not the drivers' warnings
    quick = "--quick" in sys.argv
    simulators.install_url_handler()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        # The e-stop bench runs a clinical session over a pty: that needs a journal signing
        # key on record (issue 13), made here in a throwaway STIMCTL_HOME.
        os.environ["STIMCTL_HOME"] = str(home / "stimctl-home")
        from stimctl.cli import main as stimctl_cli

        if stimctl_cli(["keys", "init"]) != 0:
            raise SystemExit("could not create a journal signing key for the bench")
        bench_dry_run(home)
        bench_estop(home, quick, wire_time=False)
        bench_estop(home, quick, wire_time=True)
        bench_host_timing(home, quick)


if __name__ == "__main__":
    main()
