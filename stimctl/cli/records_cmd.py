"""`stimctl subject|screen|course|sessions|ae`: the subject and course records.

Everything lives in ``$STIMCTL_HOME/stimctl.db`` (see `stimctl.records`). Exit codes:
0 done, 1 a session's journal does not match its record (`sessions show`) or a course
prescription needs an override (`course start`), 2 bad input (unknown subject, a
threshold out of range, an incomplete screening file, no threshold on record), 3 the
prescription is blocked (`course start`), 7 the database is unreadable, corrupted, empty
or not a stimctl store.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from stimctl import plausible
from stimctl.cli.options import COURSE_START, ISO_DATE
from stimctl.errors import AuthError, ConfigError, ExitCode
from stimctl.records.models import AE_KINDS, AE_SEVERITIES, RISK_FACTORS

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from stimctl.protocol.models import Protocol
    from stimctl.records import AdverseEventRecord, CourseRecord, Store
    from stimctl.session.runner import Override

T = TypeVar("T")


def open_store() -> Store:
    from stimctl.records import Store

    return Store.open()


def echo_records(
    fetch: Callable[[Store], Sequence[T]], line: Callable[[T], str], empty: str
) -> None:
    """The body of a list command: the records `fetch` reads, one `line` each, or
    `empty` when there are none."""
    with open_store() as store:
        records = fetch(store)
    if not records:
        click.echo(empty)
    for record in records:
        click.echo(line(record))


def _plain(record: Any) -> dict[str, Any]:
    from stimctl.records.export import plain_record

    return plain_record(record)


# --- subject ---------------------------------------------------------------------------


@click.group()
def subject() -> None:
    """Add, list and show subjects (pseudonymous ids; no names needed)."""


def distances(values: tuple[str, ...]) -> dict[str, float]:
    """`SITE=MM` pairs; a malformed one is bad input, named."""
    out: dict[str, float] = {}
    for value in values:
        site, sep, mm = value.partition("=")
        try:
            if not sep:
                raise ValueError
            out[site.strip()] = float(mm)
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not SITE=MM (e.g. L-DLPFC=21.5)", param_hint="--scalp-cortex"
            ) from None
    return out


_BIRTH = click.option("--birth-date", type=ISO_DATE, default=None, help="YYYY-MM-DD.")
_AGE = click.option(
    "--age",
    "age_years",
    type=click.FloatRange(min=0, max=130, max_open=True),
    default=None,
    help="Age in years today, when the birth date is not known.",
)
_DISTANCE = click.option(
    "--scalp-cortex",
    "scalp_cortex",
    multiple=True,
    metavar="SITE=MM",
    help="Scalp-to-cortex distance, e.g. M1-hand=18 L-DLPFC=21 (SAINT's depth adjustment).",
)


@subject.command("add")
@click.argument("subject_id")
@click.option("--notes", default=None, help="Free text (no identifying data).")
@_BIRTH
@_AGE
@click.option(
    "--risk-factor",
    "risk_factors",
    multiple=True,
    type=click.Choice(list(RISK_FACTORS)),
    help="Recorded risk factor (repeat for several).",
)
@_DISTANCE
def subject_add(
    subject_id: str,
    notes: str | None,
    birth_date: dt.date | None,
    age_years: float | None,
    risk_factors: tuple[str, ...],
    scalp_cortex: tuple[str, ...],
) -> None:
    """Add SUBJECT_ID to the records."""
    from stimctl.records import add_subject

    with open_store() as store:
        add_subject(
            store,
            subject_id,
            notes=notes,
            birth_date=birth_date,
            age_years=age_years,
            risk_factors=risk_factors,
            scalp_cortex_mm=distances(scalp_cortex),
        )
    click.echo(f"added subject {subject_id}")


@subject.command("edit")
@click.argument("subject_id")
@_BIRTH
@_AGE
@click.option(
    "--risk-factor",
    "add_risk",
    multiple=True,
    type=click.Choice(list(RISK_FACTORS)),
    help="Add a recorded risk factor.",
)
@click.option(
    "--no-risk-factor",
    "remove_risk",
    multiple=True,
    type=click.Choice(list(RISK_FACTORS)),
    help="Remove a recorded risk factor.",
)
@_DISTANCE
def subject_edit(
    subject_id: str,
    birth_date: dt.date | None,
    age_years: float | None,
    add_risk: tuple[str, ...],
    remove_risk: tuple[str, ...],
    scalp_cortex: tuple[str, ...],
) -> None:
    """Change SUBJECT_ID's birth date or age, risk factors or scalp-to-cortex distances."""
    from stimctl.records import edit_subject

    with open_store() as store:
        record = edit_subject(
            store,
            subject_id,
            birth_date=birth_date,
            age_years=age_years,
            add_risk_factors=add_risk,
            remove_risk_factors=remove_risk,
            scalp_cortex_mm=distances(scalp_cortex),
        )
    click.echo(f"edited subject {subject_id}: {_details(record, dt.datetime.now(dt.UTC).date())}")


def _details(record: Any, today: dt.date) -> str:
    from stimctl.records.subject_details import age_on

    age = age_on(record, today)
    parts = [
        "age unknown"
        if age is None
        else f"age {int(age)}"
        + (f" (born {record.birth_date.isoformat()})" if record.birth_date else " (as given)"),
        "risk factors: " + (", ".join(record.risk_factors) or "none recorded"),
    ]
    if record.scalp_cortex_mm:
        parts.append(
            "scalp-to-cortex "
            + ", ".join(f"{k} {v:g} mm" for k, v in sorted(record.scalp_cortex_mm.items()))
        )
    return "; ".join(parts)


@subject.command("list")
@click.option("--json", "as_json", is_flag=True)
def subject_list(as_json: bool) -> None:
    """One line per subject."""
    from stimctl.records import list_subjects

    with open_store() as store:
        subjects = list_subjects(store)
    if as_json:
        click.echo(json.dumps([_plain(s) for s in subjects], indent=2))
        return
    for s in subjects:
        click.echo(f"{s.id:<20} added {s.created_at:%Y-%m-%d}  {s.notes or ''}".rstrip())


@subject.command("show")
@click.argument("subject_id")
@click.option("--json", "as_json", is_flag=True)
def subject_show(subject_id: str, as_json: bool) -> None:
    """A subject's threshold, screening, course and adverse events."""
    from stimctl.records import summary

    with open_store() as store:
        info = summary(store, subject_id)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "subject": _plain(info.subject),
                    "threshold": _plain(info.threshold) if info.threshold else None,
                    "thresholds": [_plain(t) for t in info.thresholds],
                    "screening": _plain(info.screening) if info.screening else None,
                    "course": _plain(info.course) if info.course else None,
                    "course_sessions": info.course_sessions,
                    "sessions": info.sessions,
                    "simulated_sessions": info.simulated_sessions,
                    "adverse_events": [_plain(e) for e in info.adverse_events],
                },
                indent=2,
            )
        )
        return
    today = dt.datetime.now(dt.UTC).date()
    click.echo(f"subject {info.subject.id} (added {info.subject.created_at:%Y-%m-%d})")
    click.echo(f"  {_details(info.subject, today)}")
    if not info.thresholds:
        click.echo("  RMT: none on record")
    for t in sorted(info.thresholds, key=lambda t: (t.kind != "rmt", t.muscle)):
        where = ", ".join(
            f"{k} {v}"
            for k, v in (("device", t.device), ("coil", t.coil), ("criterion", t.criterion))
            if v
        )
        click.echo(
            f"  {t.kind.upper()}: {t.percent_mso:g}% MSO, {t.method}, {t.muscle},"
            f" {t.measured_on.isoformat()} ({(today - t.measured_on).days} days ago)"
            f"{'; ' + where if where else ''}"
        )
    s = info.screening
    click.echo(
        "  screening: none on record"
        if s is None
        else f"  screening: {s.questionnaire} of {s.answered_on.isoformat()},"
        f" {sum(s.answers.values())} yes answers, reviewer {s.reviewer or '-'}"
    )
    c = info.course
    click.echo(
        "  course: none active"
        if c is None
        else f"  course: {c.protocol_name}, {info.course_sessions} of {c.planned_sessions}"
        f" sessions delivered, started {c.start_date.isoformat()}"
    )
    dry = f" (and {info.simulated_sessions} simulated)" if info.simulated_sessions else ""
    click.echo(f"  sessions on record: {info.sessions}{dry}")
    for e in info.adverse_events:
        state = (
            "BLOCKS until reviewed"
            if e.blocks
            else (f"reviewed by {e.reviewed_by}" if e.reviewed_by else "not reviewed")
        )
        click.echo(f"  adverse event {e.label()}: {state}")


# --- screen ----------------------------------------------------------------------------


@click.command()
@click.argument("subject_id")
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Screening answers (TOML); without it the questionnaire is asked here.",
)
@click.option("--reviewer", default=None, help="Operator id of the reviewing clinician.")
@click.option("--date", "answered_on", type=ISO_DATE, default=None, help="Answered on [today].")
@click.option(
    "--template",
    "as_template",
    is_flag=True,
    help="Print an answers file to fill in (records nothing; docs/screening-format.md).",
)
def screen(
    subject_id: str,
    answers_file: Path | None,
    reviewer: str | None,
    answered_on: dt.date | None,
    as_template: bool,
) -> None:
    """Record a screening questionnaire for SUBJECT_ID (every item must be answered)."""
    from dataclasses import replace

    if as_template:
        from stimctl.records.values import check_person_id
        from stimctl.safety.screening_template import screening_template

        check_person_id(subject_id, "subject")
        click.echo(screening_template(subject_id), nl=False)
        return

    from stimctl.records import get_subject, record_screening, screening_from
    from stimctl.safety.screening_file import load_screening, parse_screening
    from stimctl.safety.tables import screening_table

    table = screening_table()
    if reviewer is not None:
        from stimctl.identity import check_operator_id

        check_operator_id(reviewer)  # a person, not `engine` or an empty string
    with open_store() as store:
        get_subject(store, subject_id)  # an unknown subject fails before any question
        if answers_file is not None:
            screening = load_screening(answers_file)
        else:
            answers = {
                item_id: click.confirm(item.question, default=None)
                for item_id, item in table.items.items()
            }
            medications = click.prompt(
                "Current medications (comma-separated, empty for none)",
                default="",
                show_default=False,
            )
            data: dict[str, object] = {
                "questionnaire": table.questionnaire,
                "answered_on": answered_on or dt.datetime.now(dt.UTC).date(),
                "medications": [m.strip() for m in str(medications).split(",") if m.strip()],
                "answers": answers,
            }
            screening = parse_screening(data, "questionnaire")
        if reviewer is not None:
            screening = replace(screening, reviewer=reviewer)
        if answered_on is not None:
            screening = replace(screening, answered_on=answered_on)
        record = record_screening(store, screening_from(subject_id, screening))
    yes = [k for k, v in sorted(record.answers.items()) if v]
    click.echo(
        f"recorded screening {record.id} for {subject_id} ({record.questionnaire},"
        f" {record.answered_on.isoformat()}): "
        + (f"yes to {', '.join(yes)}" if yes else "no contraindications answered yes")
    )


# --- course ----------------------------------------------------------------------------


@click.group()
def course() -> None:
    """Start, show and close treatment courses."""


@course.command("start")
@click.argument("subject_id")
@click.argument("protocol")
@click.option(
    "--sessions",
    "planned",
    type=click.IntRange(1, plausible.MAX_COURSE_SESSIONS),
    required=True,
)
@click.option("--start", "start_date", type=COURSE_START, default=None, help="Start date [today].")
@click.option(
    "--by",
    "by_id",
    envvar="STIMCTL_OPERATOR",
    default=None,
    help="Prescribing physician; signs with a fresh password entry [$STIMCTL_OPERATOR].",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--device", "device_name", default=None, help="Device profile to check against.")
@click.option("--site", "site_file", default=None, help="Site rules file.")
@click.option("--override-operator", default=None, help="Who accepts an override verdict.")
@click.option("--override-reason", default=None, help="Why the override is accepted.")
def course_start(
    subject_id: str,
    protocol: str,
    planned: int,
    start_date: dt.date | None,
    by_id: str | None,
    password_stdin: bool,
    device_name: str | None,
    site_file: str | None,
    override_operator: str | None,
    override_reason: str | None,
) -> None:
    """Prescribe PROTOCOL (a shipped name or a path) for SUBJECT_ID, N sessions, signed
    by a physician (exit 10 for anyone else or a wrong password).

    The prescription is checked first, with the subject's records (screening, motor
    threshold, unreviewed adverse events) and the device if given: a block refuses it
    (exit 3); an override verdict needs --override-operator and --override-reason
    (exit 1 without), and the override is stored with the subject.
    """
    from stimctl.configs import file_digest, resolve
    from stimctl.protocol import load_protocol
    from stimctl.records import CourseRecord, get_subject

    loaded = load_protocol(protocol)
    digest = file_digest(resolve("protocols", protocol))
    now = dt.datetime.now(dt.UTC)
    with open_store() as store:
        get_subject(store, subject_id)  # an unknown subject fails before the password
        accept = _check_prescription(
            store,
            subject_id,
            loaded,
            device_name,
            site_file,
            now,
            override_operator,
            override_reason,
        )
        if accept.override is not None and accept.override.operator.strip() != (by_id or ""):
            # The override is accepted by the physician who signs the prescription, with
            # the same password entry; a name typed for someone else is no acceptance.
            named = accept.override.operator.strip()
            raise AuthError(
                f"the override must be accepted by the prescribing physician"
                f" ({by_id or '--by'}), not {named!r}: give --override-operator {by_id or 'ID'}"
            )
        record, signer = _prescribe(
            store,
            CourseRecord(
                subject_id=subject_id,
                protocol_name=loaded.name,
                protocol_digest=digest,
                planned_sessions=planned,
                start_date=start_date or now.date(),
            ),
            by_id,
            password_stdin,
            accept.meaning,
        )
        accept.store()
    click.echo(
        f"started course {record.id} for {subject_id}: {record.protocol_name},"
        f" {planned} sessions from {record.start_date.isoformat()}, prescribed by {signer}"
    )
    studied = loaded.schedule.course_sessions
    if studied is not None and planned > studied:
        click.echo(
            f"note: the protocol's course is {studied} sessions; sessions beyond it will"
            " need an override (SES-COURSE)"
        )


def _prescribe(
    store: Store, course: CourseRecord, by_id: str | None, from_stdin: bool, accepting: str
) -> tuple[CourseRecord, str]:
    """Start `course` with the prescribing physician's electronic signature (one
    transaction); returns the course and the signer's printed name. `accepting`: the
    override the signer accepts with it ("" for none), part of what is signed."""
    from stimctl.cli.signing import PendingSignature
    from stimctl.records import start_course

    meaning = (
        f"prescribed course of {course.protocol_name}, {course.planned_sessions} sessions"
        f" from {course.start_date.isoformat()} for {course.subject_id}{accepting}"
    )
    pending = PendingSignature(
        store, by_id, meaning=meaning, record_type="course", from_stdin=from_stdin
    )
    record = start_course(
        store,
        course,
        within=lambda conn, rec: pending.sign(
            conn,
            rec.id,
            {**_plain(rec), **({"override": accepting.strip("; ")} if accepting else {})},
        ),
    )
    assert pending.signature is not None
    return record, pending.signature.signer_name


def _check_prescription(
    store: Store,
    subject_id: str,
    protocol: Protocol,
    device_name: str | None,
    site_file: str | None,
    now: dt.datetime,
    override_operator: str | None,
    override_reason: str | None,
) -> _Acceptance:
    """The safety check of a course prescription on the subject's records. Raises to
    refuse; returns the accepted override, if any, and what stores it (call it once the
    course is on record). Today's sessions do not weigh here (a prescription is not a
    session), the subject's unreviewed adverse events do."""
    from stimctl.device_profiles import load_profile
    from stimctl.records import OverrideRecord, evaluate_for_subject, history_for, record_override
    from stimctl.safety import History
    from stimctl.session.runner import Override, decide
    from stimctl.site import load_site

    blocking = history_for(store, subject_id, now).unresolved_adverse_events
    verdict = evaluate_for_subject(
        store,
        protocol,
        subject_id,
        now=now,
        device=load_profile(device_name) if device_name else None,
        site=load_site(site_file),
        history=History(unresolved_adverse_events=blocking),
    )
    offered = None
    if override_operator or override_reason:
        offered = Override(override_operator or "", override_reason or "")
    accepted = decide(verdict, offered)

    def store_override() -> None:
        if accepted is None:
            return
        rules = tuple(f.rule for f in verdict.deciding())
        record_override(
            store,
            OverrideRecord(subject_id, rules, accepted.operator.strip(), accepted.reason, now),
        )
        click.echo(f"override of {', '.join(rules)} by {accepted.operator} recorded")

    meaning = ""
    if accepted is not None:
        rules = ", ".join(f.rule for f in verdict.deciding())
        meaning = f"; accepting the override of {rules}: {accepted.reason}"
    return _Acceptance(accepted, meaning, store_override)


@dataclass(frozen=True)
class _Acceptance:
    """What a prescription's safety check accepted."""

    override: Override | None
    meaning: str
    """The accepted override as words of the prescriber's signature ("" for none)."""
    store: Callable[[], None]


@course.command("show")
@click.argument("subject_id")
def course_show(subject_id: str) -> None:
    """Every course of SUBJECT_ID."""
    from stimctl.records import list_courses

    echo_records(
        lambda store: list_courses(store, subject_id),
        lambda c: (
            f"{c.id}  {c.status:<6} {c.protocol_name:<24} {c.planned_sessions} sessions"
            f" from {c.start_date.isoformat()}"
        ),
        f"no course on record for {subject_id}",
    )


@course.command("close")
@click.argument("subject_id")
def course_close(subject_id: str) -> None:
    """Close the active course of SUBJECT_ID."""
    from stimctl.records import close_course

    with open_store() as store:
        record = close_course(store, subject_id)
    click.echo(f"closed course {record.id} ({record.protocol_name})")


# --- sessions --------------------------------------------------------------------------


@click.group()
def sessions() -> None:
    """List and show recorded sessions."""


@sessions.command("list")
@click.option("--subject", "subject_id", default=None, help="Only this subject's sessions.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["treatment", "research", "simulated", "threshold-hunt"]),
    help="Only sessions of this kind (repeatable).",
)
@click.option(
    "--last", "limit", type=click.IntRange(1, 1_000_000), default=None, help="Last N only."
)
@click.option("--json", "as_json", is_flag=True)
def sessions_list(
    subject_id: str | None, kinds: tuple[str, ...], limit: int | None, as_json: bool
) -> None:
    """One line per session of every kind, oldest first: treatment, research, simulated
    (dry runs) and threshold hunts, including journals that no record row names."""
    from stimctl.journal import journals_dir
    from stimctl.records.listing import KINDS, list_all_sessions

    with open_store() as store:
        rows = list_all_sessions(
            store,
            journals_dir(),
            subject_id=subject_id,
            kinds=frozenset(kinds) if kinds else None,
            limit=limit,
        )
    if as_json:
        click.echo(json.dumps([_plain(r) for r in rows], indent=2))
        return
    if not rows:
        click.echo("no sessions on record" + (f" for {subject_id}" if subject_id else ""))
        return
    for r in rows:
        if r.pulses_delivered is None:
            count = "?"
        else:
            count = f"{r.pulses_delivered}" if r.pulses_exact else f">={r.pulses_delivered}"
        if r.pulses_planned is not None:
            count += f"/{r.pulses_planned}"
        started = f"{r.started_at:%Y-%m-%d %H:%M}Z" if r.started_at else "(time unknown)"
        flags = "".join(
            f"  [{flag}]"
            for flag, on in (
                ("simulated", r.kind == "simulated"),
                (f"research {r.study_id or ''}".strip(), r.kind == "research"),
                ("count inexact", not r.pulses_exact),
                ("journal only", not r.on_record),
            )
            if on
        )
        click.echo(
            f"{r.id}  {r.kind:<14} {r.subject_id or '-':<12} {started}  {r.status:<11}"
            f" {count} pulses  {r.protocol}{flags}"
        )
    shown = sorted({r.kind for r in rows} & KINDS.keys())
    click.echo("kinds: " + "; ".join(f"{kind} = {KINDS[kind]}" for kind in shown))


@sessions.command("reconcile")
@click.option("--subject", "subject_id", default=None, help="Only this subject's sessions.")
def sessions_reconcile(subject_id: str | None) -> None:
    """Close the rows of sessions whose process died, from their journals.

    A row still `running` whose journal no live process holds and whose owner process
    is gone is closed as `interrupted` with the journal's count (exact, or a lower bound
    marked inexact); with its journal missing it counts as a full session for the rules.
    Every session start does the same for its subject.
    """
    from stimctl.records.reconcile import reconcile

    with open_store() as store:
        if subject_id is not None:
            from stimctl.records import get_subject

            get_subject(store, subject_id)
        results = reconcile(store, subject_id)
    for result in results:
        click.echo(result.line())
    closed = sum(1 for r in results if r.closed)
    click.echo(f"{closed} closed, {len(results) - closed} still running")


@sessions.command("show")
@click.argument("session_id")
@click.option("--json", "as_json", is_flag=True)
def sessions_show(session_id: str, as_json: bool) -> int:
    """A session's record and whether its journal still matches it (exit 8 if tampered,
    6 if unfinished; see `stimctl journal verify`)."""
    from stimctl.records import get_session, verify_session_journal

    with open_store() as store:
        record = get_session(store, session_id)
        check = verify_session_journal(store, session_id)
    if as_json:
        data = _plain(record)
        data["journal_check"] = _plain(check)
        click.echo(json.dumps(data, indent=2))
    else:
        for key, value in _plain(record).items():
            click.echo(f"  {key}: {value if value is not None else '-'}")
        click.echo(f"  journal: {check.outcome.upper()}: {check.reason}")
    # a row without a journal (imported from paper records) has nothing to verify
    return check.exit_code if record.journal_path is not None else ExitCode.OK


# --- ae --------------------------------------------------------------------------------


@click.group()
def ae() -> None:
    """Record and review adverse events (a seizure blocks sessions until reviewed)."""


def _aware(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no time zone (add Z or +01:00)")
    try:
        return plausible.past_moment(moment, "adverse event time")
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None


@ae.command("record")
@click.argument("subject_id")
@click.option("--kind", type=click.Choice(list(AE_KINDS)), required=True)
@click.option(
    "--severity",
    type=click.Choice(list(AE_SEVERITIES)),
    required=True,
)
@click.option("--session", "session_id", default=None, help="Session it happened in.")
@click.option(
    "--pulse-index", type=click.IntRange(0, plausible.MAX_PULSES_PER_SESSION), default=None
)
@click.option("--notes", default="", help="What happened.")
@click.option("--by", "recorded_by", default=None, help="Operator id recording it.")
@click.option("--at", "occurred_at", default=None, help="When (ISO 8601 with zone) [now].")
def ae_record(
    subject_id: str,
    kind: str,
    severity: str,
    session_id: str | None,
    pulse_index: int | None,
    notes: str,
    recorded_by: str | None,
    occurred_at: str | None,
) -> None:
    """Record an adverse event for SUBJECT_ID."""
    from stimctl.records import AdverseEventRecord, record_adverse_event

    if recorded_by is not None:
        from stimctl.identity import check_operator_id

        check_operator_id(recorded_by)

    with open_store() as store:
        record = record_adverse_event(
            store,
            AdverseEventRecord(
                subject_id=subject_id,
                kind=kind,
                severity=severity,
                occurred_at=_aware(occurred_at),
                session_id=session_id,
                pulse_index=pulse_index,
                notes=notes,
                recorded_by=recorded_by,
            ),
        )
    click.echo(f"recorded adverse event {record.label()}")
    if record.blocks:
        click.echo(
            f"sessions for {subject_id} are blocked (SES-4) until it is reviewed:"
            f" stimctl ae review {record.id} --by PHYSICIAN --notes TEXT"
        )


@ae.command("review")
@click.argument("event_id")
@click.option(
    "--by",
    "reviewed_by",
    envvar="STIMCTL_OPERATOR",
    required=True,
    help="Reviewing physician; signs with a fresh password entry [$STIMCTL_OPERATOR].",
)
@click.option("--notes", required=True, help="What was decided and why.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def ae_review(event_id: str, reviewed_by: str, notes: str, password_stdin: bool) -> None:
    """Mark an adverse event reviewed (it no longer blocks sessions); a physician signs."""
    from stimctl.cli.signing import PendingSignature
    from stimctl.identity import check_reason
    from stimctl.records import review_adverse_event
    from stimctl.records.adverse import get_adverse_event

    notes = check_reason(notes, "review notes")
    with open_store() as store:
        event = get_adverse_event(store, event_id)  # unknown: exit 2 before the password
        pending = PendingSignature(
            store,
            reviewed_by,
            meaning=f"reviewed adverse event {event.label()}",
            record_type="adverse_event_review",
            from_stdin=password_stdin,
        )
        record = review_adverse_event(
            store,
            event_id,
            reviewed_by=reviewed_by,
            notes=notes,
            within=lambda conn, rec: pending.sign(conn, rec.id, _plain(rec)),
        )
    click.echo(f"reviewed adverse event {record.id} ({record.label()}) by {reviewed_by}")


ae.add_command(ae_review, "resolve")


@ae.command("list")
@click.argument("subject_id")
def ae_list(subject_id: str) -> None:
    """Every adverse event of SUBJECT_ID."""
    from stimctl.records import list_adverse_events

    def line(e: AdverseEventRecord) -> str:
        state = (
            f"reviewed by {e.reviewed_by}"
            if e.reviewed_by
            else ("BLOCKS until reviewed" if e.blocks else "not reviewed")
        )
        return f"{e.label()}  {state}  {e.notes}".rstrip()

    echo_records(
        lambda store: list_adverse_events(store, subject_id),
        line,
        f"no adverse events on record for {subject_id}",
    )


def _attach_course_records() -> None:
    # Issue 17 item 4: course change/report and session target live in their own module.
    from stimctl.cli.course_cmd import course_change, course_report, session_target

    course.add_command(course_change)
    course.add_command(course_report)
    sessions.add_command(session_target)


_attach_course_records()
