"""`stimctl dry-run` and `stimctl run`: a whole session on a simulator or a device."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from stimctl.cli.lab_options import LSL_OPTION, lab_listeners
from stimctl.cli.options import ISO_DATE, PERCENT_MSO
from stimctl.cli.session_auth import authorize_session, operator_option, session_actor

if TYPE_CHECKING:
    from stimctl.clock import Clock
    from stimctl.hal import Transport
    from stimctl.journal.writer import JournalListener
    from stimctl.session.engine import SessionEngine
    from stimctl.session.records_link import SessionRecorder
    from stimctl.session.runner import Prepared
    from stimctl.session.summary import Snapshot, Summary

DEFAULT_DRY_RUN_DEVICE = "magstim-rapid2-super-plus-240v"

# the console of `run` and `dry-run` (issue 16 item 6): an optional bell before each train
_train_cue = click.option(
    "--train-cue",
    "train_cue_s",
    type=click.FloatRange(min=0.5, max=30.0),
    default=None,
    metavar="SECONDS",
    help="Console: ring the terminal bell this many seconds before each train [off].",
)


def _common(func: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.argument("protocol"),
        click.option(
            "--rmt", type=PERCENT_MSO, default=None, help="Resting motor threshold, % MSO."
        ),
        click.option(
            "--amt", type=PERCENT_MSO, default=None, help="Active motor threshold, % MSO."
        ),
        click.option(
            "--subject", "subject_id", default=None, help="Take RMT and history from the records."
        ),
        click.option("--rmt-method", type=click.Choice(["emg", "visual"]), default="emg"),
        click.option("--rmt-date", type=ISO_DATE, default=None),
        click.option(
            "--mode",
            type=click.Choice(["clinical", "research"]),
            default=None,
            help="Research sessions only where the site file has research_allowed = true.",
        ),
        click.option("--study", "study_id", default=None, help="Study id (research sessions)."),
        click.option("--site", "site_file", default=None, help="Site rules file."),
        click.option(
            "--operator",
            envvar="STIMCTL_OPERATOR",
            default=None,
            callback=operator_option,
            help="Operator id; the password is asked [$STIMCTL_OPERATOR].",
        ),
        click.option(
            "--password-stdin",
            is_flag=True,
            help="Read the operator's password from the first line of standard input.",
        ),
        click.option(
            "--override-operator", default=None, help="Physician who signs an override verdict."
        ),
        click.option("--override-reason", default=None, help="Why the override is accepted."),
        click.option(
            "--override-password-stdin",
            is_flag=True,
            help="Read the signer's password from the next line of standard input.",
        ),
        click.option(
            "--monitor-operator",
            default=None,
            help="Who monitors a research session outside the tables (journaled).",
        ),
        click.option(
            "--monitor-method",
            "monitor_methods",
            multiple=True,
            type=click.Choice(["emg", "eeg"]),
            help="How it is monitored (repeat for both).",
        ),
        click.option(
            "--json", "as_json", is_flag=True, help="Print the summary as one JSON object."
        ),
        click.option(
            "--trigger",
            default=None,
            metavar="URL",
            help="Fire through a trigger line into the unit's Trigger In, e.g. "
            "serial-rts:///dev/ttyUSB1 or sim://t1 (docs/lab-triggers.md).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command("dry-run")
@_common
@click.option(
    "--device",
    "device_name",
    default=DEFAULT_DRY_RUN_DEVICE,
    show_default=True,
    help="Device profile to simulate.",
)
@click.option(
    "--speed",
    default=None,
    help="realtime, max, or a factor such as 10 (10x faster than real time)"
    " [default: max; realtime with --console].",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    help="Inject a fault, e.g. 'overheat@120', 'link-loss@60', 'coil-removed@30'.",
)
@click.option("--console", "with_console", is_flag=True, help="Open the operator console.")
@_train_cue
@LSL_OPTION
def dry_run(
    device_name: str,
    speed: str | None,
    faults: tuple[str, ...],
    with_console: bool,
    train_cue_s: float | None,
    lsl: str | None,
    **common: Any,
) -> int:
    """Run a whole session of PROTOCOL on the built-in simulator."""
    from contextlib import ExitStack

    from stimctl.clock import driving
    from stimctl.session.simulation import SimulatedDevice, parse_faults, parse_speed

    clock = parse_speed(session_speed(speed, console=with_console))
    request = SessionRequest(**common)
    trigger_cable = _simulated_trigger(request.trigger)
    prepared = _with_approvals(_prepare(request, device_name, simulated=True), required=False)
    request, prepared = authorize_session(request, prepared, on_stimulator=False)
    schedule = parse_faults(faults)
    recorder, prepared, session_id = _begin_record(prepared, request)
    with ExitStack() as stack:
        try:
            sim = stack.enter_context(SimulatedDevice(prepared.device, clock, **trigger_cable))
            listeners = lab_listeners(clock, lsl, None, stack)
            with driving(clock):
                engine = _open(
                    prepared,
                    sim.url,
                    clock,
                    request.operator,
                    transport=sim.open_transport(),
                    driver_options=sim.driver_options,
                    session_id=session_id,
                    journal_listeners=listeners,
                )
        except BaseException as exc:
            _abandon_record(recorder, exc)
            raise
        _attach_record(recorder, engine)
        sim.on_error = engine.background_failed
        sim.schedule_faults(schedule)
        if with_console:
            from stimctl.console import run_console

            summary = run_console(engine, prepared, operator=request.operator, cue_s=train_cue_s)
        else:
            summary = _run(engine, clock, request.as_json)
    _end_record(recorder, summary, engine)
    return _report(summary, request.as_json)


def session_speed(speed: str | None, *, console: bool) -> str:
    """The dry run's speed: `--speed` when given; else real time on the console (an
    operator rehearsing watches the session as it will run) and simulated time without
    it (a check that is over in seconds)."""
    if speed is not None:
        return speed
    return "realtime" if console else "max"


@click.command("run")
@_common
@click.option("--device", "device_name", required=True, help="Device profile of the stimulator.")
@click.option(
    "--port",
    "port_url",
    required=True,
    help="Serial port or URL (a device, a pty from `stimctl sim serve`, stimsim://).",
)
@click.option("--headless", is_flag=True, help="No console: print progress lines.")
@click.option(
    "--yes",
    is_flag=True,
    help="Headless: start without typing the subject id (or `start`) after the plan.",
)
@click.option(
    "--driver-option",
    "driver_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Driver option, e.g. unlock_code=... or version=9.0 for a Rapid².",
)
@_train_cue
@LSL_OPTION
def run(
    device_name: str,
    port_url: str,
    headless: bool,
    yes: bool,
    driver_options: tuple[str, ...],
    train_cue_s: float | None,
    lsl: str | None,
    **common: Any,
) -> int:
    """Run PROTOCOL on a stimulator at PORT."""
    from contextlib import ExitStack

    from stimctl.clock import MonotonicClock

    clock = MonotonicClock()
    request = SessionRequest(**common)
    _require_records_for_stimulator(request)
    prepared = _with_approvals(_prepare(request, device_name), required=True)
    request, prepared = authorize_session(request, prepared, on_stimulator=True)
    if headless:  # the console's pre-start screen and F5 are its confirmation
        from stimctl.cli.session_confirm import confirm_start

        assert request.subject_id is not None  # _require_records_for_stimulator
        confirm_start(
            prepared,
            subject_id=request.subject_id,
            port=port_url,
            yes=yes,
            quiet=request.as_json,
        )
    if port_url.startswith("stimsim://"):
        from stimctl.session.simulation import install_stimsim

        install_stimsim()
    recorder, prepared, session_id = _begin_record(prepared, request)
    try:
        engine = _open(
            prepared,
            port_url,
            clock,
            request.operator,
            driver_options=_key_values(driver_options),
            session_id=session_id,
            # The marker outlet lives until the process ends (never closed before the seal).
            journal_listeners=lab_listeners(clock, lsl, None, ExitStack()),
        )
    except BaseException as exc:
        _abandon_record(recorder, exc)
        raise
    _attach_record(recorder, engine)
    if not headless:
        from stimctl.console import run_console

        summary = run_console(engine, prepared, operator=request.operator, cue_s=train_cue_s)
    else:
        summary = _run(engine, clock, request.as_json)
    _end_record(recorder, summary, engine)
    return _report(summary, request.as_json)


def _simulated_trigger(url: str | None) -> dict[str, str]:
    """A dry run's stimulator is the built-in simulator: only a simulated line (sim://NAME)
    reaches its Trigger In, cabled to it by name."""
    if url is None:
        return {}
    if not url.startswith("sim://"):
        from stimctl.errors import ConfigError

        raise ConfigError(
            f"--trigger {url!r}: a dry run fires its simulator through a simulated line;"
            " give sim://NAME"
        )
    return {"trigger": url.partition("?")[0]}


def _require_records_for_stimulator(request: SessionRequest) -> None:
    """A session on a stimulator is always on record: a subject (screening, history,
    their own blocks), and in research mode also a study id and a named operator. Only a
    dry run may use a bare --rmt without a subject."""
    from stimctl.errors import ConfigError

    if request.subject_id is None:
        raise ConfigError(
            "a session on a stimulator needs --subject ID (screening, history and the"
            " session's row on record); only `dry-run` takes a bare --rmt"
        )
    # The operator: `authorize_session` requires a signed-in one unless the site file
    # allows unauthenticated research runs (then the journal names `local`).
    research = request.mode == "research" or _site_mode(request) == "research"
    if research and not (request.study_id or "").strip():
        raise ConfigError("a research session on a stimulator needs --study ID")


def _site_mode(request: SessionRequest) -> str:
    from stimctl.site import load_site

    return load_site(request.site_file).mode


def _begin_record(
    prepared: Prepared, request: SessionRequest
) -> tuple[SessionRecorder | None, Prepared, str | None]:
    """Start the session on record before the device is opened (the rules re-checked
    under the subject's lock); the recorder, the re-checked `prepared`, the session id."""
    if request.subject_id is None:
        return None, prepared, None
    from stimctl.journal import journal_path
    from stimctl.session.records_link import SessionRecorder
    from stimctl.session.runner import new_session_id

    session_id = new_session_id(prepared.now)
    recorder, rechecked = SessionRecorder.claim(
        prepared, request.operator, session_id, str(journal_path(session_id))
    )
    for line in recorder.reconciled:
        click.echo(f"reconciled: {line.line()}", err=True)
    from stimctl.cli.records_journal_cmd import upload_pending

    upload_pending()  # journals an earlier session left local (issue 17)
    return recorder, rechecked, session_id


def _attach_record(recorder: SessionRecorder | None, engine: SessionEngine) -> None:
    if recorder is not None:
        recorder.attach(engine)


def _abandon_record(recorder: SessionRecorder | None, exc: BaseException) -> None:
    if recorder is not None:
        recorder.abandon(exc)


def _end_record(recorder: SessionRecorder | None, summary: Summary, engine: SessionEngine) -> None:
    if recorder is None:
        return
    from stimctl.errors import StimctlError

    try:
        recorder.end(summary, engine.journal.head)
    except StimctlError as exc:
        _print_record_warnings(recorder)
        # the summary still reaches the operator; the row stays running until reconciled
        click.echo(
            f"stimctl: error: the session's row could not be closed in the records ({exc}); "
            "run `stimctl sessions reconcile` when the store is writable",
            err=True,
        )
        summary.records_error = str(exc)
        return
    _print_record_warnings(recorder)
    from stimctl.cli.records_journal_cmd import upload_after_session

    upload_after_session(recorder.session_id)  # the journal into the store (issue 17)


def _print_record_warnings(recorder: SessionRecorder) -> None:
    for line in recorder.warnings:  # updates during the session that did not reach it
        click.echo(f"stimctl: warning: records: {line}", err=True)


@dataclass(frozen=True)
class SessionRequest:
    """The options `dry-run` and `run` share."""

    protocol: str
    rmt: float | None
    amt: float | None
    subject_id: str | None
    rmt_method: str
    rmt_date: dt.date | None
    mode: str | None
    site_file: str | None
    operator: str
    password_stdin: bool
    study_id: str | None
    override_operator: str | None
    override_reason: str | None
    override_password_stdin: bool
    as_json: bool
    monitor_operator: str | None = None
    monitor_methods: tuple[str, ...] = ()
    trigger: str | None = None


def _key_values(pairs: tuple[str, ...]) -> dict[str, str]:
    from stimctl.errors import ConfigError

    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--driver-option {pair!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


def _prepare(request: SessionRequest, device_name: str, *, simulated: bool = False) -> Prepared:
    """Check the session on the records as they are now (a first check: the start
    re-checks under the subject's lock, `_begin_record`)."""
    from dataclasses import replace

    from stimctl.errors import ConfigError
    from stimctl.safety import MotorThreshold, Subject
    from stimctl.session.runner import Override, prepare, with_mode
    from stimctl.site import load_site

    r = request
    if r.study_id is not None:
        from stimctl.records.values import check_person_id

        check_person_id(r.study_id, "study")
    site = load_site(r.site_file)
    if (r.mode or site.mode) == "research" and not site.research_allowed:
        raise ConfigError(
            "research sessions are not allowed at this site (the site file says"
            " research_allowed = false); clinical sessions only"
        )
    site = with_mode(site, r.mode)
    now = dt.datetime.now(dt.UTC)
    override = None
    if r.override_operator or r.override_reason:
        override = Override(r.override_operator or "", r.override_reason or "")
    threshold = (
        None if r.rmt is None else MotorThreshold(r.rmt, r.rmt_method, r.rmt_date or now.date())  # type: ignore[arg-type]
    )
    monitoring = None
    if r.monitor_operator or r.monitor_methods:
        from stimctl.safety.monitoring import Monitoring

        monitoring = Monitoring(r.monitor_operator or "", tuple(r.monitor_methods))  # type: ignore[arg-type]
    if r.subject_id is not None:
        from stimctl.session.records_link import subject_and_history

        if threshold is not None and site.mode != "research":
            raise ConfigError(
                "clinical sessions take the RMT from the subject's records; drop --rmt or"
                f" record it with `stimctl rmt record {r.subject_id}`"
            )
        subject, history, reconciled = subject_and_history(r.subject_id, now)
        for line in reconciled:
            click.echo(f"reconciled: {line.line()}", err=True)
        if threshold is not None:  # research: the study's own threshold, journaled
            subject = replace(subject, rmt=threshold)
        prepared = prepare(
            r.protocol,
            subject,
            device_name,
            site=site,
            history=history,
            override=override,
            require_screening=True,
            now=now,
            monitoring=monitoring,
            trigger=r.trigger,
        )
    else:
        if r.rmt is None and r.amt is None:
            raise ConfigError("give --rmt PCT_MSO (and/or --amt PCT_MSO) or --subject ID")
        # hand thresholds (FDI) measured today unless --rmt-date says otherwise (issue 15)
        given = [
            MotorThreshold(value, r.rmt_method, r.rmt_date or now.date(), kind=kind, muscle="FDI")  # type: ignore[arg-type]
            for kind, value in (("rmt", r.rmt), ("amt", r.amt))
            if value is not None
        ]
        prepared = prepare(
            r.protocol,
            Subject(given[0], thresholds=tuple(given[1:])),
            device_name,
            site=site,
            override=override,
            now=now,
            monitoring=monitoring,
            trigger=r.trigger,
        )
    return replace(prepared, simulated=simulated, study_id=r.study_id)


def _with_approvals(prepared: Prepared, *, required: bool) -> Prepared:
    """Say which config files are locally modified (red) and attach their approvals.

    A session on a stimulator in clinical mode (`required`) is refused when a modified
    safety table or site file has no engineer approval on record; a dry run only
    journals what it found.
    """
    from dataclasses import replace

    for file in prepared.configs:
        if file.locally_modified:
            click.secho(file.line(), fg="red", err=True)
    if not any(file.needs_approval for file in prepared.configs):
        return prepared
    from stimctl.cli.records_cmd import open_store
    from stimctl.session.config_approval import require_approvals

    with open_store() as store:
        approvals = require_approvals(
            prepared.configs, prepared.site.mode, store, required=required
        )
    for approval in approvals:
        click.echo(
            f"approved: {approval.file_name} by {approval.approver_id} "
            f"({approval.approved_at:%Y-%m-%d}): {approval.reason}",
            err=True,
        )
    return replace(prepared, approvals=approvals)


def _open(
    prepared: Prepared,
    port_url: str,
    clock: Clock,
    operator: str,
    transport: Transport | None = None,
    driver_options: dict[str, str] | None = None,
    session_id: str | None = None,
    journal_listeners: tuple[JournalListener, ...] = (),
) -> SessionEngine:
    from stimctl.session.runner import open_session, recover_interrupted

    for line in recover_interrupted(clock=clock):
        click.echo(f"recovered: {line}", err=True)
    engine = open_session(
        prepared,
        port_url,
        clock=clock,
        operator=operator,
        transport=transport,
        driver_options=driver_options,
        session_id=session_id,
        journal_listeners=journal_listeners,
    )
    if engine.driver.found_armed_at_open is not None:  # a crashed host left it armed
        click.echo(f"stimctl: {engine.driver.found_armed_at_open}", err=True)
    return engine


def _run(engine: SessionEngine, clock: Clock, as_json: bool) -> Summary:
    """Start the engine and print one progress line per train and per state change
    (not one per poll); Ctrl-C aborts safely."""
    import time

    from stimctl.session.interrupts import abort_on_signals

    engine.start()
    last: tuple[str, int] | None = None
    try:
        with abort_on_signals(engine, actor=session_actor(engine)):
            while engine.running:
                time.sleep(0.2)
                if not as_json:
                    snap = engine.snapshot()
                    key = (snap.state, snap.trains_delivered)
                    if key != last:
                        click.echo(progress_line(snap), err=True)
                        last = key
    except KeyboardInterrupt:
        engine.abort(session_actor(engine), reason="interrupted (Ctrl-C)")
    summary = engine.wait(timeout=30)
    from stimctl.clock import driving

    try:
        with driving(clock):
            engine.driver.close()
    except Exception as exc:  # closing must never hide the summary
        click.echo(f"closing the device: {exc}", err=True)
    return summary


def progress_line(snap: Snapshot) -> str:
    """One line of headless progress: state, trains, pulses, time."""
    return (
        f"{snap.state:<10} trains {snap.trains_delivered}/{snap.trains_planned} "
        f"pulses {snap.pulses_delivered}/{snap.pulses_planned} "
        f"t={snap.elapsed_s:.1f}/{snap.planned_duration_s:.1f} s"
    )


def _report(summary: Summary, as_json: bool) -> int:

    data = summary.as_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        onset = data["train_onset_error_ms"]
        click.echo(
            f"session {summary.session_id}: {summary.status} ({summary.reason})\n"
            f"  pulses {summary.pulses_delivered}/{summary.pulses_planned}, "
            f"trains {summary.trains_delivered}/{summary.trains_planned}\n"
            f"  duration {summary.duration_s:.1f} s (planned {summary.planned_duration_s:.1f} s), "
            f"train onset error median {onset['median']} ms, max {onset['max']} ms\n"
            f"  alarms: {', '.join(summary.alarms) or 'none'}\n"
            f"  journal: {summary.journal}"
        )
    return _exit_code(summary)


def _exit_code(summary: Summary) -> int:
    """The documented exit code of a session (docs/exit-codes.md), most urgent first."""
    from stimctl.errors import ExitCode

    if not summary.disarm_confirmed:
        click.echo(
            "stimctl: DANGER: the stimulator did not confirm that it is disarmed: "
            "switch the stimulator off at its power switch now",
            err=True,
        )
        return ExitCode.DISARM_UNCONFIRMED
    if summary.adverse_event is not None:
        click.echo(
            f"stimctl: the session was ended by a serious adverse event ({summary.adverse_event})",
            err=True,
        )
        return ExitCode.ADVERSE_EVENT
    if summary.journal_error is not None or summary.records_error is not None:
        click.echo(f"stimctl: error: {summary.outcome}", err=True)
        return ExitCode.RECORDS
    if summary.interrupted_by is not None:
        return ExitCode.INTERRUPTED
    if summary.status in ("completed", "stopped"):
        return ExitCode.OK
    return ExitCode.DEVICE if summary.status == "fault" else ExitCode.STATE
