"""Transport: one deadline per read, vanished ports become ConnectionLost."""

from __future__ import annotations

import os
import threading
import time

import pytest

from stimctl.errors import ConnectionLost, DeviceTimeout, ProtocolError, TransportError
from stimctl.hal import ScriptedPort, ScriptMismatch, Transport


def test_loop_url_round_trip_through_serial_for_url() -> None:
    transport = Transport.open("loop://", baudrate=9600)
    try:
        transport.write(b"Q@n")
        assert transport.read_exact(3, timeout=1.0) == b"Q@n"
    finally:
        transport.close()


def test_short_read_raises_device_timeout_instead_of_returning_short_data() -> None:
    transport = Transport.open("loop://", baudrate=9600)
    transport.write(b"ab")
    with pytest.raises(DeviceTimeout, match="expected 3 bytes"):
        transport.read_exact(3, timeout=0.1)
    transport.close()


def test_trickling_bytes_do_not_extend_the_deadline() -> None:
    # pyserial#182: a per-byte timeout never ends while bytes keep trickling in.
    port = ScriptedPort()
    transport = Transport(port)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            port.feed(b"x")
            time.sleep(0.005)

    thread = threading.Thread(target=trickle)
    thread.start()
    try:
        with pytest.raises(ProtocolError):  # read_until gives up on its byte budget...
            transport.read_until(b"\x00", timeout=5.0, max_bytes=20)
        port.reset_input_buffer()
        with pytest.raises(DeviceTimeout):  # ...and read_exact on its one deadline
            transport.read_exact(10_000, timeout=0.2)
    finally:
        stop.set()
        thread.join()


def test_read_until_keeps_the_terminator() -> None:
    port = ScriptedPort()
    port.feed(b"NV9.0\x00\xc4")
    transport = Transport(port)
    assert transport.read_until(b"\x00", timeout=0.5) == b"NV9.0\x00"
    assert transport.read_exact(1, timeout=0.5) == b"\xc4"


def test_pulled_cable_becomes_connection_lost() -> None:
    port = ScriptedPort()
    transport = Transport(port)
    port.pull_cable()
    with pytest.raises(ConnectionLost):
        transport.read_exact(1, timeout=0.1)
    with pytest.raises(ConnectionLost):
        transport.write(b"x")


def test_closed_pty_becomes_connection_lost() -> None:
    master, slave = os.openpty()
    transport = Transport.open(os.ttyname(slave), baudrate=9600)
    try:
        os.write(master, b"ok")
        assert transport.read_exact(2, timeout=1.0) == b"ok"
        os.close(master)  # the far end (a simulator, a USB adapter) disappears
        with pytest.raises(ConnectionLost):
            transport.read_exact(1, timeout=0.5)
    finally:
        transport.close()
        os.close(slave)


def test_unopenable_port_is_a_transport_error() -> None:
    with pytest.raises(TransportError, match="cannot open"):
        Transport.open("/dev/does-not-exist-stimctl", baudrate=9600)


def test_close_is_idempotent_and_later_io_is_connection_lost() -> None:
    transport = Transport(ScriptedPort())
    transport.close()
    transport.close()
    with pytest.raises(ConnectionLost):
        transport.write(b"x")


def test_scripted_port_rejects_an_unexpected_write() -> None:
    port = ScriptedPort([(b"Q@n", b"Q\x89%")])
    with pytest.raises(ScriptMismatch, match="expected write"):
        port.write(b"R@m")


def test_scripted_port_reports_unconsumed_script() -> None:
    port = ScriptedPort([(b"Q@n", b"Q\x89%")])
    with pytest.raises(ScriptMismatch, match="not consumed"):
        port.assert_done()
    port.write(b"Q@n")
    with pytest.raises(ScriptMismatch, match="unread reply"):
        port.assert_done()
