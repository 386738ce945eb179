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
from stimctl.safety.inputs import KIND_NAMES, MotorThreshold, Subject, ThresholdKind
from stimctl.safety.verdict import Finding, Severity

RULE = "MT-NEED"
SOURCE = (
    "safety-limits 13.2: limits say which threshold (RMT or AMT) and muscle they refer to; "
    "% MSO does not transfer between thresholds [V]"
)
_EXAMPLE_MUSCLE = {"hand": "FDI", "leg": "TA"}


@dataclass(frozen=True)
class Dose:
    reference: MotorThreshold | None
    dose_percent_mso: float
    percent_rmt: float | None
    percent_amt: float | None
    used: tuple[MotorThreshold, ...]


def reference_kind(protocol: Protocol) -> ThresholdKind:
    """The threshold the intensity is given in (% MSO is checked against the RMT)."""
    return "amt" if protocol.intensity.percent_amt is not None else "rmt"


def needed(protocol: Protocol, protocol_class: str) -> list[ThresholdKind]:
    kind = reference_kind(protocol)
    if kind == "amt" and not is_theta_burst(protocol_class):
        return ["amt", "rmt"]  # the Wassermann table and the ITI rules are in % RMT
    return [kind]


def missing(subject: Subject, protocol: Protocol, protocol_class: str) -> list[Finding]:
    """A BLOCK finding per threshold the protocol needs and the subject lacks."""
    muscle = protocol.intensity.muscle
    findings = []
    for kind in needed(protocol, protocol_class):
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


def measure_hint(kind: ThresholdKind, muscle: str) -> str:
    where = f"a {muscle} muscle" if muscle in ("hand", "leg") else muscle
    return f"{KIND_NAMES[kind]} of {where}"


def dose(subject: Subject, protocol: Protocol) -> Dose:
    """The dose in % MSO and in % of each threshold on record; call after `missing`."""
    intensity = protocol.intensity
    muscle = intensity.muscle
    rmt = subject.threshold("rmt", muscle)
    amt = subject.threshold("amt", muscle)
    for threshold in (rmt, amt):
        if threshold is not None and not 0 < threshold.percent_mso <= 100:
            raise ValueError(
                f"{threshold.kind.upper()} must be within (0, 100] % MSO, "
                f"got {threshold.percent_mso}"
            )
    if intensity.percent_amt is not None:
        assert amt is not None, "missing() blocks first"
        reference: MotorThreshold | None = amt
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
    return Dose(reference, mso, pct_rmt, pct_amt, used)


def _percent(mso: float, threshold: MotorThreshold | None, given: float | None) -> float | None:
    if given is not None:
        return given  # exactly as prescribed, not a round trip through % MSO
    if threshold is None:
        return None
    return mso / threshold.percent_mso * 100.0
