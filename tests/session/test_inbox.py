"""The engine's typed command inbox (issue 14 item 3): each command is a dataclass whose
`kind` and `args()` are what the journal's `operator` record has always carried."""

from __future__ import annotations

import threading

import pytest

from stimctl.session.inbox import (
    Abort,
    ChangeIntensity,
    Command,
    DeviceFault,
    EndForAdverseEvent,
    EStopDone,
    Inbox,
    Pause,
    Stop,
)


@pytest.mark.parametrize(
    ("command", "kind", "args"),
    [
        (Pause("operator:ab"), "pause", {"actor": "operator:ab"}),
        (Stop("operator:ab"), "stop", {"actor": "operator:ab"}),
        (Abort("operator:ab", "tired"), "abort", {"actor": "operator:ab", "reason": "tired"}),
        (
            EndForAdverseEvent("operator:ab", "seizure", "severe"),
            "end_for_adverse_event",
            {"actor": "operator:ab", "event_kind": "seizure", "severity": "severe"},
        ),
        (DeviceFault("link", lost=True), "device_fault", {"error": "link", "lost": True}),
        (
            ChangeIntensity("operator:ab", 95.0, "MEP too small", True),
            "intensity",
            {
                "actor": "operator:ab",
                "percent_rmt": 95.0,
                "reason": "MEP too small",
                "confirmed": True,
            },
        ),
        (
            EStopDone("operator:ab", False, "no reply"),
            "estop",
            {"actor": "operator:ab", "disarmed": False, "error": "no reply"},
        ),
    ],
)
def test_each_command_keeps_its_journal_name_and_fields(
    command: Command, kind: str, args: dict[str, object]
) -> None:
    assert command.kind == kind
    assert command.args() == args
    assert list(command.args()) == list(args)  # the order the journal records them in


def test_the_inbox_is_first_in_first_out_across_threads_and_never_blocks() -> None:
    inbox = Inbox()
    assert inbox.take() is None
    senders = [
        threading.Thread(target=lambda i=i: inbox.put(Pause(f"operator:{i}"))) for i in range(20)
    ]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    inbox.put(Stop("operator:last"))
    taken = []
    while (command := inbox.take()) is not None:
        taken.append(command)
    assert len(taken) == 21
    assert taken[-1] == Stop("operator:last")
    assert {c.args()["actor"] for c in taken[:-1]} == {f"operator:{i}" for i in range(20)}
