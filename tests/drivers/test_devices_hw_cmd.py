"""`stimctl devices probe` / `ports` against simulators served on a real pty."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pytest_mock import MockerFixture

from stimctl.cli import main

simulators = pytest.importorskip("simulators")


@pytest.fixture
def pty_sim(request: pytest.FixtureRequest) -> Iterator[str]:
    spec = request.param
    server = simulators.PtyServer(simulators.create_simulator(spec))
    stop = threading.Event()
    thread = threading.Thread(target=server.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        yield server.path
    finally:
        stop.set()
        thread.join(2.0)
        server.close()


@pytest.mark.parametrize("pty_sim", ["magpro-x100"], indirect=True)
def test_probe_with_a_named_driver_prints_identity_and_status(
    pty_sim: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["devices", "probe", "--port", pty_sim, "--driver", "magpro"]) == 0
    out = capsys.readouterr().out
    assert "MagVenture MagPro X100" in out
    assert "coil temperature  25.0 °C" in out
    assert "status            standby" in out


@pytest.mark.parametrize("pty_sim", ["magstim-rapid2?version=8.0"], indirect=True)
def test_probe_without_a_driver_finds_the_rapid(
    pty_sim: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["devices", "probe", "--port", pty_sim]) == 0
    out = capsys.readouterr().out
    assert "Magstim Rapid²" in out and "software          8.0" in out


def test_probe_on_a_missing_port_is_one_line_and_the_connection_exit_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["devices", "probe", "--port", "/dev/stimctl-missing", "--driver", "magpro"]) == 5
    err = capsys.readouterr().err.strip()
    assert err.startswith("stimctl: error: cannot open serial port") and "\n" not in err


def test_probe_with_an_unknown_driver_names_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["devices", "probe", "--port", "loop://", "--driver", "nope"]) == 2
    assert "known drivers: magpro" in capsys.readouterr().err


def test_probe_refuses_a_malformed_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "probe", "--port", "loop://", "--option", "novalue"]) == 2
    assert "key=value" in capsys.readouterr().err


def test_ports_says_so_when_there_are_none(
    mocker: MockerFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    mocker.patch("serial.tools.list_ports.comports", return_value=[])
    assert main(["devices", "ports"]) == 0
    assert capsys.readouterr().out.strip() == "no serial ports found"
