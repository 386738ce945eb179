"""`stimctl sim serve SPEC --trigger sim://NAME` in a real process: a host-timed train on
the served Rapid² fires through its Trigger In, from the host's `sim://NAME` line in this
process (issue 18 item 2). Pulse counts only: timing belongs to the bench."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from stimctl.clock import MonotonicClock
from stimctl.errors import ConfigError
from stimctl.hal import Transport, load_driver, open_trigger
from tests.triggers.conftest import wire_name

UNLOCK = "abcd-0123abcd-5e"
SPEC = f"magstim-rapid2?version=10&unlock_code={UNLOCK}&type=super-plus"


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "stimctl", "sim", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    name = wire_name()
    proc = _serve(SPEC, "--trigger", f"sim://{name}")
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("PTY /dev/"), (first, proc.stderr.read() if proc.stderr else "")
    assert proc.stdout.readline().strip() == f"TRIGGER sim://{name}"
    yield proc, first.split(" ", 1)[1].strip(), name
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_a_host_timed_train_fires_the_served_rapid2_through_its_trigger_in(
    served: tuple[subprocess.Popen[str], str, str],
) -> None:
    proc, path, name = served
    clock = MonotonicClock()
    import serial

    port = serial.Serial(path, 9600, timeout=0.5)
    driver = load_driver("magstim-rapid2")(
        path, clock=clock, transport=Transport(port, url=path), unlock_code=UNLOCK
    )
    driver.open()
    try:
        driver.attach_trigger(open_trigger(f"sim://{name}", clock=clock))
        driver.set_intensity(30)
        driver.arm()
        driver.wait_ready(timeout_s=5.0, poll_s=0.05)
        start = clock.now() + 0.05
        receipts = [driver.fire(scheduled_s=start + k * 0.1) for k in range(5)]  # 10 Hz
    finally:
        driver.close()
    assert all(r.via == f"sim://{name}" for r in receipts)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "5 pulses delivered (5 through the trigger)" in out


def test_a_host_line_to_a_served_wire_fails_closed_once_the_server_is_gone(
    served: tuple[subprocess.Popen[str], str, str],
) -> None:
    proc, _, name = served
    line = open_trigger(f"sim://{name}")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)
    from stimctl.errors import TransportError

    with pytest.raises(TransportError, match="the simulator serving it is gone"):
        line.pulse()
    line.close()


@pytest.mark.parametrize(
    ("spec", "trigger", "message"),
    [
        ("magstim-200", "sim://x", "no trigger input documented"),
        ("magstim-rapid2", "serial-rts:///dev/ttyS0", "a served simulator takes sim://NAME"),
    ],
)
def test_bad_trigger_options_are_one_line_and_exit_2(spec: str, trigger: str, message: str) -> None:
    proc = _serve(spec, "--trigger", trigger)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == ConfigError.exit_code
    assert message in err
    assert "Traceback" not in err
