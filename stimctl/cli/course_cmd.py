"""Course records (issue 17 item 4): outcome scores, signed course changes, coil placement
per session, and the course report.

`stimctl outcome record|list|scales`; `stimctl course change|report` and `stimctl sessions
target` are attached to the `course` and `sessions` groups of `stimctl.cli.records_cmd`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from stimctl.cli.options import ISO_DATE


@click.group()
def outcome() -> None:
    """Outcome scores (NRS, VAS, PHQ-9, MADRS, HAMD-17, BPI) per visit or session."""


@outcome.command("record")
@click.argument("subject_id")
@click.option("--scale", "scale_key", required=True, help="nrs, vas, phq9, madrs, hamd17 or bpi.")
@click.option("--value", type=float, required=True, help="The score, within the scale's range.")
@click.option("--date", "measured_on", type=ISO_DATE, default=None, help="Measured on [today].")
@click.option("--session", "session_id", default=None, help="The session it belongs to.")
@click.option("--notes", default="", help="Free text (no identifying data).")
@click.option("--by", "by_id", envvar="STIMCTL_OPERATOR", default=None, help="Who recorded it.")
def outcome_record(
    subject_id: str,
    scale_key: str,
    value: float,
    measured_on: dt.date | None,
    session_id: str | None,
    notes: str,
    by_id: str | None,
) -> None:
    """Record an outcome score of SUBJECT_ID (a value outside the scale is refused, exit 2)."""
    from stimctl.cli.records_cmd import open_store
    from stimctl.records.outcomes import OutcomeRecord, record_outcome
    from stimctl.records.scales import scale

    known = scale(scale_key)
    known.check(value)  # before the store: a typo needs no database to be refused
    with open_store() as store:
        record = record_outcome(
            store,
            OutcomeRecord(
                subject_id=subject_id,
                scale=scale_key,
                value=value,
                measured_on=measured_on or dt.datetime.now(dt.UTC).date(),
                session_id=session_id,
                notes=notes,
                recorded_by=by_id,
            ),
        )
    click.echo(
        f"recorded {scale_key} {record.value:g} for {subject_id} on"
        f" {record.measured_on.isoformat()} ({known.low:g}-{known.high:g})"
    )


@outcome.command("list")
@click.argument("subject_id")
def outcome_list(subject_id: str) -> None:
    """Every outcome score of SUBJECT_ID, oldest first."""
    from stimctl.cli.records_cmd import echo_records
    from stimctl.records.outcomes import list_outcomes

    echo_records(
        lambda store: list_outcomes(store, subject_id),
        lambda r: f"{r.measured_on.isoformat()}  {r.scale:<7} {r.value:g}  {r.notes}".rstrip(),
        f"no outcome on record for {subject_id}",
    )


@outcome.command("scales")
def outcome_scales() -> None:
    """The scales, their ranges and sources."""
    from stimctl.records.scales import SCALES

    for s in SCALES.values():
        step = "whole points" if s.whole_points else "decimals allowed"
        click.echo(f"{s.key:<7} {s.low:g}-{s.high:g} {s.unit} ({step}): {s.name}; {s.source}")


@click.command("change")
@click.argument("subject_id")
@click.option("--add-sessions", type=int, default=None, help="Sessions approved in addition.")
@click.option("--protocol", default=None, help="The new protocol (a shipped name or a path).")
@click.option("--intensity", type=float, default=None, help="The new intensity, % MT.")
@click.option("--reason", required=True, help="Why (e.g. 'payer approved 6 more').")
@click.option(
    "--by", "by_id", envvar="STIMCTL_OPERATOR", default=None, help="Physician who signs it."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def course_change(
    subject_id: str,
    add_sessions: int | None,
    protocol: str | None,
    intensity: float | None,
    reason: str,
    by_id: str | None,
    password_stdin: bool,
) -> None:
    """Change SUBJECT_ID's active course (one of --add-sessions, --protocol, --intensity),
    with a reason, signed by a physician (exit 10 for anyone else or a wrong password)."""
    from stimctl.cli.records_cmd import _plain, open_store
    from stimctl.cli.signing import PendingSignature
    from stimctl.errors import ConfigError
    from stimctl.records.course_changes import CourseChange, change_course

    given = [v is not None for v in (add_sessions, protocol, intensity)]
    if sum(given) != 1:
        raise ConfigError("give exactly one of --add-sessions, --protocol, --intensity")
    if add_sessions is not None:
        change = CourseChange(
            subject_id, "sessions-added", reason, by_id or "", {"sessions": add_sessions}
        )
        meaning = f"approved {add_sessions} more sessions for {subject_id}"
    elif protocol is not None:
        from stimctl.configs import file_digest, resolve
        from stimctl.protocol import load_protocol

        loaded = load_protocol(protocol)
        digest = file_digest(resolve("protocols", protocol))
        detail = {"protocol_name": loaded.name, "protocol_digest": digest}
        change = CourseChange(subject_id, "protocol-changed", reason, by_id or "", detail)
        meaning = f"changed the protocol of {subject_id}'s course to {loaded.name}"
    else:
        assert intensity is not None
        detail_i = {"intensity_percent_mt": intensity}
        change = CourseChange(subject_id, "intensity-changed", reason, by_id or "", detail_i)
        meaning = f"changed the intensity of {subject_id}'s course to {intensity:g}% MT"
    with open_store() as store:
        from stimctl.records import get_subject

        get_subject(store, subject_id)  # an unknown subject fails before the password
        pending = PendingSignature(
            store, by_id, meaning=meaning, record_type="course_change", from_stdin=password_stdin
        )
        record = change_course(
            store, change, within=lambda conn, rec: pending.sign(conn, rec.id, _plain(rec))
        )
    assert pending.signature is not None
    click.echo(
        f"course {record.course_id}: {record.line()}; signed by {pending.signature.signer_name}"
    )


@click.command("report")
@click.argument("subject_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write [$STIMCTL_HOME/reports/<subject>_course.html].",
)
def course_report(subject_id: str, output: Path | None) -> None:
    """Write SUBJECT_ID's course report (HTML: calendar, dose, outcomes, adverse events,
    signatures)."""
    from stimctl.cli.records_cmd import open_store
    from stimctl.errors import ConfigError
    from stimctl.report import reports_dir
    from stimctl.report.course import course_report as build
    from stimctl.report.course import render_course_html

    with open_store() as store:
        html = render_course_html(build(store, subject_id))
    target = output or reports_dir() / f"{subject_id}_course.html"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {target}: {exc.strerror or exc}") from None
    click.echo(str(target))


@click.command("target")
@click.argument("session_id")
@click.option("--method", required=True, help="beam-f3, 5cm-rule, neuronavigation-mri, ...")
@click.option("--site", default="", help="Target site, e.g. L-DLPFC, M1-hand.")
@click.option("--notes", default="", help="How, when the method is 'other'.")
@click.option("--by", "by_id", envvar="STIMCTL_OPERATOR", default=None, help="Who placed the coil.")
def session_target(session_id: str, method: str, site: str, notes: str, by_id: str | None) -> None:
    """Record how the coil was placed for SESSION_ID (once per session)."""
    from stimctl.cli.records_cmd import open_store
    from stimctl.records.outcomes import TargetRecord, record_target

    with open_store() as store:
        record = record_target(store, TargetRecord(session_id, method, site, notes, by_id))
    click.echo(f"session {session_id}: coil placed by {record.method} {record.site}".rstrip())
