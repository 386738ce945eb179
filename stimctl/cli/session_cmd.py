"""`stimctl dry-run` and `stimctl run`: a whole session on a simulator or a device."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from stimctl.cli.options import ISO_DATE, PERCENT_MSO

if TYPE_CHECKING:
    from stimctl.clock import Clock
    from stimctl.hal import Transport
    from stimctl.session.engine import SessionEngine
    from stimctl.session.records_link import SessionRecorder
    from stimctl.session.runner import Prepared
    from stimctl.session.summary import Summary

DEFAULT_DRY_RUN_DEVICE = "magstim-rapid2-super-plus-240v"


def _common(func: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.argument("protocol"),
        click.option(
            "--rmt", type=PERCENT_MSO, default=None, help="Resting motor threshold, % MSO."
        ),
        click.option(
            "--subject", "subject_id", default=None, help="Take RMT and history from the records."
        ),
        click.option("--rmt-method", type=click.Choice(["emg", "visual"]), default="emg"),
        click.option("--rmt-date", type=ISO_DATE, default=None),
        click.option("--mode", type=click.Choice(["clinical", "research"]), default=None),
        click.option("--site", "site_file", default=None, help="Site rules file."),
        click.option(
            "--operator", default="local", show_default=True, help="Operator id (journaled)."
        ),
        click.option("--override-operator", default=None, help="Who accepts an override verdict."),
        click.option("--override-reason", default=None, help="Why the override is accepted."),
        click.option(
            "--json", "as_json", is_flag=True, help="Print the summary as one JSON object."
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
    default="max",
    show_default=True,
    help="realtime, max, or a factor such as 10 (10x faster than real time).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    help="Inject a fault, e.g. 'overheat@120', 'link-loss@60', 'coil-removed@30'.",
)
@click.option("--console", "with_console", is_flag=True, help="Open the operator console.")
def dry_run(
    device_name: str, speed: str, faults: tuple[str, ...], with_console: bool, **common: Any
) -> int:
    """Run a whole session of PROTOCOL on the built-in simulator."""
    from stimctl.clock import driving
    from stimctl.session.simulation import SimulatedDevice, parse_faults, parse_speed

    clock = parse_speed(speed)
    request = SessionRequest(**common)
    prepared = _prepare(request, device_name)
    schedule = parse_faults(faults)
    with SimulatedDevice(prepared.device, clock) as sim:
        with driving(clock):
            engine = _open(
                prepared,
                sim.url,
                clock,
                request.operator,
                transport=sim.open_transport(),
                driver_options=sim.driver_options,
            )
        recorder = _begin_record(prepared, engine, request.operator, request.subject_id)
        sim.schedule_faults(schedule)
        if with_console:
            from stimctl.console import run_console

            summary = run_console(engine, prepared, operator=request.operator)
        else:
            summary = _run(engine, clock, request.as_json)
    _end_record(recorder, summary, engine)
    return _report(summary, request.as_json)


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
    "--driver-option",
    "driver_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Driver option, e.g. unlock_code=... or version=9.0 for a Rapid².",
)
def run(
    device_name: str,
    port_url: str,
    headless: bool,
    driver_options: tuple[str, ...],
    **common: Any,
) -> int:
    """Run PROTOCOL on a stimulator at PORT."""
    from stimctl.clock import MonotonicClock

    clock = MonotonicClock()
    request = SessionRequest(**common)
    prepared = _prepare(request, device_name)
    if request.subject_id is None and prepared.site.mode == "clinical":
        from stimctl.errors import ConfigError

        # A subject on record brings screening (SCR-4) and history (daily and course
        # rules); a bare --rmt has neither. Dry runs may use --rmt; patients may not.
        raise ConfigError(
            "clinical mode: a session on a stimulator needs --subject ID (screening and "
            "history on record); use --mode research for a research session with --rmt"
        )
    if port_url.startswith("stimsim://"):
        from stimctl.session.simulation import install_stimsim

        install_stimsim()
    engine = _open(
        prepared, port_url, clock, request.operator, driver_options=_key_values(driver_options)
    )
    recorder = _begin_record(prepared, engine, request.operator, request.subject_id)
    if not headless:
        from stimctl.console import run_console

        summary = run_console(engine, prepared, operator=request.operator)
    else:
        summary = _run(engine, clock, request.as_json)
    _end_record(recorder, summary, engine)
    return _report(summary, request.as_json)


def _begin_record(
    prepared: Prepared, engine: SessionEngine, operator: str, subject_id: str | None
) -> SessionRecorder | None:
    if subject_id is None:
        return None
    from stimctl.session.records_link import SessionRecorder

    try:
        return SessionRecorder.begin(prepared, engine, operator)
    except BaseException:
        engine.driver.close()
        raise


def _end_record(recorder: SessionRecorder | None, summary: Summary, engine: SessionEngine) -> None:
    if recorder is not None:
        recorder.end(summary, engine.journal.head)


@dataclass(frozen=True)
class SessionRequest:
    """The options `dry-run` and `run` share."""

    protocol: str
    rmt: float | None
    subject_id: str | None
    rmt_method: str
    rmt_date: dt.date | None
    mode: str | None
    site_file: str | None
    operator: str
    override_operator: str | None
    override_reason: str | None
    as_json: bool


def _key_values(pairs: tuple[str, ...]) -> dict[str, str]:
    from stimctl.errors import ConfigError

    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--driver-option {pair!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


def _prepare(request: SessionRequest, device_name: str) -> Prepared:
    from stimctl.errors import ConfigError
    from stimctl.safety import MotorThreshold, Subject
    from stimctl.session.runner import Override, prepare, with_mode
    from stimctl.site import load_site

    r = request
    site = with_mode(load_site(r.site_file), r.mode)
    now = dt.datetime.now(dt.UTC)
    override = None
    if r.override_operator or r.override_reason:
        override = Override(r.override_operator or "", r.override_reason or "")
    if r.subject_id is not None:
        from stimctl.session.records_link import subject_and_history

        subject, history = subject_and_history(r.subject_id, now)
        return prepare(
            r.protocol,
            subject,
            device_name,
            site=site,
            history=history,
            override=override,
            require_screening=True,
            now=now,
        )
    if r.rmt is None:
        raise ConfigError("give --rmt PCT_MSO or --subject ID")
    threshold = MotorThreshold(r.rmt, r.rmt_method, r.rmt_date or now.date())  # type: ignore[arg-type]
    return prepare(
        r.protocol, Subject(threshold), device_name, site=site, override=override, now=now
    )


def _open(
    prepared: Prepared,
    port_url: str,
    clock: Clock,
    operator: str,
    transport: Transport | None = None,
    driver_options: dict[str, str] | None = None,
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
    )
    if engine.driver.found_armed_at_open is not None:  # a crashed host left it armed
        click.echo(f"stimctl: {engine.driver.found_armed_at_open}", err=True)
    return engine


def _run(engine: SessionEngine, clock: Clock, as_json: bool) -> Summary:
    """Start the engine and print progress until it ends; Ctrl-C aborts safely."""
    import time

    engine.start()
    last_line = ""
    try:
        while engine.running:
            time.sleep(0.2)
            if not as_json:
                snap = engine.snapshot()
                line = (
                    f"{snap.state:<10} trains {snap.trains_delivered}/{snap.trains_planned} "
                    f"pulses {snap.pulses_delivered}/{snap.pulses_planned} "
                    f"t={snap.elapsed_s:8.1f}/{snap.planned_duration_s:.1f} s"
                )
                if line != last_line:
                    click.echo(line, err=True)
                    last_line = line
    except KeyboardInterrupt:
        engine.abort("operator:console", reason="interrupted (Ctrl-C)")
    summary = engine.wait(timeout=30)
    from stimctl.clock import driving

    try:
        with driving(clock):
            engine.driver.close()
    except Exception as exc:  # closing must never hide the summary
        click.echo(f"closing the device: {exc}", err=True)
    return summary


def _report(summary: Summary, as_json: bool) -> int:
    from stimctl.errors import ExitCode

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
    if summary.status in ("completed", "stopped"):
        return ExitCode.OK
    return ExitCode.DEVICE if summary.status == "fault" else ExitCode.STATE
