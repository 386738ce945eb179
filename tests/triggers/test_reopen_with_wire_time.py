"""A MagPro session opened right after the last one closed, with wire time: the unit's
last messages to the old session are still coming down the cable, and the new session
reads the tail of a frame (found by the e-stop bench with wire time, issue 18 item 5).
The driver must get past that once, not refuse the unit. Real simulator, real clock."""

from __future__ import annotations

import logging

import serial

import simulators
from stimctl.hal import Transport, load_driver


def test_a_magpro_reopened_while_its_last_messages_are_on_the_wire_opens() -> None:
    simulators.install_url_handler()
    port = serial.serial_for_url("stimsim://magpro-x100?wire_time=1", baudrate=38400, timeout=0.02)
    driver_cls = load_driver("magpro")
    logging.getLogger("drivers").setLevel(logging.CRITICAL)
    for _ in range(10):
        if not port.is_open:
            port.open()
        driver = driver_cls("stimsim://", transport=Transport(port))
        driver.open()  # the old session's disable answers are still arriving
        driver.set_intensity(30)
        driver.arm()
        driver.close()
    assert port.simulator is not None
    assert not port.simulator.armed
