"""Course changes with their reasons (issue 17 item 4; BrainCloud's course model,
ecosystem 10.3): sessions added when a payer approves more, the protocol changed, the
intensity changed. Each change names who made it and why, updates the course row in the
same transaction (sessions, protocol) and is signed by the caller's `within`, like a
prescription."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from stimctl import plausible
from stimctl.errors import ConfigError
from stimctl.records.courses import active_course, delivered_in_course
from stimctl.records.store import Store
from stimctl.records.subjects import ensure_operator, require_subject, rows_of_subject
from stimctl.records.values import from_utc_text, new_id, now_utc, utc_text

ChangeKind = Literal["sessions-added", "protocol-changed", "intensity-changed"]
CHANGE_KINDS: Final = ("sessions-added", "protocol-changed", "intensity-changed")
MAX_INTENSITY_PERCENT_MT: Final = 150.0
"""No published rTMS protocol goes above 140% MT (SAINT's depth-adjusted 120%, ...);
more is a typo, refused rather than recorded."""


@dataclass(frozen=True)
class CourseChange:
    subject_id: str
    kind: ChangeKind
    reason: str
    changed_by: str
    detail: dict[str, Any] = field(default_factory=dict)
    """sessions-added: {"sessions": n}; protocol-changed: {"protocol_name", "protocol_digest"};
    intensity-changed: {"intensity_percent_mt": x}. The record adds the previous values."""
    course_id: str = ""
    changed_at: dt.datetime | None = None
    id: str = ""

    def line(self) -> str:
        d = self.detail
        if self.kind == "sessions-added":
            what = (
                f"+{d['sessions']} sessions ({d['previous_sessions']} -> {d['planned_sessions']})"
            )
        elif self.kind == "protocol-changed":
            what = f"protocol {d['previous_protocol']} -> {d['protocol_name']}"
        else:
            what = f"intensity {d['intensity_percent_mt']:g}% MT"
        return f"{what}: {self.reason} ({self.changed_by})"


_COLUMNS = "id, course_id, subject_id, kind, detail, reason, changed_by, changed_at"


def change_course(
    store: Store,
    change: CourseChange,
    *,
    within: Callable[[sqlite3.Connection, CourseChange], object] | None = None,
) -> CourseChange:
    """Apply `change` to the subject's active course and record it; `within` runs in the
    same transaction after the insert (the signature)."""
    if change.kind not in CHANGE_KINDS:
        raise ConfigError(f"course change {change.kind!r} is not one of {', '.join(CHANGE_KINDS)}")
    if not change.reason.strip():
        raise ConfigError("a course change needs a reason (--reason)")
    at = change.changed_at or now_utc()
    with store.write() as conn:
        require_subject(conn, change.subject_id)
        course = active_course(conn, change.subject_id)
        if course is None:
            raise ConfigError(f"subject {change.subject_id!r} has no active course to change")
        detail = dict(change.detail)
        if change.kind == "sessions-added":
            added = detail.get("sessions")
            if not isinstance(added, int) or isinstance(added, bool) or added < 1:
                raise ConfigError(f"sessions added must be a whole number >= 1, got {added!r}")
            planned = course.planned_sessions + added
            if planned > plausible.MAX_COURSE_SESSIONS:
                raise ConfigError(
                    f"{course.planned_sessions} + {added} sessions is more than a course can"
                    f" hold ({plausible.MAX_COURSE_SESSIONS})"
                )
            detail |= {"previous_sessions": course.planned_sessions, "planned_sessions": planned}
            detail["delivered_so_far"] = delivered_in_course(conn, course.id)
            conn.execute(
                "UPDATE courses SET planned_sessions = ? WHERE id = ?", (planned, course.id)
            )
        elif change.kind == "protocol-changed":
            name, digest = detail.get("protocol_name"), detail.get("protocol_digest")
            if not isinstance(name, str) or not isinstance(digest, str) or len(digest) != 64:
                raise ConfigError("a protocol change needs the new protocol's name and digest")
            if digest == course.protocol_digest:
                raise ConfigError(f"the course already prescribes {name} (same file digest)")
            detail |= {
                "previous_protocol": course.protocol_name,
                "previous_digest": course.protocol_digest,
            }
            conn.execute(
                "UPDATE courses SET protocol_name = ?, protocol_digest = ? WHERE id = ?",
                (name, digest, course.id),
            )
        else:
            value = detail.get("intensity_percent_mt")
            if not isinstance(value, int | float) or not 0 < value <= MAX_INTENSITY_PERCENT_MT:
                raise ConfigError(
                    f"intensity must be in (0, {MAX_INTENSITY_PERCENT_MT:g}] % MT, got {value!r}"
                )
        ensure_operator(conn, change.changed_by, at=at)
        record = CourseChange(
            subject_id=change.subject_id,
            kind=change.kind,
            reason=change.reason.strip(),
            changed_by=change.changed_by,
            detail=detail,
            course_id=course.id,
            changed_at=at,
            id=change.id or new_id(),
        )
        conn.execute(
            f"INSERT INTO course_changes ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.course_id,
                record.subject_id,
                record.kind,
                json.dumps(detail, sort_keys=True),
                record.reason,
                record.changed_by,
                utc_text(at),
            ),
        )
        if within is not None:
            within(conn, record)
    return record


def changes_of(store: Store, subject_id: str) -> list[CourseChange]:
    rows = rows_of_subject(
        store,
        subject_id,
        f"SELECT {_COLUMNS} FROM course_changes WHERE subject_id = ? ORDER BY changed_at, id",
    )
    return [
        CourseChange(
            id=r[0],
            course_id=r[1],
            subject_id=r[2],
            kind=r[3],
            detail=json.loads(r[4]),
            reason=r[5],
            changed_by=r[6],
            changed_at=from_utc_text(r[7]),
        )
        for r in rows
    ]
