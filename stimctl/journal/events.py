"""The journal's event vocabulary: every `event` name a record may carry.

The session engine, the watchdog, the console and crash recovery all write through these
constants, so a typo cannot silently create an event that recovery does not count.
`Journal.append` refuses any name not in `EVENTS`; add new names here, with a docstring
that says when the record is written and which payload keys it carries.

Payload keys listed as *required* are checked where the journal depends on them
(`session_end.status`, and `pulse`/`train_start`/`train_end` when recovery counts pulses).
The others are what the Part 11 audit trail asks for (safety-limits §7.4) and are the
engine's to fill in.
"""

from __future__ import annotations

from typing import Final

SESSION_START: Final = "session_start"
"""First record of every journal (`Journal.append` refuses anything else first).

Payload (suggested): ``session_id``, ``subject_id``, ``protocol`` (name and content hash),
``device`` (driver, serial number), ``coil`` (id), ``software_version``, ``config_hash``,
``operator`` (id and role). ``simulated`` (bool): true for a dry run on the built-in
simulator; such a session is never counted as treatment (issue 12 item 5).
"""

PROTOCOL: Final = "protocol"
"""A protocol was loaded or edited. Payload: ``name``, ``hash``, ``old``/``new`` on edits."""

SCREENING: Final = "screening"
"""A screening answer set was recorded. Payload: ``questionnaire_version``, ``answers``."""

THRESHOLD: Final = "threshold"
"""A motor-threshold determination. Payload: ``method``, ``rmt_pct_mso``, raw ``meps_uv``."""

VERDICT: Final = "verdict"
"""A safety-rule evaluation. Payload: ``verdict`` (allow/override/block), ``rules`` (ids),
``table_version``, ``reasons``."""

OVERRIDE: Final = "override"
"""A signed override of a verdict (21 CFR 11.50/11.200). Payload: ``signer`` (printed
name and id), ``role``, ``meaning`` (e.g. "approved override"), ``rules``, ``reason``."""

STATE: Final = "state"
"""A state-machine transition. Payload: ``from``, ``to``, ``trigger``."""

INTENSITY: Final = "intensity"
"""An intensity was set or rounded to the device's resolution (ARCHITECTURE rule 3:
rounding is explicit and journaled). Payload: ``requested``, ``applied``, ``unit``."""

TRAIN_START: Final = "train_start"
"""A train is about to begin. Payload: ``train`` (required, int, 0-based),
``pulses_planned``, ``frequency_hz``, ``intensity_percent_mso`` (what the device was set
to), ``intensity_percent_rmt`` (prescribed) and ``delivered_percent_rmt`` (the setting
in % of the threshold; older journals: ``intensity_pct_mso``)."""

PULSE: Final = "pulse"
"""One pulse was delivered: written right after the driver confirms the trigger.

Payload: ``train`` (required, int) and ``index`` (required, int: 0-based position of this
pulse in the session, so indices run 0, 1, 2, ... without gaps). Crash recovery counts
these records; they are the exact count of delivered pulses the journal can vouch for.
``t_s`` is seconds from the session start; ``trigger`` is the driver's `FireReceipt`
(``via``: "serial" or a trigger line, ``actual_s`` and ``scheduled_s`` on the session
clock), so the record says how the pulse was triggered and how late.
"""

TRAIN_END: Final = "train_end"
"""A train finished or was cut short. Payload: ``train`` (required, int) and ``pulses``
(required, int: pulses delivered in this train), ``iti_s`` (actual inter-train interval).
When a train has no `pulse` records (per-train journaling), recovery counts ``pulses``."""

DEVICE: Final = "device"
"""A device status sample (coil temperature, charge, armed flag). Payload: free keys;
a device-timed train's start is ``train`` with ``start_train`` (``scheduled_s``,
``actual_s``: seconds from the session start)."""

ALARM: Final = "alarm"
"""An alarm was raised, acknowledged or cleared. Payload: ``alarm``, ``action``
(raise/acknowledge/clear), ``cause``."""

OPERATOR: Final = "operator"
"""An operator action (pause, resume, stop, note). Payload: ``action``, ``reason``."""

STOP: Final = "stop"
"""A stop, abort or emergency stop and its cause. Payload: ``kind``
(stop/abort/estop), ``cause``."""

FAULT: Final = "fault"
"""A device or link fault the engine latched. Payload: ``error`` (type), ``message``."""

SESSION_END: Final = "session_end"
"""The closing record: nothing may follow it (`Journal.append` refuses, `verify` flags it).

Payload: ``status`` (required, one of `SESSION_STATUSES`) and ``pulses_delivered`` (int).
Crash recovery writes it with status "interrupted" (see `stimctl.journal.recovery`).
"""

CHECKPOINT: Final = "checkpoint"
"""Written by the journal itself right after each `train_end` when it has a signing key:
the chain head at the train boundary, signed. Payload: ``session_id``, ``train``,
``records`` (records before it), ``pulses`` (delivered so far), ``head`` (= ``prev``),
``key_id``, ``signature``. Callers cannot append it."""

SEAL: Final = "seal"
"""Written by the journal itself right after `session_end` (or by crash recovery): the
last record of every finished journal. Payload: ``session_id``, ``records`` (records
before it), ``pulses``, ``final_hash`` (= ``prev``), ``status``, ``sealed_by``
(session/recovery), ``key_id`` and ``signature`` (both None when unsigned). Callers
cannot append it."""

WRITER_EVENTS: Final[frozenset[str]] = frozenset({CHECKPOINT, SEAL})
"""Events only the journal writer writes (`Journal.append` refuses them)."""

EVENTS: Final[frozenset[str]] = frozenset(
    {
        SESSION_START,
        PROTOCOL,
        SCREENING,
        THRESHOLD,
        VERDICT,
        OVERRIDE,
        STATE,
        INTENSITY,
        TRAIN_START,
        PULSE,
        TRAIN_END,
        DEVICE,
        ALARM,
        OPERATOR,
        STOP,
        FAULT,
        SESSION_END,
    }
)
"""Every event name `Journal.append` accepts."""

CLOSING_EVENT: Final = SESSION_END
"""The one event that closes a journal."""

STATUS_COMPLETED: Final = "completed"
STATUS_STOPPED: Final = "stopped"
STATUS_ABORTED: Final = "aborted"
STATUS_ESTOPPED: Final = "estopped"
STATUS_FAULT: Final = "fault"
STATUS_STOPPED_ADVERSE_EVENT: Final = "stopped-adverse-event"
"""A serious adverse event (seizure, syncope, or marked serious) ended the session."""
STATUS_INTERRUPTED: Final = "interrupted"
"""Written only by crash recovery: the process died before it could close the journal."""

SESSION_STATUSES: Final[frozenset[str]] = frozenset(
    {
        STATUS_COMPLETED,
        STATUS_STOPPED,
        STATUS_ABORTED,
        STATUS_ESTOPPED,
        STATUS_FAULT,
        STATUS_STOPPED_ADVERSE_EVENT,
        STATUS_INTERRUPTED,
    }
)
"""The values `session_end.status` may take."""

ACTOR_ENGINE: Final = "engine"
ACTOR_WATCHDOG: Final = "watchdog"
ACTOR_DEVICE: Final = "device"
ACTOR_RECOVERY: Final = "recovery"
"""The process that closed an interrupted journal after a crash."""

OPERATOR_PREFIX: Final = "operator:"


def operator_actor(operator_id: str) -> str:
    """The actor name of a human operator, e.g. ``operator:jdoe``."""
    return f"{OPERATOR_PREFIX}{operator_id}"
