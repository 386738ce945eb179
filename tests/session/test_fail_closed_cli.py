"""Issue 12: the session never reports success when the device may still be armed, and a
serious adverse event ends it (dry runs through the real CLI, simulator and journal)."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.journal import read

MODELS = [
    "magstim-200",
    "magstim-bistim",
    "magstim-rapid2-super-plus-240v",
    "magpro-x100",
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


SLOW_SINGLE_PULSES = """
schema_version = 1
name = "slow-single-pulses"
title = "Single pulses every 5 s (runs on every model)"
indication = "research"
source = "test protocol"

[target]
site = "M1-hand"
hemisphere = "left"

[coil]
family = "figure-8"

[intensity]
percent_rmt = 90

[pattern]
kind = "continuous"
frequency_hz = 0.2
pulses = 20
"""


@pytest.fixture
def slow_protocol(tmp_path: Path) -> Path:
    path = tmp_path / "slow-single-pulses.toml"
    path.write_text(SLOW_SINGLE_PULSES)
    return path


def protocol_for(device: str, slow: Path) -> str:
    # the 200² and BiStim² take single triggers at up to 0.25 Hz
    return str(slow) if device in ("magstim-200", "magstim-bistim") else "np-m1-10hz-90"


@pytest.mark.parametrize("device", MODELS)
def test_a_device_that_will_not_disarm_is_never_reported_as_success(
    device: str, slow_protocol: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "dry-run",
        protocol_for(device, slow_protocol),
        "--rmt",
        "52",
        "--device",
        device,
        "--fault",
        "ignore-disarm@10",
        "--json",
    )
    summary = json.loads(out)
    assert code == ExitCode.DISARM_UNCONFIRMED
    assert summary["disarm_confirmed"] is False
    assert "disarm unconfirmed" in summary["outcome"].lower()
    assert any(a.startswith("high: the device did not confirm") for a in summary["alarms"])
    assert "switch the stimulator off" in err.lower()
    records = read(Path(summary["journal"]))
    end = [r for r in records if r["event"] == "session_end"][-1]
    assert end["payload"]["disarmed"] is False
    alarms = [r["payload"]["code"] for r in records if r["event"] == "alarm"]
    assert "DISARM" in alarms


def test_a_full_disk_stops_the_session_disarmed_with_one_clear_line(
    mocker: MockerFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # ENOSPC from the journal's 60th write on: the engine used to die and the process hang
    from stimctl.journal import writer

    real_write = writer.write_all
    writes = {"n": 0}

    def filling(fd: int, data: bytes) -> None:
        writes["n"] += 1
        if writes["n"] > 60:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(fd, data)

    mocker.patch("stimctl.journal.writer.write_all", filling)
    code, out, err = run(capsys, "dry-run", "np-m1-10hz-90", "--rmt", "52", "--json")
    summary = json.loads(out)
    assert code == ExitCode.RECORDS
    assert summary["status"] == "fault"
    assert "journal could not be written" in summary["outcome"]
    assert 0 < summary["pulses_delivered"] < 2000
    assert summary["disarm_confirmed"] is True
    assert err.count("\n") == 1 and "No space left on device" in err


def test_a_serious_adverse_event_ends_the_session_and_cannot_be_resumed(
    tmp_path: Path,
) -> None:
    from tests.session.harness import TRAINS, start, write_protocol

    session = start(write_protocol(tmp_path, TRAINS.format(trains=5)), tmp_path)
    engine = session.engine

    def seizure() -> None:
        engine.pause("operator:test")
        assert engine.adverse_event("operator:test", kind="seizure", severity="severe")
        engine.resume("operator:test")  # one press of Space used to resume stimulation

    session.at(13.0, seizure).join(30)
    summary = session.finish()
    assert summary.status == "stopped-adverse-event"
    assert summary.adverse_event == "seizure (severe)"
    assert summary.outcome.startswith("stopped for a serious adverse event: seizure")
    assert not session.sim.simulator.armed
    pulses_at_event = len(session.sim.pulse_log())
    assert pulses_at_event <= 40  # nothing after the second train
    end = [r for r in session.journal() if r["event"] == "session_end"][-1]
    assert end["payload"]["status"] == "stopped-adverse-event"  # type: ignore[index]


def test_a_mild_adverse_event_does_not_end_the_session(tmp_path: Path) -> None:
    from tests.session.harness import TRAINS, start, write_protocol

    session = start(write_protocol(tmp_path, TRAINS.format(trains=2)), tmp_path)
    assert not session.engine.adverse_event("operator:test", kind="headache", severity="mild")
    assert session.finish().status == "completed"


def test_wait_never_hangs_on_an_engine_thread_that_died(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    from tests.session.harness import TRAINS, start, write_protocol

    session = start(write_protocol(tmp_path, TRAINS.format(trains=2)), tmp_path, begin=False)
    # the thread dies before it can finish (as a BaseException escaping every handler would)
    mocker.patch.object(session.engine, "_run", return_value=None)
    session.engine.start()
    summary = session.engine.wait(timeout=2)
    assert summary.status == "fault"
    assert "engine thread died" in summary.reason
    assert not session.sim.simulator.armed
    session.finish()


def test_a_fault_injector_that_dies_faults_the_session(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    from stimctl.session.simulation import FaultAt
    from tests.session.harness import TRAINS, start, write_protocol

    session = start(write_protocol(tmp_path, TRAINS.format(trains=4)), tmp_path, begin=False)
    mocker.patch.object(session.sim, "inject", side_effect=RuntimeError("injector bug"))
    session.sim.on_error = session.engine.background_failed
    session.engine.start()
    session.sim.schedule_faults([FaultAt("overheat", 5.0)])
    summary = session.finish()
    assert summary.status == "fault"
    assert "fault injector overheat@5 failed: injector bug" in summary.reason
    assert not session.sim.simulator.armed


def test_a_full_disk_at_the_closing_record_is_a_fault_not_an_internal_error(
    mocker: MockerFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from stimctl.journal import writer

    real_write = writer.write_all

    def full_at_the_end(fd: int, data: bytes) -> None:
        if b'"event":"session_end"' in data:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(fd, data)

    mocker.patch("stimctl.journal.writer.write_all", full_at_the_end)
    code, out, err = run(capsys, "dry-run", "np-m1-10hz-90", "--rmt", "52", "--json")
    summary = json.loads(out)
    assert code == ExitCode.RECORDS, err
    assert summary["status"] == "fault"  # every train went out, but the record is not closed
    assert summary["pulses_delivered"] == 2000
    assert summary["disarm_confirmed"] is True
    assert "internal error" not in err
