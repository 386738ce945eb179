"""Which motor thresholds a protocol's dose needs, and the dose in each of them.

A protocol says which threshold its intensity refers to (`percent_rmt`, `percent_amt`;
`percent_mso` is converted with the RMT) and of which muscle or limb (hand by default,
a leg muscle for an H7 protocol). The duration and interval tables are in % RMT, so
every non-TBS protocol also needs an RMT; a TBS protocol in % AMT needs only the AMT
(its RMT-based limits ask for the RMT themselves when the dose comes close to them).
A threshold the subject does not have on record blocks the session, naming what to
measure (issue 15 item 1, safety-limits 13.2). Pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from stimctl.protocol.derived import is_theta_burst
from stimctl.protocol.models import Protocol
from stimctl.safety.inputs import KIND_NAMES, MotorThreshold, Subject, ThresholdKind, limb_of
from stimctl.safety.verdict import Finding, Severity

RULE = "MT-NEED"
SOURCE = (
    "safety-limits 13.2 (Huang 2005 TBS doses are % AMT [R]; AMT is lower than RMT, so "
    "% RMT is a higher dose): a dose is computed only from the threshold its protocol "
    "names, never from another kind or muscle [P]"
)
_EXAMPLE_MUSCLE = {"hand": "FDI", "leg": "TA"}


DEPTH_RULE = "MT-DEPTH"
_M1_OF_LIMB = {"hand": "M1-hand", "leg": "M1-leg"}


@dataclass(frozen=True)
class Dose:
    reference: MotorThreshold | None
    dose_percent_mso: float
    percent_rmt: float | None
    percent_amt: float | None
    used: tuple[MotorThreshold, ...]
    depth: Finding | None = None
    """How a depth-adjusted dose was computed (formula and numbers), for the report."""
    reference_percent_mso: float | None = None
    """The threshold the % is taken of, in % MSO (depth-adjusted where the protocol is)."""


def reference_kind(protocol: Protocol) -> ThresholdKind:
    """The threshold the intensity is given in (% MSO is checked against the RMT)."""
    return "amt" if protocol.intensity.percent_amt is not None else "rmt"


def needed(protocol: Protocol, protocol_class: str) -> list[ThresholdKind]:
    kind = reference_kind(protocol)
    if kind == "amt" and not is_theta_burst(protocol_class):
        return ["amt", "rmt"]  # the Wassermann table and the ITI rules are in % RMT
    return [kind]


def missing(
    subject: Subject, protocol: Protocol, protocol_class: str, gradient: float = 3.0
) -> list[Finding]:
    """A BLOCK finding per threshold the protocol needs and the subject lacks."""
    muscle = protocol.intensity.muscle
    findings = []
    for kind in needed(protocol, protocol_class):
        if protocol.intensity.depth_adjusted and kind == reference_kind(protocol):
            problem = _depth_problem(subject, protocol, kind, gradient)
            if problem is not None:
                findings.append(problem)
            continue
        if subject.threshold(kind, muscle) is not None:
            continue
        findings.append(
            Finding(
                RULE,
                Severity.BLOCK,
                f"this protocol needs the {measure_hint(kind, muscle)}, and none is on record: "
                f"measure it (stimctl rmt hunt SUBJECT --type {kind} --muscle "
                f"{_EXAMPLE_MUSCLE.get(muscle, muscle)} ...)",
                f"{kind}:{muscle}",
                None,
                SOURCE,
            )
        )
    return findings


def _depth_problem(
    subject: Subject, protocol: Protocol, kind: ThresholdKind, gradient: float
) -> Finding | None:
    target = protocol.target.site
    if subject.adjusted_threshold(kind, target) is not None:
        return None
    muscle = protocol.intensity.muscle
    m1 = _M1_OF_LIMB[limb_of(muscle)]
    threshold = subject.threshold(kind, muscle)
    lacking = [site for site in (m1, target) if site not in subject.scalp_cortex_mm]
    if threshold is None or lacking:
        what = [] if threshold is None else [f"scalp-to-cortex distance of {', '.join(lacking)}"]
        if threshold is None:
            what.append(measure_hint(kind, muscle))
        return Finding(
            DEPTH_RULE,
            Severity.BLOCK,
            f"this protocol's {_prescribed(protocol)}% is of the {kind.upper()} adjusted for the "
            f"cortical depth of {target}: record the {' and the '.join(what)} "
            f"(stimctl subject edit SUBJECT --scalp-cortex {m1}=MM --scalp-cortex {target}=MM), "
            f"or an already adjusted threshold",
            f"{kind}:{target}",
            None,
            DEPTH_SOURCE,
        )
    adjusted = _adjusted(threshold.percent_mso, subject, m1, target, gradient)
    if not 0 < adjusted <= 100:
        return Finding(
            DEPTH_RULE,
            Severity.BLOCK,
            f"the depth-adjusted {kind.upper()} is {adjusted:g}% MSO, outside (0, 100]: check the "
            "scalp-to-cortex distances",
            adjusted,
            100.0,
            DEPTH_SOURCE,
        )
    return None


DEPTH_SOURCE = (
    "Stokes et al. 2005, J Neurophysiol 94:4520-4527: adjusted MT = MT + 3% MSO per mm x "
    "(target depth - M1 depth) [V abstract]; SAINT 90% RMT adjusted for cortical depth "
    "(Cole et al. 2020) [V]"
)


def _adjusted(
    threshold_mso: float, subject: Subject, m1: str, target: str, gradient: float
) -> float:
    depth = subject.scalp_cortex_mm
    return threshold_mso + gradient * (depth[target] - depth[m1])


def _prescribed(protocol: Protocol) -> float:
    intensity = protocol.intensity
    value = intensity.percent_amt if intensity.percent_amt is not None else intensity.percent_rmt
    return value if value is not None else float("nan")


def measure_hint(kind: ThresholdKind, muscle: str) -> str:
    where = f"a {muscle} muscle" if muscle in ("hand", "leg") else muscle
    return f"{KIND_NAMES[kind]} of {where}"


def dose(subject: Subject, protocol: Protocol, gradient: float = 3.0) -> Dose:
    """The dose in % MSO and in % of each threshold on record; call after `missing`.

    A depth-adjusted protocol's % refers to the adjusted threshold: the caps are checked
    on that % (the trial's own convention), the device gets the adjusted dose in % MSO.
    """
    intensity = protocol.intensity
    muscle = intensity.muscle
    rmt = subject.threshold("rmt", muscle)
    amt = subject.threshold("amt", muscle)
    if intensity.depth_adjusted:
        return _depth_dose(subject, protocol, rmt, amt, gradient)
    for threshold in (rmt, amt):
        if threshold is not None and not 0 < threshold.percent_mso <= 100:
            raise ValueError(
                f"{threshold.kind.upper()} must be within (0, 100] % MSO, "
                f"got {threshold.percent_mso}"
            )
    if intensity.percent_amt is not None:
        assert amt is not None, "missing() blocks first"
        reference: MotorThreshold = amt
        mso = intensity.percent_amt * amt.percent_mso / 100.0
    else:
        assert rmt is not None, "missing() blocks first"
        reference = rmt
        if intensity.percent_rmt is not None:
            mso = intensity.percent_rmt * rmt.percent_mso / 100.0
        else:
            assert intensity.percent_mso is not None
            mso = intensity.percent_mso
    pct_rmt = _percent(mso, rmt, intensity.percent_rmt)
    pct_amt = _percent(mso, amt, intensity.percent_amt)
    used = tuple(t for t in (reference, rmt if reference is not rmt else None) if t is not None)
    return Dose(reference, mso, pct_rmt, pct_amt, used, None, reference.percent_mso)


def _percent(mso: float, threshold: MotorThreshold | None, given: float | None) -> float | None:
    if given is not None:
        return given  # exactly as prescribed, not a round trip through % MSO
    if threshold is None:
        return None
    return mso / threshold.percent_mso * 100.0


def _depth_dose(
    subject: Subject,
    protocol: Protocol,
    rmt: MotorThreshold | None,
    amt: MotorThreshold | None,
    gradient: float,
) -> Dose:
    kind = reference_kind(protocol)
    target = protocol.target.site
    pct = _prescribed(protocol)
    ready = subject.adjusted_threshold(kind, target)
    plain = rmt if kind == "rmt" else amt
    if ready is not None:
        adjusted = ready.percent_mso
        how = f"{kind.upper()} adjusted for {target} on record: {adjusted:g}% MSO"
        reference = ready
    else:
        assert plain is not None, "missing() blocks first"
        m1 = _M1_OF_LIMB[limb_of(protocol.intensity.muscle)]
        depth = subject.scalp_cortex_mm
        adjusted = _adjusted(plain.percent_mso, subject, m1, target, gradient)
        how = (
            f"{kind.upper()} {plain.percent_mso:g}% MSO adjusted for depth: "
            f"{plain.percent_mso:g} + {gradient:g} x ({depth[target]:g} mm {target} - "
            f"{depth[m1]:g} mm {m1}) = {adjusted:.4g}% MSO"
        )
        reference = plain
    mso = pct * adjusted / 100.0
    unadjusted = "" if plain is None else f" (= {mso / plain.percent_mso * 100:.4g}% of the "
    unadjusted += "" if plain is None else f"unadjusted {kind.upper()})"
    finding = Finding(
        DEPTH_RULE,
        Severity.ALLOW,
        f"{how}; dose {pct:g}% of it = {mso:.4g}% MSO{unadjusted}",
        mso,
        None,
        DEPTH_SOURCE,
    )
    pct_rmt = pct if kind == "rmt" else _percent(mso, rmt, None)
    pct_amt = pct if kind == "amt" else _percent(mso, amt, None)
    used = tuple(t for t in (reference, rmt if kind == "amt" else None) if t is not None)
    return Dose(reference, mso, pct_rmt, pct_amt, used, finding, adjusted)
