"""The hardware trigger lines (issue 18 item 1).

Serial RTS/DTR on real pyserial ports: `loop://` (pyserial ties RTS to CTS and DTR to
DSR, a loopback cable in software) and a real pseudo-terminal (which has no modem
lines: refused with one line). OS faults are injected with pytest-mock.

FTDI, LabJack and parallel lines need hardware and vendor libraries this machine does
not have (pyftdi's virtual USB backend is not shipped in its wheel; LJM needs LabJack's
native library). Their tests put a small stand-in for the vendor module in
`sys.modules` that records each call and wires the output back to the loopback input
(or not: a broken cable), and check the calls our line makes, in order, against the
vendors' documented APIs (pyftdi GpioAsyncController; LJM openS/eWriteName/eReadName/
close; pyparallel Parallel.setData/getIn*). A missing package is one clear line.
"""

from __future__ import annotations

import os
import sys
import tty
import types
from typing import Any

import pytest
import serial
from pytest_mock import MockerFixture

from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError, TransportError
from stimctl.hal import TriggerLoopbackError, TriggerUnavailable, make_trigger, open_trigger

# --- serial RTS / DTR -------------------------------------------------------------------


@pytest.mark.parametrize(("scheme", "loop"), [("serial-rts", "cts"), ("serial-dtr", "dsr")])
def test_a_pulse_on_a_loopback_port_is_read_back_high_then_low(scheme: str, loop: str) -> None:
    clock = VirtualClock(3.0)
    url = f"{scheme}://loop://?loopback={loop}&width_ms=2"
    with open_trigger(url, clock=clock) as line:
        assert line.read_back() is False
        receipt = line.pulse(scheduled_s=4.0)
        assert line.read_back() is False
    assert (receipt.via, receipt.actual_s, receipt.scheduled_s) == (url, 4.0, 4.0)
    assert clock.now() == pytest.approx(4.002)  # held for the width


def test_a_broken_loopback_stops_at_the_first_edge_and_leaves_the_line_low(
    mocker: MockerFixture,
) -> None:
    line = open_trigger("serial-rts://loop://?loopback=cts", clock=VirtualClock())
    port = line._port  # type: ignore[attr-defined]
    mocker.patch.object(type(port), "cts", new_callable=mocker.PropertyMock, return_value=False)
    with pytest.raises(TriggerLoopbackError, match="reads low after the output was driven high"):
        line.pulse()
    assert port.rts is False
    line.close()


def test_an_os_error_while_pulsing_is_a_transport_error(mocker: MockerFixture) -> None:
    line = open_trigger("serial-dtr://loop://", clock=VirtualClock())
    port = line._port  # type: ignore[attr-defined]
    mocker.patch.object(
        type(port), "_update_dtr_state", side_effect=OSError(5, "Input/output error")
    )
    with pytest.raises(TransportError, match="setting DTR failed"):
        line.pulse()
    line.close()  # best effort, never raises


def test_a_pseudo_terminal_has_no_rts_line_and_is_refused_in_one_line() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        with pytest.raises(TriggerUnavailable, match="has no RTS line to drive"):
            open_trigger(f"serial-rts://{os.ttyname(slave)}", clock=VirtualClock())
    finally:
        os.close(master)
        os.close(slave)


def test_a_port_that_does_not_exist_is_refused_in_one_line() -> None:
    with pytest.raises(TriggerUnavailable, match="cannot open the port"):
        open_trigger("serial-rts:///dev/stimctl-no-such-port", clock=VirtualClock())


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("serial-rts://", "name the port"),
        ("serial-rts://loop://?loopback=rts", "loopback must be one of cts, dsr, cd, ri"),
        ("serial-dtr://loop://?baud=0", "baud must be"),
        ("ftdi://ftdi:232h/1?pin=9", "pin must be 0-7"),
        ("ftdi://ftdi:232h/1?pin=1&loopback_pin=1", "not the output pin"),
        ("labjack://U3/ANY", "device type must be one of"),
        ("labjack://T4/ANY?out=AIN0", "out must be a digital line"),
        ("labjack://T4/ANY?out=FIO4&in=FIO4", "must be different lines"),
        ("parallel://0?bit=8", "bit must be 0-7"),
        ("parallel://0?loopback=strobe", "loopback must be one of"),
    ],
)
def test_bad_hardware_urls_are_refused_before_any_hardware_is_touched(
    url: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        make_trigger(url)


# --- missing optional packages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "module", "message"),
    [
        ("ftdi://ftdi:232h/1", "pyftdi.gpio", "needs the Python package 'pyftdi'"),
        ("labjack://T4/ANY", "labjack", "needs the Python package 'labjack-ljm'"),
        ("parallel://0", "parallel", "needs the Python package 'pyparallel'"),
    ],
)
def test_a_missing_optional_package_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, url: str, module: str, message: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # `import` raises ImportError
    with pytest.raises(TriggerUnavailable, match=message) as caught:
        open_trigger(url, clock=VirtualClock())
    text = str(caught.value)
    assert "\n" not in text
    assert "pip install 'stimctl[" in text


# --- stand-ins for the vendor libraries ------------------------------------------------------


class Calls(list[tuple[Any, ...]]):
    """Every call into the stand-in, in order."""


def _ljm(calls: Calls, *, wired: bool) -> types.ModuleType:
    state = {"out": 0.0}
    ljm = types.ModuleType("labjack.ljm")

    def openS(device_type: str, connection: str, identifier: str) -> int:
        calls.append(("openS", device_type, connection, identifier))
        return 7

    def eWriteName(handle: int, name: str, value: float) -> None:
        calls.append(("eWriteName", handle, name, value))
        state["out"] = value

    def eReadName(handle: int, name: str) -> float:
        calls.append(("eReadName", handle, name))
        return state["out"] if wired else 0.0

    def close(handle: int) -> None:
        calls.append(("close", handle))

    ljm.openS = openS  # type: ignore[attr-defined]
    ljm.eWriteName = eWriteName  # type: ignore[attr-defined]
    ljm.eReadName = eReadName  # type: ignore[attr-defined]
    ljm.close = close  # type: ignore[attr-defined]
    return ljm


@pytest.fixture
def labjack(monkeypatch: pytest.MonkeyPatch) -> tuple[Calls, Any]:
    calls = Calls()
    package = types.ModuleType("labjack")

    def install(wired: bool = True) -> None:
        ljm = _ljm(calls, wired=wired)
        package.ljm = ljm  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "labjack", package)
        monkeypatch.setitem(sys.modules, "labjack.ljm", ljm)

    return calls, install


def test_labjack_pulses_fio4_and_checks_it_on_fio5(labjack: tuple[Calls, Any]) -> None:
    """NeuroSimo's pattern (ecosystem 10.1): out FIO4, loopback in FIO5."""
    calls, install = labjack
    install()
    clock = VirtualClock()
    with open_trigger("labjack://T4/ANY", clock=clock) as line:
        receipt = line.pulse(scheduled_s=1.0)
    assert receipt.actual_s == 1.0
    assert calls == [
        ("openS", "T4", "ANY", "ANY"),
        ("eWriteName", 7, "FIO4", 0),
        ("eWriteName", 7, "FIO4", 1),
        ("eReadName", 7, "FIO5"),
        ("eWriteName", 7, "FIO4", 0),
        ("eReadName", 7, "FIO5"),
        ("eWriteName", 7, "FIO4", 0),  # close drives it low first
        ("close", 7),
    ]


def test_labjack_with_a_broken_loopback_stops_and_drives_the_output_low(
    labjack: tuple[Calls, Any],
) -> None:
    calls, install = labjack
    install(wired=False)
    line = open_trigger("labjack://T7/470012345?conn=USB", clock=VirtualClock())
    with pytest.raises(TriggerLoopbackError, match="check the trigger cable"):
        line.pulse()
    assert calls[0] == ("openS", "T7", "USB", "470012345")
    assert calls[-1] == ("eWriteName", 7, "FIO4", 0)
    line.close()


def test_labjack_without_its_native_library_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The LJM wrapper loads LabJack's native library on import: an OSError (injected)."""
    import builtins

    real_import = builtins.__import__

    def failing_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "labjack":
            raise OSError("libLabJackM.so: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.raises(TriggerUnavailable, match="LJM library is not installed"):
        open_trigger("labjack://T4/ANY", clock=VirtualClock())


def test_ftdi_drives_one_pin_and_reads_its_loopback_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    pins = {"value": 0}

    class GpioAsyncController:
        def configure(self, url: str, direction: int = 0, **kwargs: Any) -> None:
            calls.append(("configure", url, direction, kwargs))

        def write(self, out: int) -> None:
            calls.append(("write", out))
            pins["value"] = (out & 0x01) << 3  # pin 0 wired to pin 3

        def read(self, readlen: int = 1, peek: bool | None = None) -> int:
            calls.append(("read", readlen, peek))
            return pins["value"]

        def close(self, freeze: bool = False) -> None:
            calls.append(("close",))

    gpio = types.ModuleType("pyftdi.gpio")
    gpio.GpioAsyncController = GpioAsyncController  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyftdi", types.ModuleType("pyftdi"))
    monkeypatch.setitem(sys.modules, "pyftdi.gpio", gpio)
    with open_trigger("ftdi://ftdi:232h/1?pin=0&loopback_pin=3", clock=VirtualClock()) as line:
        line.pulse()
    assert calls == [
        ("configure", "ftdi://ftdi:232h/1", 0x01, {"initial": 0}),
        ("write", 0),
        ("write", 1),
        ("read", 1, True),
        ("write", 0),
        ("read", 1, True),
        ("write", 0),
        ("close",),
    ]


def test_parallel_drives_one_data_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()

    class Parallel:
        def __init__(self, port: int | str = 0) -> None:
            calls.append(("Parallel", port))
            self.data = 0

        def setData(self, value: int) -> None:
            calls.append(("setData", value))
            self.data = value

        def getInAcknowledge(self) -> bool:
            calls.append(("getInAcknowledge",))
            return bool(self.data & 0x04)

    module = types.ModuleType("parallel")
    module.Parallel = Parallel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "parallel", module)
    url = "parallel:///dev/parport0?bit=2&loopback=ack&width_ms=10"
    with open_trigger(url, clock=VirtualClock()) as line:
        line.pulse()
    assert calls == [
        ("Parallel", "/dev/parport0"),
        ("setData", 0),
        ("setData", 4),
        ("getInAcknowledge",),
        ("setData", 0),
        ("getInAcknowledge",),
        ("setData", 0),
    ]


def test_serial_module_is_the_real_pyserial() -> None:
    """The serial tests above run on pyserial itself, not a stand-in."""
    assert serial.serial_for_url("loop://").__class__.__module__.startswith("serial.")
