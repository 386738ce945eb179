"""An adverse event entered in the console reaches the subject's records (SES-4).

A real session (harness.py) of a subject on record: the session has its row in a real
SQLite store under the test's own $STIMCTL_HOME, as `stimctl run --subject` makes it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from stimctl.console.dialogs import AdverseEventDialog
from stimctl.errors import SafetyViolation
from stimctl.records import (
    Store,
    add_subject,
    begin_session,
    default_db_path,
    history_for,
    list_adverse_events,
    review_adverse_event,
)
from stimctl.safety import SiteRules
from stimctl.session.runner import prepare
from tests.console.harness import DEVICE, FIXED_NOW, LiveSession, live_session
from tests.console.test_console_session import (
    confirm_abort,
    records,
    start_and_hold_after_first_train,
    until,
)

SUBJECT = "S-001"  # the harness's subject


def on_record(s: LiveSession) -> None:
    """What `--subject` does before the start: the subject and the session's row."""
    with Store.open() as store:
        add_subject(store, SUBJECT)
        begin_session(
            store,
            subject_id=SUBJECT,
            protocol_name=s.prepared.protocol.name,
            protocol_digest="test",
            pulses_planned=s.engine.plan.total_pulses,
            started_at=FIXED_NOW,
            session_id=s.engine.journal.session_id,
            journal_path=s.engine.journal.path,
        )


async def report_adverse_event(
    s: LiveSession, pilot: Pilot[Any], kind: str, severity: str, notes: str
) -> None:
    await start_and_hold_after_first_train(s, pilot)
    await pilot.press("v")
    await until(pilot, lambda: isinstance(s.app.screen, AdverseEventDialog), "the form")
    dialog = s.app.screen
    dialog.query_one("#kind", Select).value = kind
    dialog.query_one("#severity", Select).value = severity
    dialog.query_one("#notes", Input).value = notes
    await pilot.click("#record")
    await until(pilot, lambda: s.app.screen is not dialog, "the form closed")
    await pilot.pause(0.05)  # the notification
    await confirm_abort(s, pilot)
    s.wait_end()


def run(tmp_path: Path, kind: str, severity: str, *, setup: Any = on_record) -> LiveSession:
    async def main() -> LiveSession:
        with live_session(tmp_path) as session:
            setup(session)
            async with session.app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                await report_adverse_event(session, pilot, kind, severity, "left arm jerking")
            return session

    return asyncio.run(main())


def notifications(s: LiveSession) -> list[str]:
    return [str(n.message) for n in s.app._notifications]


def journaled_adverse_events(s: LiveSession) -> list[dict[str, Any]]:
    return [
        r["payload"]
        for r in records(s)
        if r["event"] == "operator" and r["payload"]["command"] == "adverse_event"
    ]


def test_a_seizure_entered_in_the_console_blocks_the_next_session_until_reviewed(
    tmp_path: Path,
) -> None:
    s = run(tmp_path, "seizure", "severe")
    with Store.open() as store:
        (event,) = list_adverse_events(store, SUBJECT)
        later = FIXED_NOW + dt.timedelta(days=1)
        history = history_for(store, SUBJECT, later)
    assert (event.kind, event.severity, event.notes) == ("seizure", "severe", "left arm jerking")
    assert event.session_id == s.engine.journal.session_id
    assert event.pulse_index == 20  # one train of 20 pulses before the form
    assert event.recorded_by == "tester"
    assert event.blocks
    with pytest.raises(SafetyViolation) as blocked:
        prepare(
            str(s.prepared.protocol_path),
            s.prepared.subject,
            DEVICE,
            site=SiteRules(),
            history=history,
            now=later,
        )
    assert blocked.value.rule == "SES-4"
    with Store.open() as store:
        review_adverse_event(store, event.id, reviewed_by="dr-x", notes="EEG normal")
        history = history_for(store, SUBJECT, later)
    assert history.unresolved_adverse_events == ()
    assert len(journaled_adverse_events(s)) == 1  # the journal has it too


def test_a_mild_headache_is_stored_but_does_not_block(tmp_path: Path) -> None:
    run(tmp_path, "headache", "mild")
    with Store.open() as store:
        (event,) = list_adverse_events(store, SUBJECT)
        history = history_for(store, SUBJECT, FIXED_NOW + dt.timedelta(days=1))
    assert event.kind == "headache" and not event.blocks
    assert history.unresolved_adverse_events == ()


def test_a_session_not_on_record_only_journals_and_creates_no_store(tmp_path: Path) -> None:
    s = run(tmp_path, "seizure", "severe", setup=lambda _s: None)
    assert len(journaled_adverse_events(s)) == 1
    assert not default_db_path().exists()
    assert not any("NOT stored" in n for n in notifications(s))


def test_a_store_failure_keeps_the_journal_entry_and_the_session_and_says_so(
    tmp_path: Path,
) -> None:
    def unusable_store(s: LiveSession) -> None:
        on_record(s)
        # The database file is ruined mid-session (a disk or a careless copy).
        default_db_path().write_bytes(b"not a database any more")

    s = run(tmp_path, "seizure", "severe", setup=unusable_store)
    (journaled,) = journaled_adverse_events(s)
    assert journaled["kind"] == "seizure"
    assert any("NOT stored" in n for n in notifications(s))
    # the seizure ends the session even though the store could not record it (issue 12)
    assert records(s)[-1]["payload"]["status"] == "stopped-adverse-event"
