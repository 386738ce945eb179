"""Pulse-to-MEP latency over Lab Streaming Layer (issue 18; target p99 < 100 ms).

The loop a hunt runs with `--mep lsl:NAME --lsl`: the pulse is journaled (its marker goes
out on the marker stream), `stimctl sim emg` in its own process hears the marker and puts
the virtual subject's MEP into its EMG stream, and the LSL EMG source reads the stream
until the whole trial (to the end of the 50 ms MEP window + 5 ms) is in and measures it.
Latency is from the pulse to the reading, on LSL's clock. The floor is the trial's end
(55 ms) plus the synthetic amplifier's buffer (20 ms); the rest is LSL transport, the
journal's fsync and polling. Loopback only (the bench writes its own lsl_api.cfg).

Run: .venv/bin/python bench/bench_lsl_mep.py [pulses]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

CFG = """[multicast]
ResolveScope = machine
KnownPeers = {127.0.0.1}
[ports]
IPv6 = disable
[log]
level = -3
"""


def main() -> None:
    pulses = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    scratch = Path(tempfile.mkdtemp(prefix="bench-lsl-"))
    (scratch / "lsl_api.cfg").write_text(CFG)
    os.environ["LSLAPICFG"] = str(scratch / "lsl_api.cfg")
    os.environ["STIMCTL_HOME"] = str(scratch / "home")

    import pylsl

    from stimctl.clock import VirtualClock
    from stimctl.lab.emg_source import LslEmgSource
    from stimctl.lab.markers import MarkerOutlet
    from stimctl.mep import TrialRejected
    from stimctl.rmt.journaling import HuntJournal

    suffix = uuid.uuid4().hex[:6]
    emg_name, marker_name = f"bench-emg-{suffix}", f"bench-markers-{suffix}"
    clock = VirtualClock()
    outlet = MarkerOutlet(clock, marker_name)
    emg = subprocess.Popen(
        [sys.executable, "-m", "stimctl", "sim", "emg", "--subject-rmt", "52", "--seed", "3",
         "--name", emg_name, "--markers", marker_name, "--burst-rate", "0"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert emg.stdout is not None
        emg.stdout.readline()
        assert outlet.wait_for_consumers(10.0), "the EMG simulator never connected"
        source = LslEmgSource(emg_name)
        journal = HuntJournal.start(
            clock=clock,
            start={"subject": "bench"},
            directory=scratch,
            listeners=(outlet, source.bind(clock)),
        )
        source.open()
        latencies: list[float] = []
        measured: list[float] = []
        # The MEP is ready when the source has measured it (its trace callback); the
        # source then holds the next pulse off until the MEP is past (settle).
        source.on_trace = lambda trace: measured.append(pylsl.local_clock())
        rejected = 0
        for i in range(pulses):
            time.sleep(0.05)  # a hunt waits >= 4 s; this keeps the bench short
            intensity = 45 + i % 20
            fired = pylsl.local_clock()
            journal.fired(intensity)
            try:
                source.response(intensity)
            except TrialRejected:
                rejected += 1
            latencies.append((measured[-1] - fired) * 1e3)
        journal.finish(None, error="bench over")
        source.close()
    finally:
        emg.terminate()
        out, _ = emg.communicate(timeout=10)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(f"pulse-to-MEP latency over LSL, {len(latencies)} pulses ({rejected} rejected)")
    print(
        f"  p50 {p50:.1f} ms  p99 {p99:.1f} ms  max {latencies[-1]:.1f} ms  (target p99 < 100 ms)"
    )
    verdict = "ok" if p99 < 100 else "SLOW"
    print(f"  floor: trial end 55 ms + amplifier buffer 20 ms = 75 ms; {verdict}")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  emg simulator: {out.strip().splitlines()[-1] if out.strip() else 'no summary'}")


if __name__ == "__main__":
    main()
