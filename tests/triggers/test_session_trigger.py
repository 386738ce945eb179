"""Sessions name their trigger (issue 18 item 3): `prepare(trigger=...)` tells the safety
engine, `open_session` attaches the line after the driver opened and journals its URL,
and a theta-burst session on a simulated Rapid² fires every pulse through Trigger In.
Real driver, real simulator on stimsim://, simulated time (tests/session/harness.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from stimctl.cli import main
from stimctl.clock import SimulatedClock, driving
from stimctl.errors import ConfigError, ExitCode, SafetyViolation
from stimctl.hal import TriggerUnavailable
from stimctl.safety import MotorThreshold, SiteRules, Subject
from stimctl.session.runner import open_session, prepare
from stimctl.session.simulation import SimulatedDevice, open_simulated_session
from tests.session.harness import NOW, TBS, write_protocol
from tests.triggers.conftest import wire_name

SUPER_PLUS = "magstim-rapid2-super-plus-240v"


def _subject(rmt: float = 30.0) -> Subject:
    return Subject(MotorThreshold(rmt, "emg", NOW.date()))


def test_theta_burst_on_a_rapid2_is_blocked_without_a_trigger(tmp_path: Path) -> None:
    protocol = write_protocol(tmp_path, TBS.format(trains=2))
    with pytest.raises(SafetyViolation, match="external trigger source is needed"):
        prepare(protocol, _subject(), SUPER_PLUS, site=SiteRules(), now=NOW)


def test_a_theta_burst_session_fires_every_pulse_through_trigger_in(tmp_path: Path) -> None:
    protocol = write_protocol(tmp_path, TBS.format(trains=2))
    name = wire_name()
    url = f"sim://{name}"
    prepared = prepare(protocol, _subject(), SUPER_PLUS, site=SiteRules(), now=NOW, trigger=url)
    assert prepared.trigger == url
    clock = SimulatedClock()
    sim = SimulatedDevice(prepared.device, clock, trigger=url)
    engine = open_simulated_session(prepared, sim, journal_dir=tmp_path / "journals")
    assert engine.driver.trigger is not None and engine.driver.trigger.url == url
    engine.start()
    summary = engine.wait(60)
    with driving(clock):
        engine.driver.close()
    pulses = sim.pulse_log()
    sim.__exit__(None, None, None)
    assert summary.status == "completed"
    assert summary.pulses_delivered == 60  # 2 trains x 2 s x 5 bursts/s x 3 pulses
    assert len(pulses) == 60
    assert {p.via for p in pulses} == {"trigger"}
    # 50 Hz inside each burst, as the line was pulsed
    assert pulses[1].time - pulses[0].time == pytest.approx(0.02, abs=1e-6)
    assert not engine.driver.trigger.is_open  # closed with the driver
    start = json.loads(engine.journal.path.read_text().splitlines()[0])
    assert start["payload"]["device"]["trigger"] == url


def test_a_bad_trigger_url_refuses_before_the_device_is_touched(tmp_path: Path) -> None:
    protocol = write_protocol(tmp_path, TBS.format(trains=2))
    with pytest.raises(ConfigError, match="unknown scheme 'usb'"):
        prepare(protocol, _subject(), SUPER_PLUS, site=SiteRules(), now=NOW, trigger="usb://x")


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_dry_run_takes_trigger_and_journals_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = write_protocol(tmp_path, TBS.format(trains=2))
    url = f"sim://{wire_name()}"
    args = ["dry-run", protocol, "--rmt", "30", "--device", SUPER_PLUS, "--json"]
    code, out, err = _cli(capsys, *args, "--trigger", url)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "completed"
    journal = Path(summary["journal"]).read_text().splitlines()
    assert json.loads(journal[0])["payload"]["device"]["trigger"] == url
    code, _, err = _cli(capsys, *args)
    assert code == ExitCode.BLOCKED
    assert "--trigger" in err


def test_dry_run_refuses_a_hardware_trigger_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = write_protocol(tmp_path, TBS.format(trains=2))
    args = ["dry-run", protocol, "--rmt", "30", "--device", SUPER_PLUS]
    code, _, err = _cli(capsys, *args, "--trigger", "serial-rts:///dev/ttyS0")
    assert code == ExitCode.BAD_INPUT
    assert "give sim://NAME" in err
    assert "Traceback" not in err


def test_a_hardware_trigger_that_cannot_open_stops_the_session_before_the_device(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    protocol = write_protocol(tmp_path, TBS.format(trains=2))
    url = "serial-rts:///dev/stimctl-no-such-port"
    prepared = prepare(protocol, _subject(), SUPER_PLUS, site=SiteRules(), now=NOW, trigger=url)
    clock = SimulatedClock()
    with SimulatedDevice(prepared.device, clock) as sim:
        transport = sim.open_transport()
        written = mocker.spy(transport, "write")
        with (
            driving(clock),
            pytest.raises(TriggerUnavailable, match="cannot open the port"),
        ):
            open_session(
                prepared,
                sim.url,
                clock=clock,
                transport=transport,
                driver_options=sim.driver_options,
                journal_dir=tmp_path / "journals",
            )
        assert written.call_count == 0  # not a byte went to the stimulator
        assert sim.check_disarmed()
        assert not (tmp_path / "journals").exists()


def test_open_session_refuses_a_trigger_other_than_the_one_judged(tmp_path: Path) -> None:
    protocol = write_protocol(tmp_path, TBS.format(trains=2))
    prepared = prepare(
        protocol, _subject(), SUPER_PLUS, site=SiteRules(), now=NOW, trigger="sim://judged"
    )
    with pytest.raises(ConfigError, match="is not the 'sim://judged' the check judged"):
        open_session(prepared, "stimsim://x", clock=SimulatedClock(), trigger="sim://other")
