"""Journals for the report tests: real sessions on the simulator, and hand-made ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stimctl.clock import SimulatedClock, VirtualClock, driving
from stimctl.journal import Journal, events
from stimctl.session.runner import open_session
from stimctl.session.simulation import FaultAt, SimulatedDevice
from tests.console.harness import prepared_for, write_protocol


def real_session(directory: Path, *, trains: int = 4, faults: list[FaultAt] | None = None) -> Path:
    """A whole session of the small test protocol on the simulator, at simulated speed."""
    prepared = prepared_for(write_protocol(directory, trains=trains))
    clock = SimulatedClock()
    with SimulatedDevice(prepared.device, clock) as sim:
        with driving(clock):
            engine = open_session(
                prepared,
                sim.url,
                clock=clock,
                journal_dir=directory / "journals",
                transport=sim.open_transport(),
                driver_options=sim.driver_options,
                operator="tester",
            )
        sim.schedule_faults(faults or [])
        engine.start()
        summary = engine.wait(timeout=60)
        with driving(clock):
            engine.driver.close()
    return Path(summary.journal)


def hand_made(directory: Path, records: list[tuple[str, str, dict[str, Any]]]) -> Path:
    """A journal written through the real writer from (event, actor, payload) triples."""
    clock = VirtualClock()
    journal = Journal.create(directory, "handmade", clock=clock)
    for event, actor, payload in records:
        journal.append(event, payload, actor=actor)
        clock.advance(1.0)
    journal.close()
    return journal.path


MINIMAL_START: dict[str, Any] = {
    "operator": "operator:nurse",
    "subject": {"id": "<script>alert(1)</script>", "rmt_percent_mso": 50.0},
    "protocol": {"name": "x", "title": "Hand-made <b>bold</b> title"},
    "verdict": {"verdict": "allow", "findings": []},
}

EVENTS = events
