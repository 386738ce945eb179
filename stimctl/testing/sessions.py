"""Run a whole session on a simulator, on simulated time, and hand back what happened.

The real path end to end: `prepare` (the safety verdict, refusing a blocked protocol
with `SafetyViolation`), the registered driver, the model's byte-level simulator on
`stimsim://`, the session engine and the journal. A 20-minute protocol takes seconds.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from stimctl.journal import VerifyResult
    from stimctl.safety import SiteRules, Verdict
    from stimctl.session.summary import Summary

DEFAULT_DEVICE = "magpro-x100"


@dataclass
class SessionResult:
    """The engine's summary, the parsed journal and the simulator's own pulse log."""

    summary: Summary
    verdict: Verdict
    journal_path: Path
    journal: list[dict[str, Any]]
    journal_check: VerifyResult
    pulses: list[Any]
    """Every pulse the simulator delivered: `.time`, `.intensity` (% MSO), `.channel`."""
    device_armed_at_end: bool

    @property
    def status(self) -> str:
        return self.summary.status

    def events(self, name: str) -> list[dict[str, Any]]:
        """The journal records of one event (`train_start`, `pulse`, `alarm`...)."""
        return [r for r in self.journal if r["event"] == name]

    @property
    def session_end(self) -> dict[str, Any] | None:
        ends = self.events("session_end")
        return ends[-1]["payload"] if ends else None


def run_session(
    protocol: str | Path,
    *,
    device: str = DEFAULT_DEVICE,
    rmt: float = 55.0,
    rmt_method: Literal["emg", "visual"] = "emg",
    site: SiteRules | None = None,
    override: tuple[str, str] | None = None,
    override_secret: str | None = None,
    sim_options: dict[str, str] | None = None,
    faults: tuple[str, ...] = (),
    estop_at_s: float | None = None,
    journal_dir: Path | None = None,
    now: dt.datetime | None = None,
    timeout_s: float = 120.0,
) -> SessionResult:
    """Run `protocol` (shipped name or path) on `device`'s simulator to its end.

    `override` is (operator, reason) for a verdict that needs one, signed with the
    operator's `override_secret` (a physician registered in the record store of
    $STIMCTL_HOME: an unsigned override is refused, as on the CLI); `sim_options` are
    simulator spec keys (`ignore_disarm="1"`...); `faults` are `KIND@SECONDS` as in
    `stimctl dry-run --fault` (overheat, link-loss, coil-removed, device-error,
    ignore-disarm); `estop_at_s` presses the emergency stop that many simulated seconds
    after the start. Journals go to `journal_dir` (default `$STIMCTL_HOME/journals`).
    """
    from stimctl.clock import SimulatedClock, driving
    from stimctl.journal import journals_dir, read, verify
    from stimctl.safety import MotorThreshold, SiteRules, Subject
    from stimctl.session.runner import Override, open_session, prepare
    from stimctl.session.simulation import SimulatedDevice, parse_faults

    moment = now or dt.datetime.now(dt.UTC)
    subject = Subject(MotorThreshold(rmt, rmt_method, moment.date()))
    prepared = prepare(
        str(protocol),
        subject,
        device,
        site=site or SiteRules(),
        override=Override(*override) if override else None,
        now=moment,
    )
    if prepared.override is not None:
        from stimctl.errors import AuthError
        from stimctl.identity.override_signing import sign_override
        from stimctl.records import Store

        if not override_secret:
            raise AuthError("an override is signed: give override_secret (the physician's)")
        with Store.open() as store:
            prepared = sign_override(store, prepared, override_secret)
    clock = SimulatedClock()
    with SimulatedDevice(prepared.device, clock, **(sim_options or {})) as sim:
        with driving(clock):
            engine = open_session(
                prepared,
                sim.url,
                clock=clock,
                journal_dir=journal_dir or journals_dir(),
                transport=sim.open_transport(),
                driver_options=sim.driver_options,
            )
        sim.schedule_faults(parse_faults(faults))
        started = clock.now()
        engine.start()
        presser = None
        if estop_at_s is not None:
            presser = _press_estop_at(engine, clock, started + estop_at_s)
        try:
            summary = engine.wait(timeout_s)
        finally:
            if presser is not None:
                presser.join(timeout=5)
            with driving(clock):
                engine.driver.close()
        armed = not sim.check_disarmed()
        pulses = sim.pulse_log()
    path = Path(summary.journal)
    return SessionResult(
        summary=summary,
        verdict=prepared.verdict,
        journal_path=path,
        journal=[dict(record) for record in read(path)],
        journal_check=verify(path),
        pulses=pulses,
        device_armed_at_end=armed,
    )


def _press_estop_at(engine: Any, clock: Any, at: float) -> threading.Thread:
    """Press the e-stop at simulated time `at`, from another thread (as a console would)."""

    def later() -> None:
        while clock.now() < at and engine.running:
            clock.sleep_until(at)
        if engine.running:
            engine.estop("operator:test")

    thread = threading.Thread(target=later, name="stimctl-testing-estop", daemon=True)
    thread.start()
    return thread
