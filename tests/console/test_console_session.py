"""The console driven by keys against a real engine, driver and simulator (Pilot).

Each test runs the app headless with `App.run_test` on a paced simulated clock (see
harness.py): the session moves in small steps of simulated time and can be held still
at an exact state while the test presses keys and looks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Input, Select

from stimctl.console.dialogs import AdverseEventDialog, ConfirmDialog, IntensityDialog
from stimctl.console.live import AlarmBanner, StateBadge
from stimctl.console.prestart import PreStartScreen
from stimctl.console.summary_screen import SummaryScreen
from tests.console.harness import LiveSession, live_session

Scenario = Callable[[LiveSession, Pilot[Any]], Awaitable[None]]


def run(tmp_path: Path, scenario: Scenario, **options: Any) -> LiveSession:
    async def main() -> LiveSession:
        with live_session(tmp_path, **options) as session:
            async with session.app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                await scenario(session, pilot)
            return session

    return asyncio.run(main())


async def start_session(s: LiveSession, pilot: Pilot[Any]) -> None:
    assert isinstance(s.app.screen, PreStartScreen)
    await pilot.press("space")  # the pre-session check has the focus
    await pilot.press("f5")


async def start_and_hold_after_first_train(s: LiveSession, pilot: Pilot[Any]) -> None:
    """Start the session and hold the engine in the pause after the first train."""
    s.hold_when(lambda snap: snap.state == "intertrain" and snap.trains_delivered == 1)
    await start_session(s, pilot)
    s.held()


async def until(pilot: Pilot[Any], condition: Callable[[], bool], what: str) -> None:
    """Let the app process messages until `condition` holds (bounded real time)."""
    for _ in range(200):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"the console never got to: {what} (screen {pilot.app.screen})")


async def confirm_abort(s: LiveSession, pilot: Pilot[Any]) -> None:
    await pilot.press("a")
    await until(pilot, lambda: isinstance(s.app.screen, ConfirmDialog), "the abort question")
    await pilot.press("y")
    await until(pilot, lambda: not isinstance(s.app.screen, ConfirmDialog), "abort answered")


def records(s: LiveSession) -> list[dict[str, Any]]:
    lines = s.engine.journal.path.read_text().splitlines()
    return [json.loads(line) for line in lines]


def operator_commands(s: LiveSession) -> list[str]:
    return [r["payload"]["command"] for r in records(s) if r["event"] == "operator"]


def end_of(s: LiveSession) -> dict[str, Any]:
    last, seal = records(s)[-2:]
    assert (last["event"], seal["event"]) == ("session_end", "seal")
    payload: dict[str, Any] = last["payload"]
    return payload


def in_train(index: int) -> Callable[[Any], bool]:
    return lambda snap: snap.state == "train" and snap.trains_delivered == index


def test_a_full_dry_run_driven_by_keys_ends_on_the_summary_with_a_report(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await pilot.press("f5")  # not yet: the pre-session check is not ticked
        assert isinstance(s.app.screen, PreStartScreen)
        assert not s.app.started
        await start_session(s, pilot)
        summary = s.wait_end()
        await pilot.pause(0.2)
        assert isinstance(s.app.screen, SummaryScreen)
        await s.app.workers.wait_for_complete()  # the report is drawn off the UI thread
        await pilot.pause()
        assert s.app.screen.report == s.app.report_path
        assert summary.status == "completed"
        assert summary.pulses_delivered == summary.pulses_planned == 80
        assert s.app.report_path.endswith(".html")
        assert Path(s.app.report_path).read_text().count("JOURNAL TAMPERED") == 0
        await pilot.press("q")

    s = run(tmp_path, scenario)
    assert s.app.return_value is not None
    assert s.app.return_value.status == "completed"
    assert len(s.sim.pulse_log()) == 80


def test_pause_holds_the_next_train_and_resume_continues(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await start_and_hold_after_first_train(s, pilot)
        await pilot.press("space")
        s.hold_when(lambda snap: snap.state == "paused")
        paused = s.held()
        await pilot.pause(0.1)
        assert s.app.view.query_one(StateBadge).has_class("state-blue")
        assert "PAUSED" in str(s.app.view.query_one(StateBadge).render())
        s.pacer.hold_when(lambda: s.clock.now() > 30.0)  # far past the planned next onset
        s.held()
        still = s.engine.snapshot()
        assert still.state == "paused"
        assert still.trains_delivered == paused.trains_delivered == 1
        await pilot.press("space")
        s.hold_when(in_train(1))
        resumed = s.held()
        # the first train's 20, and the second train's counted live from its onset on
        assert resumed.current_train == 1 and resumed.trains_delivered == 1
        assert 20 < resumed.pulses_delivered <= 40
        summary = s.wait_end()
        assert summary.status == "completed"

    s = run(tmp_path, scenario)
    assert operator_commands(s) == ["pause", "resume"]


def test_abort_needs_confirmation_then_disarms_and_ends_aborted(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await start_and_hold_after_first_train(s, pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(s.app.screen, ConfirmDialog), "the question")
        await pilot.press("n")  # declined: nothing is sent
        await until(pilot, lambda: not isinstance(s.app.screen, ConfirmDialog), "declined")
        assert "abort" not in operator_commands(s)
        await confirm_abort(s, pilot)
        summary = s.wait_end()
        assert summary.status == "aborted"
        assert summary.reason == "operator abort"

    s = run(tmp_path, scenario)
    assert s.sim.check_disarmed()
    assert end_of(s)["disarmed"] is True
    assert operator_commands(s) == ["abort"]


def test_emergency_stop_during_a_train_disarms_within_the_same_key_press(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        s.hold_when(in_train(1))
        await start_session(s, pilot)
        s.held()
        assert s.sim.simulator.armed, "the device must be armed mid-train for this test"
        # The e-stop talks to the device, which needs simulated time to reply: let it
        # run again, slowly, so the train is still on when the key lands.
        s.pacer.step_s = 0.002
        s.thaw()
        await pilot.press("f1")
        # No pause, no wait: the key handler itself disarmed the device.
        assert not s.sim.simulator.armed
        assert s.app.last_estop_disarmed is True
        summary = s.wait_end()
        assert summary.status == "estopped"
        assert summary.pulses_delivered < summary.pulses_planned

    s = run(tmp_path, scenario)
    assert s.sim.check_disarmed()
    assert end_of(s)["status"] == "estopped"


def test_emergency_stop_works_over_an_open_dialog(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        s.hold_when(in_train(1))
        await start_session(s, pilot)
        s.held()
        await pilot.press("n")  # the note dialog has the focus now
        await until(pilot, lambda: type(s.app.screen).__name__ == "NoteDialog", "the note")
        s.pacer.step_s = 0.002
        s.thaw()
        await pilot.press("f1")
        assert not s.sim.simulator.armed
        assert s.wait_end().status == "estopped"

    run(tmp_path, scenario)


def test_an_intensity_increase_refused_by_the_safety_engine_changes_nothing(
    tmp_path: Path,
) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await start_and_hold_after_first_train(s, pilot)
        await pilot.press("plus")
        await until(pilot, lambda: isinstance(s.app.screen, IntensityDialog), "the dialog")
        dialog = s.app.screen
        assert isinstance(dialog, IntensityDialog)
        dialog.query_one("#percent", Input).value = "130"
        dialog.query_one("#reason", Input).value = "no response so far"
        assert "Confirm INCREASE" in str(dialog.query_one("#send", Button).label)
        await pilot.click("#send")
        s.hold_when(in_train(2))
        snap = s.held()
        assert snap.intensity_percent_rmt == 110
        assert any("intensity change refused" in e for e in snap.events)
        s.wait_end()

    # 110%: inside the Chen 1997 interval region at 5 s pauses (115% would be extrapolated)
    s = run(tmp_path, scenario, percent_rmt=110)
    requests = [
        r["payload"]
        for r in records(s)
        if r["event"] == "intensity" and r["actor"].startswith("operator:")
    ]
    assert len(requests) == 1
    assert requests[0]["accepted"] is False
    assert "INT-1" in requests[0]["refusal"]
    starts = [r["payload"] for r in records(s) if r["event"] == "train_start"]
    assert {p["intensity_percent_rmt"] for p in starts} == {110}


def test_an_allowed_intensity_decrease_applies_from_the_next_train(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await start_and_hold_after_first_train(s, pilot)
        await pilot.press("minus")
        await until(pilot, lambda: isinstance(s.app.screen, IntensityDialog), "the dialog")
        dialog = s.app.screen
        assert isinstance(dialog, IntensityDialog)
        assert dialog.query_one("#percent", Input).value == "85"
        dialog.query_one("#reason", Input).value = "discomfort"
        await pilot.click("#send")
        s.wait_end()

    s = run(tmp_path, scenario)
    starts = [r["payload"] for r in records(s) if r["event"] == "train_start"]
    assert [p["intensity_percent_rmt"] for p in starts] == [90, 85, 85, 85]
    assert [p["intensity_percent_mso"] for p in starts] == [45, 42, 42, 42]


def test_a_link_loss_raises_a_high_alarm_that_stays_until_acknowledged(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await start_and_hold_after_first_train(s, pilot)
        s.sim.simulator.pull_cable()
        s.hold_when(lambda snap: any(a.code == "DEV-3" for a in snap.alarms))
        s.held()
        await pilot.pause(0.2)
        banner = s.app.view.query_one(AlarmBanner)
        assert banner.display
        assert banner.has_class("alarm-high")
        assert "*** HIGH DEV-3" in str(banner.render())
        await pilot.press("k")  # a medium alarm would go; a high one stays (engine-held)
        await pilot.pause(0.1)
        assert banner.has_class("alarm-high")
        summary = s.wait_end()
        assert summary.status == "fault"
        await pilot.pause(0.2)
        screen = s.app.screen
        assert isinstance(screen, SummaryScreen)
        # Over a pulled cable nothing can be confirmed: the summary says so.
        assert "NOT confirm" in screen.note

    s = run(tmp_path, scenario)
    alarms = [r["payload"] for r in records(s) if r["event"] == "alarm"]
    # the link loss, then the disarm nobody could confirm over the pulled cable (issue 12)
    assert [(a["code"], a["priority"]) for a in alarms] == [("DEV-3", "high"), ("DISARM", "high")]
    assert end_of(s)["disarmed"] is False


def test_closing_the_console_mid_session_aborts_and_waits(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        s.hold_when(in_train(1))
        await start_session(s, pilot)
        s.held()
        s.thaw()
        await pilot.press("ctrl+q")

    s = run(tmp_path, scenario)
    assert not s.engine.running
    assert end_of(s)["status"] == "aborted"
    assert end_of(s)["reason"] == "console closed during the session"
    assert s.sim.check_disarmed()
    assert s.app.return_value is not None and s.app.return_value.status == "aborted"


def test_quit_key_mid_session_asks_first(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await start_and_hold_after_first_train(s, pilot)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(s.app.screen, ConfirmDialog), "the question")
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(s.app.screen, ConfirmDialog), "declined")
        assert s.engine.running
        s.wait_end()

    s = run(tmp_path, scenario)
    assert end_of(s)["status"] == "completed"


def test_an_adverse_event_pauses_the_session_and_is_journaled(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await start_and_hold_after_first_train(s, pilot)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(s.app.screen, AdverseEventDialog), "the form")
        dialog = s.app.screen
        assert isinstance(dialog, AdverseEventDialog)
        await pilot.click("#record")  # nothing chosen: refused with a message
        assert isinstance(s.app.screen, AdverseEventDialog)
        record = dialog.query_one("#record", Button)
        # A button ignores clicks while it still shows the last one (0.2 s): wait it out.
        await until(pilot, lambda: not record.has_class("-active"), "the button released")
        dialog.query_one("#kind", Select).value = "headache"
        dialog.query_one("#severity", Select).value = "mild"
        dialog.query_one("#notes", Input).value = "frontal, after train 1"
        await pilot.click("#record")
        await until(pilot, lambda: s.app.screen is not dialog, "the form closed")
        s.hold_when(lambda snap: snap.state == "paused")
        s.held()
        s.pacer.hold_when(lambda: s.clock.now() > 40.0)
        s.held()
        assert s.engine.snapshot().state == "paused"
        await confirm_abort(s, pilot)
        s.wait_end()

    s = run(tmp_path, scenario)
    events = [r for r in records(s) if r["event"] == "operator"]
    adverse = [r for r in events if r["payload"]["command"] == "adverse_event"]
    assert len(adverse) == 1
    assert adverse[0]["actor"] == "operator:tester"
    assert adverse[0]["payload"]["kind"] == "headache"
    assert adverse[0]["payload"]["pulses_delivered"] == 20
    # The console sends the pause before it opens the form; the engine journals the
    # command when it handles it, which here is after the form was saved.
    assert [r["payload"]["command"] for r in events] == ["adverse_event", "pause", "abort"]


def test_a_seizure_recorded_in_the_console_ends_the_session_and_space_cannot_resume(
    tmp_path: Path,
) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await start_and_hold_after_first_train(s, pilot)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(s.app.screen, AdverseEventDialog), "the form")
        dialog = s.app.screen
        assert isinstance(dialog, AdverseEventDialog)
        dialog.query_one("#kind", Select).value = "seizure"
        dialog.query_one("#severity", Select).value = "moderate"
        await pilot.click("#record")
        await until(pilot, lambda: s.app.screen is not dialog, "the form closed")
        await pilot.press("space")  # one press of Space used to resume stimulation
        summary = s.wait_end()
        assert summary.status == "stopped-adverse-event"
        assert not s.sim.simulator.armed

    s = run(tmp_path, scenario)
    assert end_of(s)["status"] == "stopped-adverse-event"
    assert end_of(s)["adverse_event"] == "seizure (moderate)"
    trains = [r for r in records(s) if r["event"] == "train_start"]
    assert len(trains) == 1  # no train after the seizure


def test_an_annotation_is_journaled_with_the_operator(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await start_and_hold_after_first_train(s, pilot)
        await pilot.press("n")
        await until(pilot, lambda: type(s.app.screen).__name__ == "NoteDialog", "the note")
        s.app.screen.query_one("#note", Input).value = "patient reports <tingling> [left]"
        await pilot.press("enter")
        s.wait_end()

    s = run(tmp_path, scenario)
    notes = [
        r for r in records(s) if r["event"] == "operator" and r["payload"]["command"] == "annotate"
    ]
    assert [n["payload"]["text"] for n in notes] == ["patient reports <tingling> [left]"]
    assert notes[0]["actor"] == "operator:tester"


def test_declining_at_the_pre_start_screen_never_arms_the_device(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await pilot.press("q")
        s.wait_end()
        await pilot.pause(0.2)
        assert isinstance(s.app.screen, SummaryScreen)

    s = run(tmp_path, scenario)
    assert end_of(s)["status"] == "aborted"
    assert end_of(s)["reason"] == "the operator did not start the session"
    states = [r["payload"]["to"] for r in records(s) if r["event"] == "state"]
    assert "armed" not in states
    assert s.sim.pulse_log() == []


def test_emergency_stop_before_start_latches_and_never_arms(tmp_path: Path) -> None:
    async def scenario(s: LiveSession, pilot: Pilot[Any]) -> None:
        await pilot.press("f1")
        s.wait_end()

    s = run(tmp_path, scenario)
    assert end_of(s)["status"] == "estopped"
    states = [r["payload"]["to"] for r in records(s) if r["event"] == "state"]
    assert "armed" not in states
