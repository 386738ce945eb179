"""Put a session together: check, plan, connect, journal, run.

`prepare` does everything that can refuse a session before a byte goes to the device:
load the protocol and device profile, evaluate the safety verdict, require an override
(operator and reason) when the verdict asks for one, and compile the plan. `open_session`
then connects the driver, creates the journal, and returns an engine ready to start.
"""

from __future__ import annotations

import datetime as dt
import platform
import re
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stimctl import __version__
from stimctl.clock import Clock
from stimctl.configs import file_digest, resolve
from stimctl.device_profiles import DeviceProfile, load_profile
from stimctl.errors import ConfigError, OverrideRequired, SafetyViolation, StimctlError
from stimctl.hal import Stimulator, Transport, load_driver
from stimctl.journal import Journal, close_interrupted, find_unfinished, journals_dir
from stimctl.journal.events import operator_actor
from stimctl.protocol import Protocol, load_protocol
from stimctl.safety import History, MotorThreshold, SiteRules, Subject, thresholds
from stimctl.safety.engine import evaluate
from stimctl.safety.monitoring import Monitoring, outside_tables
from stimctl.safety.tables import limits, table_digests
from stimctl.safety.verdict import Severity, Verdict
from stimctl.session.engine import SessionEngine
from stimctl.session.guard import RuntimeGuard
from stimctl.session.plan import Plan, compile_plan
from stimctl.session.watchdog import WatchdogLimits


@dataclass(frozen=True)
class Override:
    operator: str
    reason: str


@dataclass(frozen=True)
class Prepared:
    protocol: Protocol
    protocol_path: Path
    device: DeviceProfile
    subject: Subject
    site: SiteRules
    verdict: Verdict
    override: Override | None
    now: dt.datetime
    monitoring: Monitoring | None = None
    """Who monitors and how, for a research session outside the tables (issue 15)."""

    @property
    def threshold(self) -> MotorThreshold:
        """The threshold the protocol's intensity refers to (kind and muscle, issue 15)."""
        reference = self._dose().reference
        assert reference is not None  # the verdict blocked a missing threshold
        return reference

    @property
    def reference_percent_mso(self) -> float:
        """What the plan's "% RMT" figures are a % of: the threshold above, adjusted for
        the target's cortical depth where the protocol says so (SAINT)."""
        value = self._dose().reference_percent_mso
        assert value is not None
        return value

    def _dose(self) -> thresholds.Dose:
        gradient = limits().intensity.depth_gradient_percent_mso_per_mm.value
        return thresholds.dose(self.subject, self.protocol, gradient)


def prepare(
    protocol_name: str,
    subject: Subject,
    device_name: str,
    *,
    site: SiteRules,
    history: History | None = None,
    override: Override | None = None,
    require_screening: bool = False,
    now: dt.datetime | None = None,
    monitoring: Monitoring | None = None,
) -> Prepared:
    """Check a session; raises SafetyViolation on `block` or a missing override, and
    OverrideRequired for a research session outside the tables without `monitoring`."""
    path = resolve("protocols", protocol_name)
    protocol = load_protocol(str(path))
    device = load_profile(device_name)
    moment = now or dt.datetime.now(dt.UTC)
    verdict = evaluate(
        protocol,
        subject,
        now=moment,
        device=device,
        site=site,
        history=history,
        require_screening=require_screening,
    )
    deciding = "; ".join(f"{f.rule}: {f.message}" for f in verdict.deciding())
    if verdict.verdict is Severity.BLOCK:
        first = verdict.deciding()[0]
        raise SafetyViolation(f"blocked: {deciding}", rule=first.rule, source=first.source)
    if verdict.verdict is Severity.OVERRIDE:
        if override is None or not override.operator.strip() or not override.reason.strip():
            raise OverrideRequired(
                f"override required (give --override-operator and --override-reason): {deciding}",
                rule=verdict.deciding()[0].rule,
            )
    else:
        override = None
    outside = outside_tables(verdict, site)
    if outside and monitoring is None:
        rules = ", ".join(sorted({f.rule for f in outside}))
        raise OverrideRequired(
            f"a research session outside the tables ({rules}) needs a monitoring record: "
            "give --monitor-operator ID and --monitor-method emg|eeg (Rossi 2021)",
            rule="MON-1",
        )
    return Prepared(
        protocol,
        path,
        device,
        subject,
        site,
        verdict,
        override,
        moment,
        monitoring if outside else None,
    )


def revalidator(prepared: Prepared) -> Any:
    """The engine's check for a mid-session intensity change: the same safety engine."""

    field = "percent_amt" if prepared.protocol.intensity.percent_amt is not None else "percent_rmt"

    def check(percent_rmt: float) -> tuple[bool, str, int]:
        intensity = prepared.protocol.intensity.model_copy(
            update={
                field: percent_rmt,
                "ramp_start_percent_rmt": None,
                "ramp_trains": None,
                "ramp_sessions": None,
            }
        )
        changed = prepared.protocol.model_copy(update={"intensity": intensity})
        verdict = evaluate(
            changed, prepared.subject, now=prepared.now, device=prepared.device, site=prepared.site
        )
        dose = int(percent_rmt * prepared.reference_percent_mso / 100.0 + 1e-9)
        if verdict.verdict is Severity.BLOCK:
            why = "; ".join(f"{f.rule}: {f.message}" for f in verdict.deciding())
            return False, why, dose
        if verdict.verdict is Severity.OVERRIDE and prepared.override is None:
            why = "; ".join(f"{f.rule}: {f.message}" for f in verdict.deciding())
            return False, f"would need an override: {why}", dose
        return True, "", dose

    return check


def recover_interrupted(directory: Path | None = None, *, clock: Clock) -> list[str]:
    """Close journals left open by a crash; one line per journal closed."""
    lines = []
    for path in find_unfinished(directory or journals_dir()):
        try:
            summary = close_interrupted(path, clock=clock)
        except StimctlError as exc:
            lines.append(f"{path.name}: could not close: {exc}")
            continue
        lines.append(
            f"{path.name}: closed as interrupted, {summary.pulses_delivered} pulses delivered"
        )
    return lines


def new_session_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def open_session(
    prepared: Prepared,
    port_url: str,
    *,
    clock: Clock,
    journal_dir: Path | None = None,
    session_id: str | None = None,
    driver: Stimulator | None = None,
    transport: Transport | None = None,
    driver_options: dict[str, Any] | None = None,
    operator: str = "local",
) -> SessionEngine:
    """Connect the driver, compile the plan, create the journal; the engine is not started."""
    device = prepared.device
    if driver is None:
        driver_cls = load_driver(device.driver)
        options: dict[str, Any] = {**device.driver_options, **(driver_options or {})}
        if transport is not None:
            options["transport"] = transport
        try:
            driver = driver_cls(port_url, clock=clock, **options)
        except TypeError as exc:  # an option this driver does not take
            raise ConfigError(f"driver {device.driver}: {exc}") from None
    driver.open()
    try:
        identity = driver.identify()
        caps = driver.capabilities()
        plan = compile_plan(
            prepared.protocol,
            prepared.reference_percent_mso,
            device_timed_trains=caps.device_timed_trains,
        )
        directory = journal_dir or journals_dir()
        directory.mkdir(parents=True, exist_ok=True)
        sid = session_id or new_session_id(prepared.now)
        journal = Journal.create(directory, sid, clock=clock)
    except BaseException:
        driver.close()
        raise
    device_limits = limits().device
    guard = RuntimeGuard.for_plan(
        plan,
        coil_stop_c=min(
            device.coil_temperature_limit_c, device_limits.coil_temperature_stop_c.value
        ),
        coil_warn_c=device_limits.coil_temperature_warn_c.value,
    )
    watchdog = WatchdogLimits(
        heartbeat_timeout_s=device_limits.heartbeat_timeout_s.value,
        coil_stop_c=guard.limits.coil_stop_c,
        coil_warn_c=guard.limits.coil_warn_c,
    )
    start = session_start_payload(prepared, plan, identity.__dict__, port_url, operator)
    engine = SessionEngine(
        driver,
        plan,
        journal,
        clock=clock,
        guard=guard,
        watchdog=watchdog,
        session_start=start,
        revalidate=revalidator(prepared),
    )
    return engine


def session_start_payload(
    prepared: Prepared, plan: Plan, identity: dict[str, Any], port_url: str, operator: str
) -> dict[str, Any]:
    subject = prepared.subject
    rmt = prepared.threshold
    payload: dict[str, Any] = {
        "software": {"stimctl": __version__, "python": platform.python_version()},
        "operator": operator_actor(operator),
        "protocol": prepared.protocol.model_dump(mode="json"),
        "protocol_digest": file_digest(prepared.protocol_path),
        "subject": {
            "id": subject.subject_id,
            "rmt_percent_mso": rmt.percent_mso,
            "rmt_method": rmt.method,
            "rmt_measured_on": rmt.measured_on.isoformat(),
            "rmt_device": rmt.device,
            # the "rmt_*" fields are the threshold the dose refers to: its kind and muscle
            "threshold_kind": rmt.kind,
            "threshold_muscle": rmt.muscle,
            "reference_percent_mso": prepared.reference_percent_mso,
        },
        "device": {
            "profile": prepared.device.name,
            "port": redact_secrets(port_url),
            "identity": identity,
        },
        "site": {"mode": prepared.site.mode, "timezone": prepared.site.timezone},
        "table_digests": table_digests(),
        "table_version": limits().table_version,
        "plan": {
            "timing": plan.timing,
            "trains": len(plan.trains),
            "total_pulses": plan.total_pulses,
            "max_intensity_percent_mso": plan.max_intensity_percent_mso,
            "duration_s": plan.duration_s,
            "rounding": plan.rounding_note,
        },
        "verdict": prepared.verdict.as_dict(),
    }
    if prepared.monitoring is not None:
        payload["monitoring"] = {
            **prepared.monitoring.as_dict(),
            "operator": operator_actor(prepared.monitoring.operator),
            "because": [f.rule for f in outside_tables(prepared.verdict, prepared.site)],
        }
    if prepared.override is not None:
        payload["override"] = {
            "operator": operator_actor(prepared.override.operator),
            "reason": prepared.override.reason,
            "rules": [f.rule for f in prepared.verdict.deciding()],
        }
    return payload


def redact_secrets(url: str) -> str:
    """A port URL for the record: a Rapid's unlock code is the unit's secret."""
    return re.sub(r"(unlock_code=)[^&]*", r"\1***", url)


def with_mode(site: SiteRules, mode: str | None) -> SiteRules:
    return site if mode is None else replace(site, mode=mode)  # type: ignore[arg-type]


__all__ = ["Override", "Prepared", "open_session", "prepare", "recover_interrupted"]
