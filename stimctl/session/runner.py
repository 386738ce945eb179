"""Put a session together: check, plan, connect, journal, run.

`prepare` does everything that can refuse a session before a byte goes to the device:
load the protocol and device profile, evaluate the safety verdict, require an override
(operator and reason) when the verdict asks for one, and compile and check the plan.
`open_session` then connects the driver, creates the journal, and returns an engine ready
to start; it only recompiles (the same checked protocol) if the connected unit times
trains differently from its profile.
"""

from __future__ import annotations

import datetime as dt
import platform
import re
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from stimctl import __version__
from stimctl.clock import Clock
from stimctl.config_state import ConfigFile, used_configs
from stimctl.configs import file_digest, resolve
from stimctl.device_profiles import DeviceProfile, load_profile
from stimctl.driver_gate import site_allowed_drivers
from stimctl.errors import ConfigError, OverrideRequired, SafetyViolation
from stimctl.hal import Stimulator, Transport, make_trigger, open_trigger
from stimctl.hal._registry import driver_origin, load_allowed_driver
from stimctl.journal import Journal, journals_dir
from stimctl.journal.events import operator_actor
from stimctl.journal.writer import JournalListener
from stimctl.protocol import Protocol, load_protocol
from stimctl.protocol.derived import derive
from stimctl.protocol.dose import to_device
from stimctl.protocol.models import Intensity
from stimctl.records.site_approvals import SiteApproval
from stimctl.safety import History, MotorThreshold, SiteRules, Subject, thresholds
from stimctl.safety.engine import evaluate
from stimctl.safety.monitoring import Monitoring, outside_tables
from stimctl.safety.tables import limits, table_digests
from stimctl.safety.verdict import Severity, Verdict
from stimctl.session.device_truth import check_device
from stimctl.session.engine import SessionEngine
from stimctl.session.guard import RuntimeGuard
from stimctl.session.plan import Plan, PlanCompiler, check_plan, compile_plan
from stimctl.session.watchdog import WatchdogLimits
from stimctl.tomlfile import describe_validation_error

if TYPE_CHECKING:
    from stimctl.identity.signatures import Signature
    from stimctl.journal.signing import Signer


@dataclass(frozen=True)
class Override:
    """Who accepts an override verdict and why; `signature` once they signed it with a
    fresh credential (`stimctl.identity.override_signing.sign_override`), linked to the
    override record `override_id`. `open_session` refuses an unsigned one."""

    operator: str
    reason: str
    override_id: str = ""
    signature: Signature | None = None


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
    plan: Plan
    """Compiled and checked in `prepare`, before any device is opened (issue 12 item 10)."""
    operator_identity: dict[str, Any] | None = None
    """Who runs the session and how they were authenticated (journaled at the start)."""
    simulated: bool = False
    """A dry run on the built-in simulator: journaled and recorded as simulated."""
    study_id: str | None = None
    """The study of a research session (`--study`)."""
    requested_override: Override | None = None
    """The override the operator offered, kept for the re-check at the session start
    (`stimctl.session.records_link`): history may have changed since `prepare`."""
    configs: tuple[ConfigFile, ...] = ()
    """Every config file used, each compared with the shipped digests (issue 13 item 5)."""
    approvals: tuple[SiteApproval, ...] = ()
    """Engineer approvals of modified safety tables / site files (config_approval)."""
    monitoring: Monitoring | None = None
    """Who monitors and how, for a research session outside the tables (issue 15)."""
    trigger: str | None = None
    """The trigger line URL pulses leave through (issue 18); None: serial fire commands."""

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
    compiler: PlanCompiler | None = None,
    trigger: str | None = None,
) -> Prepared:
    """Check a session; raises SafetyViolation on `block` or a missing override, and
    OverrideRequired for a research session outside the tables without `monitoring`.
    `compiler` is the plan compiler (a seam: tests inject a wrong one and see it refused).
    `trigger`: a trigger line URL (checked here, opened by `open_session`); the verdict
    then knows pulses leave through the unit's Trigger In (issue 18)."""
    if trigger is not None:
        make_trigger(trigger)  # a bad URL or a missing scheme refuses before anything else
    path = resolve("protocols", protocol_name)
    protocol = load_protocol(str(path))
    device = load_profile(device_name)
    configs = used_configs(
        path,
        resolve("devices", device_name),
        device.rapid.energy_table if device.rapid is not None else None,
        site.file,
    )
    moment = now or dt.datetime.now(dt.UTC)
    gradient = limits().intensity.depth_gradient_percent_mso_per_mm.value
    # The plan is compiled first and the verdict judges it (issue 14 item 1): what the
    # engine will send is what the safety engine checked. Without the threshold the dose
    # refers to there is no plan; the verdict then blocks (MT-NEED) on its own.
    derived_class = derive(protocol).protocol_class
    plan: Plan | None = None
    if not thresholds.missing(subject, protocol, derived_class, gradient):
        reference = thresholds.dose(subject, protocol, gradient).reference_percent_mso
        assert reference is not None
        compile_ = compiler or compile_plan
        plan = compile_(protocol, reference, device_timed_trains=device.device_timed_trains)
    verdict = evaluate(
        protocol,
        subject,
        now=moment,
        device=device,
        site=site,
        history=history,
        require_screening=require_screening,
        plan=plan,
        external_trigger=trigger is not None,
    )
    accepted = decide(verdict, override)
    outside = outside_tables(verdict, site)
    if outside and monitoring is None:
        rules = ", ".join(sorted({f.rule for f in outside}))
        raise OverrideRequired(
            f"a research session outside the tables ({rules}) needs a monitoring record: "
            "give --monitor-operator ID and --monitor-method emg|eeg (Rossi 2021)",
            rule="MON-1",
        )
    assert plan is not None  # the verdict blocked a missing threshold (MT-NEED)
    check_plan(plan, device.max_output_percent_mso)
    return Prepared(
        protocol,
        path,
        device,
        subject,
        site,
        verdict,
        accepted,
        moment,
        plan,
        configs=configs,
        requested_override=override,
        monitoring=monitoring if outside else None,
        trigger=trigger,
    )


def decide(verdict: Verdict, override: Override | None) -> Override | None:
    """Act on a verdict: raise `SafetyViolation` on `block`, `OverrideRequired` on
    `override` without an acceptable override; return the override that is accepted
    (None when the verdict allows without one).

    The one place an override is accepted (sessions and `course start`): the identity
    work (issue 13) hardens it here (a physician's signature, a reason with words).
    """
    deciding = "; ".join(f"{f.rule}: {f.message}" for f in verdict.deciding())
    if verdict.verdict is Severity.BLOCK:
        first = verdict.deciding()[0]
        raise SafetyViolation(f"blocked: {deciding}", rule=first.rule, source=first.source)
    if verdict.verdict is Severity.OVERRIDE:
        if override is None or not override.operator or not override.reason:
            raise OverrideRequired(
                f"override required (give --override-operator and --override-reason): {deciding}",
                rule=verdict.deciding()[0].rule,
            )
        from stimctl.identity.text import check_operator_id, check_reason

        # An override signer is a person (not `engine`) and a reason is words (not ".").
        check_operator_id(override.operator)
        return replace(override, reason=check_reason(override.reason, "override reason"))
    return None


def _checked_plan(
    protocol: Protocol, reference_percent_mso: float, device: DeviceProfile, device_timed: bool
) -> Plan:
    """The plan compiled on the threshold the dose refers to, and checked (issue 12 item 10)."""
    plan = compile_plan(protocol, reference_percent_mso, device_timed_trains=device_timed)
    return check_plan(plan, device.max_output_percent_mso)


def revalidator(prepared: Prepared) -> Any:
    """The engine's check for a mid-session intensity change: the same safety engine."""

    field = "percent_amt" if prepared.protocol.intensity.percent_amt is not None else "percent_rmt"

    def check(percent_rmt: float) -> tuple[bool, str, int]:
        # Validated, not model_copy'd: a typed 1e-300 % RMT meets the same ranges as a file.
        try:
            intensity = Intensity.model_validate(
                {
                    **prepared.protocol.intensity.model_dump(),
                    field: percent_rmt,
                    "percent_mso": None,
                    "ramp_start_percent_rmt": None,
                    "ramp_trains": None,
                    "ramp_sessions": None,
                }
            )
        except ValidationError as exc:
            return False, describe_validation_error("intensity", exc), 0
        changed = prepared.protocol.model_copy(update={"intensity": intensity})
        verdict = evaluate(
            changed,
            prepared.subject,
            now=prepared.now,
            device=prepared.device,
            site=prepared.site,
            external_trigger=prepared.trigger is not None,
        )
        dose = to_device(percent_rmt, prepared.reference_percent_mso).set_percent_mso
        if verdict.verdict is Severity.BLOCK:
            why = "; ".join(f"{f.rule}: {f.message}" for f in verdict.deciding())
            return False, why, dose
        if verdict.verdict is Severity.OVERRIDE and prepared.override is None:
            why = "; ".join(f"{f.rule}: {f.message}" for f in verdict.deciding())
            return False, f"would need an override: {why}", dose
        return True, "", dose

    return check


def recover_interrupted(directory: Path | None = None, *, clock: Clock) -> list[str]:
    """Close journals left open by a crash; one line per journal (the store and the
    signatures are asked first: a journal cut after its session ended is not recovered)."""
    from stimctl.records.journal_check import recover_journals

    return recover_journals(clock, directory)


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
    journal_listeners: tuple[JournalListener, ...] = (),
    trigger: str | None = None,
) -> SessionEngine:
    """Connect the driver, compile the plan, create the journal; the engine is not started.

    `journal_listeners` see every journal record once it is on disk (LSL markers, issue 18).
    `trigger` (default: the one `prepare` checked) is opened on `clock` and attached to
    the driver, so every pulse leaves through it (issue 18)."""
    if trigger is not None and prepared.trigger not in (None, trigger):
        raise ConfigError(f"trigger {trigger!r} is not the {prepared.trigger!r} the check judged")
    trigger = trigger or prepared.trigger
    from stimctl.identity.override_signing import require_signed_override

    # An override verdict runs only with its physician's signature on record, however the
    # session was prepared (the API as the CLI; exit 10 before the driver is loaded).
    require_signed_override(prepared)
    device = prepared.device
    signer = journal_signer(prepared.site.mode, port_url)
    if driver is None:
        driver_cls, origin = load_allowed_driver(device.driver, site_allowed_drivers(prepared.site))
        options: dict[str, Any] = {**device.driver_options, **(driver_options or {})}
        if transport is not None:
            options["transport"] = transport
        try:
            driver = driver_cls(port_url, clock=clock, **options)
        except TypeError as exc:  # an option this driver does not take
            raise ConfigError(f"driver {device.driver}: {exc}") from None
    else:
        origin = driver_origin(device.driver, type(driver))
    # A hardware line is opened before the device (a missing line never touches it); a
    # simulated one after, as its far end appears with the simulated device.
    line = open_trigger(trigger, clock=clock) if trigger and trigger[:6] != "sim://" else None
    try:
        driver.open()
    except BaseException:
        if line is not None:
            line.close()
        raise
    try:
        if trigger is not None:  # closed with the driver from now on
            driver.attach_trigger(line or open_trigger(trigger, clock=clock))
        identity = driver.identify()
        caps = driver.capabilities()
        check_device(device, identity, caps)  # one source of device truth (issue 14)
        plan = prepared.plan
        if caps.device_timed_trains != device.device_timed_trains:
            plan = _checked_plan(
                prepared.protocol, prepared.reference_percent_mso, device, caps.device_timed_trains
            )
        device_limits = limits().device
        guard = RuntimeGuard.for_verdict(
            prepared.verdict,
            coil_stop_c=min(
                device.coil_temperature_limit_c, device_limits.coil_temperature_stop_c.value
            ),
            coil_warn_c=device_limits.coil_temperature_warn_c.value,
        )
        guard.check_plan(plan)  # a recompiled (or swapped) plan still within the verdict
        directory = journal_dir or journals_dir()
        directory.mkdir(parents=True, exist_ok=True)
        sid = session_id or new_session_id(prepared.now)
        journal = Journal.create(
            directory, sid, clock=clock, signer=signer, listeners=journal_listeners
        )
    except BaseException:
        driver.close()
        raise
    watchdog = WatchdogLimits(
        heartbeat_timeout_s=device_limits.heartbeat_timeout_s.value,
        coil_stop_c=guard.limits.coil_stop_c,
        coil_warn_c=guard.limits.coil_warn_c,
    )
    start = session_start_payload(prepared, plan, identity.__dict__, port_url, operator)
    start["device"]["driver"] = origin.as_dict()
    start["device"]["trigger"] = trigger  # None: fired over serial
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


def journal_signer(mode: str, port_url: str) -> Signer | None:
    """The key that signs the journal: required for a clinical session on a stimulator
    (fail closed before the device is touched), optional on the built-in simulator and
    in research mode (unsigned journals verify as "unsigned"); used whenever it exists.
    A key file with loose permissions is refused in every mode."""
    from stimctl.keys.files import load_active_signer

    signer = load_active_signer()
    on_simulator = port_url.startswith("stimsim://")
    if signer is None and mode == "clinical" and not on_simulator:
        raise ConfigError(
            "clinical mode needs a journal signing key: run `stimctl keys init`"
            " (see docs/journal-signing.md)"
        )
    return signer


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
        "simulated": prepared.simulated,
        # Every config file used and whether it is the shipped one; the approvals of the
        # modified ones (issue 13 item 5).
        "configs": [c.as_dict() for c in prepared.configs],
        "locally_modified": [c.name for c in prepared.configs if c.locally_modified],
        "config_approvals": [a.as_dict() for a in prepared.approvals],
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
    if prepared.operator_identity is not None:
        payload["operator_identity"] = prepared.operator_identity
    if prepared.study_id is not None:
        payload["study_id"] = prepared.study_id
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
        if prepared.override.override_id:
            payload["override"]["override_id"] = prepared.override.override_id
        if prepared.override.signature is not None:
            payload["override"]["signature"] = prepared.override.signature.as_dict()
    return payload


def redact_secrets(url: str) -> str:
    """A port URL for the record: a Rapid's unlock code is the unit's secret."""
    return re.sub(r"(unlock_code=)[^&]*", r"\1***", url)


def with_mode(site: SiteRules, mode: str | None) -> SiteRules:
    return site if mode is None else replace(site, mode=mode)  # type: ignore[arg-type]


__all__ = ["Override", "Prepared", "decide", "open_session", "prepare", "recover_interrupted"]
