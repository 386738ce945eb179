"""The operator console (Textual): `stimctl run` without --headless.

`run_console(engine, prepared)` shows the pre-start checks, runs the session and returns
its summary; `run_dry_run_console(...)` does the same on the built-in simulator (what
the tests and the screenshots use). Whatever way the console ends, a running session is
aborted and the engine waited for, and the device is closed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from stimctl.clock import driving

if TYPE_CHECKING:
    from stimctl.clock import Clock
    from stimctl.console.app import ConsoleApp
    from stimctl.hal import DeviceIdentity
    from stimctl.session.engine import SessionEngine
    from stimctl.session.runner import Prepared
    from stimctl.session.summary import Summary

OPERATOR_ACTOR_FALLBACK = "local"


def coil_limit_c(prepared: Prepared) -> float:
    """The coil stop limit the engine uses (DEV-1): the device's own, capped by the table."""
    from stimctl.safety.tables import limits

    table = limits().device.coil_temperature_stop_c.value
    return min(prepared.device.coil_temperature_limit_c, table)


def identify(engine: SessionEngine) -> DeviceIdentity | None:
    """Ask the device who it is before the engine starts (the pre-start screen shows it)."""
    from stimctl.errors import StimctlError

    try:
        with driving(engine.clock):
            return engine.driver.identify()
    except StimctlError:
        return None


def build_app(
    engine: SessionEngine,
    prepared: Prepared,
    *,
    operator: str = OPERATOR_ACTOR_FALLBACK,
    report_dir: Path | None = None,
    identity: DeviceIdentity | None = None,
    cue_s: float | None = None,
) -> ConsoleApp:
    from stimctl.console.app import ConsoleApp

    return ConsoleApp(
        engine,
        prepared,
        operator=operator,
        identity=identity,
        coil_limit_c=coil_limit_c(prepared),
        report_dir=report_dir,
        cue_s=cue_s,
    )


def finish(engine: SessionEngine, app: ConsoleApp | None) -> Summary:
    """After the app: abort whatever still runs, wait for the end, close the device."""
    from stimctl.errors import StimctlError

    try:
        if not engine.running and (app is None or not app.started):
            engine.abort(OPERATOR_ACTOR_FALLBACK, reason="the console closed before the start")
            engine.start()
        elif engine.running:
            engine.abort(OPERATOR_ACTOR_FALLBACK, reason="console closed during the session")
        summary = engine.wait(timeout=30)
    finally:
        try:
            with driving(engine.clock):
                engine.driver.close()
        except StimctlError:
            pass  # closing must never hide the summary; the engine already disarmed
    return summary


def run_console(
    engine: SessionEngine,
    prepared: Prepared,
    operator: str | None = None,
    *,
    cue_s: float | None = None,
) -> Summary:
    """Run the console on an opened (not started) engine; returns the session summary.
    `cue_s`: ring the terminal bell that many seconds before each train (None: off)."""
    identity = identify(engine)
    app = build_app(
        engine, prepared, operator=operator or _operator(engine), identity=identity, cue_s=cue_s
    )
    try:
        app.run()
    finally:
        summary = finish(engine, app)
    return summary


def run_dry_run_console(
    protocol: str,
    rmt_percent_mso: float,
    *,
    device: str = "magstim-rapid2-super-plus-240v",
    speed: str = "realtime",
    operator: str = OPERATOR_ACTOR_FALLBACK,
) -> Summary:
    """The console on the built-in simulator: `stimctl dry-run` with a console."""
    import datetime as dt

    from stimctl.safety import MotorThreshold, Subject
    from stimctl.session.runner import prepare
    from stimctl.session.simulation import SimulatedDevice, open_simulated_session, parse_speed
    from stimctl.site import load_site

    clock: Clock = parse_speed(speed)
    now = dt.datetime.now(dt.UTC)
    subject = Subject(MotorThreshold(rmt_percent_mso, "emg", now.date()))
    prepared = prepare(protocol, subject, device, site=load_site(None), now=now)
    with SimulatedDevice(prepared.device, clock) as sim:
        engine = open_simulated_session(prepared, sim, operator=operator)
        return run_console(engine, prepared, operator=operator)


def _operator(engine: SessionEngine) -> str:
    """The operator id the session was opened with (journaled as `operator:<id>`)."""
    value = getattr(engine, "_start_payload", {}).get("operator", "")
    prefix = "operator:"
    return (
        value[len(prefix) :]
        if isinstance(value, str) and value.startswith(prefix)
        else (OPERATOR_ACTOR_FALLBACK)
    )


__all__ = ["build_app", "coil_limit_c", "finish", "identify", "run_console", "run_dry_run_console"]
