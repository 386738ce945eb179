"""The alarm board: latched, one per code, acknowledged; an unconfirmed disarm stays."""

from __future__ import annotations

from stimctl.session.alarms import DISARM_ALARM, AlarmBoard
from stimctl.session.watchdog import Action, Alarm, Priority

HOT = Alarm("DEV-1", Priority.HIGH, "coil hot", Action.FAULT)
WARM = Alarm("DEV-2", Priority.MEDIUM, "coil warm", Action.HOLD)


def test_an_alarm_latches_once_per_code() -> None:
    board = AlarmBoard()
    assert board.raise_alarm(HOT)
    assert not board.raise_alarm(Alarm("DEV-1", Priority.HIGH, "again", Action.FAULT))
    assert board.alarms == [HOT]


def test_acknowledge_clears_high_priority_alarms_only() -> None:
    board = AlarmBoard()
    board.raise_alarm(HOT)
    board.raise_alarm(WARM)
    board.acknowledge()
    assert board.alarms == [WARM]


def test_an_unconfirmed_disarm_survives_acknowledgement_until_a_disarm_is_confirmed() -> None:
    board = AlarmBoard()
    alarm = board.disarm_unconfirmed("no reply")
    assert alarm.code == DISARM_ALARM and "power switch" in alarm.message
    board.raise_alarm(alarm)
    board.acknowledge()
    assert [a.code for a in board.alarms] == [DISARM_ALARM]
    assert board.disarm_error == "no reply"
    board.disarm_confirmed()
    board.acknowledge()
    assert board.alarms == [] and board.disarm_error is None


def test_summary_lines_name_priority_and_message() -> None:
    board = AlarmBoard()
    board.raise_alarm(WARM)
    assert board.lines() == ["medium: coil warm"]
