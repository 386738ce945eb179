"""The course report (`stimctl course report SUBJECT`, issue 17 item 4): one HTML file for
the clinician with the course, a session calendar, dose per session (delivered vs
prescribed), outcome scores over time, course changes, adverse events and signatures.

Data come from the record store and the session journals (the record of truth for what
was delivered, read through `stimctl.records.trains`); simulated sessions are listed as
dry runs and left out of the dose plot and the counts.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from stimctl.identity.signatures import Signature, signatures_of
from stimctl.records.adverse import list_adverse_events
from stimctl.records.course_changes import CourseChange, changes_of
from stimctl.records.courses import list_courses
from stimctl.records.models import AdverseEventRecord, CourseRecord
from stimctl.records.outcomes import OutcomeRecord, TargetRecord, list_outcomes, targets_of
from stimctl.records.overrides import overrides_of
from stimctl.records.scales import SCALES, TARGET_METHODS
from stimctl.records.store import Store
from stimctl.records.subjects import get_subject
from stimctl.records.trains import SessionTrains, course_trains
from stimctl.report.html import GENERATED_PREFIX


@dataclass(frozen=True)
class SessionLine:
    number: int
    day: dt.date
    session_id: str
    course_id: str | None
    status: str
    simulated: bool
    pulses_delivered: int
    pulses_planned: int
    pulses_exact: bool
    intensity_mso: float | None
    intensity_mt: float | None
    prescribed_mt: float | None
    operator: str | None
    target: TargetRecord | None

    @property
    def target_text(self) -> str:
        if self.target is None:
            return ""
        text = TARGET_METHODS.get(self.target.method, self.target.method)
        return f"{text}, {self.target.site}" if self.target.site else text


@dataclass
class CourseReport:
    subject_id: str
    courses: list[CourseRecord]
    sessions: list[SessionLine]
    outcomes: list[OutcomeRecord]
    changes: list[CourseChange]
    adverse_events: list[AdverseEventRecord]
    signatures: list[Signature]
    overrides: int = 0
    months: list[tuple[str, list[list[tuple[int, str]]]]] = field(default_factory=list)


def course_report(store: Store, subject_id: str) -> CourseReport:
    get_subject(store, subject_id)
    courses = list_courses(store, subject_id)
    changes = changes_of(store, subject_id)
    targets = targets_of(store, subject_id)
    sessions = [_line(item, changes, targets) for item in course_trains(store, subject_id)]
    events = list_adverse_events(store, subject_id)
    overrides = overrides_of(store, subject_id)
    mine = (
        {c.id for c in courses}
        | {c.id for c in changes}
        | {e.id for e in events}
        | {o.id for o in overrides}
    )
    signed = [s for s in signatures_of(store) if s.record_id in mine]
    report = CourseReport(
        subject_id=subject_id,
        courses=courses,
        sessions=sessions,
        outcomes=list_outcomes(store, subject_id),
        changes=changes,
        adverse_events=events,
        signatures=signed,
        overrides=len(overrides),
    )
    report.months = _calendar(sessions)
    return report


def _line(
    item: SessionTrains, changes: list[CourseChange], targets: dict[str, TargetRecord]
) -> SessionLine:
    session = item.session
    mso = [t.intensity_pct_mso for t in item.trains if t.intensity_pct_mso is not None]
    mt = [t.intensity_pct_rmt for t in item.trains if t.intensity_pct_rmt is not None]
    prescribed = None
    for change in changes:  # the latest intensity change before the session
        if (
            change.kind == "intensity-changed"
            and change.course_id == session.course_id
            and change.changed_at is not None
            and change.changed_at <= session.started_at
        ):
            prescribed = float(change.detail["intensity_percent_mt"])
    return SessionLine(
        number=item.number,
        day=session.started_at.date(),
        session_id=session.id,
        course_id=session.course_id,
        status=session.status,
        simulated=session.simulated,
        pulses_delivered=session.pulses_delivered,
        pulses_planned=session.pulses_planned,
        pulses_exact=session.pulses_exact,
        intensity_mso=max(mso) if mso else None,
        intensity_mt=max(mt) if mt else None,
        prescribed_mt=prescribed,
        operator=session.operator_id,
        target=targets.get(session.id),
    )


def _calendar(sessions: list[SessionLine]) -> list[tuple[str, list[list[tuple[int, str]]]]]:
    """Month grids (weeks of (day, css class)) from the first to the last session."""
    real = [s for s in sessions if not s.simulated]
    if not real:
        return []
    by_day: dict[dt.date, str] = {}
    for s in real:
        cls = "done" if s.status == "completed" else "short"
        if by_day.get(s.day) not in (None, cls):
            cls = "short"
        by_day[s.day] = cls
    first, last = min(by_day), max(by_day)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        weeks = [
            [(d.day, by_day.get(d, "")) if d.month == month else (0, "") for d in week]
            for week in calendar.Calendar().monthdatescalendar(year, month)
        ]
        months.append((f"{calendar.month_name[month]} {year}", weeks))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def render_course_html(report: CourseReport, *, generated: dt.datetime | None = None) -> str:
    from stimctl.report import course_plots
    from stimctl.report.html import _num

    env = Environment(
        loader=PackageLoader("stimctl.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    moment = generated or dt.datetime.now(dt.UTC)
    figures = {
        "dose": Markup(course_plots.dose(report.sessions)),
        "outcomes": Markup(course_plots.outcomes(report.outcomes)),
    }
    return env.get_template("course.html.j2").render(
        r=report,
        figures=figures,
        scales=SCALES,
        real=[s for s in report.sessions if not s.simulated],
        generated=f"{GENERATED_PREFIX}{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC",
    )
