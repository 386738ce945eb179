"""Issue 12 item 8 (MagPro part): a host that crashes leaves a MagPro enabled, because its
protocol has no keep-alive that would disable it (device-protocols B7, ADR 0006). The next
`devices probe` or `run` on that port must find it armed, disable it first, and say so.

Real processes over a real pty: the simulator is served in this process, the host that
crashes and the host that comes next are `python -m stimctl` / `python -c` processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.session.records_helpers import enroll

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="needs a Linux pty")

NOTICE = "was found armed (left by a crashed session?) and was disarmed"

# A host that arms the MagPro and then hangs until it is killed.
CRASHING_HOST = """
import sys, time
from drivers.magventure import MagProDriver
driver = MagProDriver(sys.argv[1])
driver.open()
driver.set_intensity(30)
driver.arm()
print("ARMED", flush=True)
time.sleep(600)
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    import simulators

    sim = simulators.create_simulator("magpro-x100")
    stop = threading.Event()
    server = simulators.PtyServer(sim)
    serving = threading.Thread(target=server.serve, args=(stop,), daemon=True)
    serving.start()
    try:
        yield sim, server.path
    finally:
        stop.set()
        serving.join(timeout=5)
        server.close()


def _crash_while_armed(path: str, env: dict[str, str]) -> None:
    host = subprocess.Popen(
        [sys.executable, "-c", CRASHING_HOST, path],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert host.stdout is not None
        line = host.stdout.readline().decode()
        assert line.strip() == "ARMED", host.stderr.read().decode() if host.stderr else ""
        host.send_signal(signal.SIGKILL)
        host.wait(timeout=10)
    finally:
        if host.poll() is None:
            host.kill()


def _probe(path: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stimctl", "devices", "probe", "--port", path, "--driver", "magpro"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_probe_after_a_host_crash_disarms_the_magpro_and_says_so(
    served: tuple[Any, str], tmp_path: Path
) -> None:
    sim, path = served
    env = {**os.environ, "STIMCTL_HOME": str(tmp_path / "home")}
    _crash_while_armed(path, env)
    time.sleep(1.5)  # well past any keep-alive a Magstim would have: a MagPro has none
    assert sim.armed  # the crashed host left it enabled

    first = _probe(path, env)
    assert first.returncode == 0, first.stderr
    assert f"the MagPro on {path} {NOTICE}" in first.stderr
    assert not sim.armed
    assert "standby" in first.stdout

    again = _probe(path, env)  # nothing left to report the second time
    assert again.returncode == 0, again.stderr
    assert NOTICE not in again.stderr
    assert sim.pulses == []  # found armed, never fired


def test_run_after_a_host_crash_disarms_the_magpro_first_and_says_so(
    served: tuple[Any, str], tmp_path: Path
) -> None:
    sim, path = served
    env = {**os.environ, "STIMCTL_HOME": str(tmp_path / "home")}
    _crash_while_armed(path, env)
    assert sim.armed
    protocol = tmp_path / "p.toml"
    protocol.write_text(
        'schema_version = 1\nname = "p"\ntitle = "t"\nindication = "research"\n'
        'source = "test"\n[target]\nsite = "M1-hand"\nhemisphere = "left"\n'
        '[coil]\nfamily = "figure-8"\n[intensity]\npercent_rmt = 100\n'
        '[pattern]\nkind = "continuous"\nfrequency_hz = 1.0\npulses = 2\n'
    )
    # a research session on record, at a site that allows unauthenticated research runs
    enroll(tmp_path / "home", rmt=30.0)
    site = tmp_path / "site.toml"
    site.write_text(
        "schema_version = 1\nresearch_allowed = true\nunauthenticated_research_runs = true\n"
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "stimctl",
            "run",
            str(protocol),
            "--subject",
            "S-01",
            "--rmt",
            "30",
            "--mode",
            "research",
            "--study",
            "ST-1",
            "--site",
            str(site),
            "--device",
            "magpro-x100",
            "--port",
            path,
            "--headless",
            "--yes",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert f"the MagPro on {path} {NOTICE}" in run.stderr
    assert run.returncode == 0, run.stderr
    assert [(p.channel, p.intensity) for p in sim.pulses] == [("A", 30), ("A", 30)]
    assert not sim.armed
