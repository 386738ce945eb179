"""Assertions on verdicts and on what a session delivered, with messages a lab can act on.

Every failure names the rule and its published source when a verdict is involved, and
the offending pulse or journal record when a session is: "this protocol is blocked by
rule ITI-1 (source: ...)", "a pulse above 60% MSO was delivered: ...", "the session did
not end disarmed: ...".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stimctl.safety import Finding, Verdict
    from stimctl.testing.sessions import SessionResult
    from stimctl.testing.target import Connection


def describe(finding: Finding) -> str:
    """`RULE (severity): message [value ..., limit ...] (source: ...)`."""
    numbers = ""
    if finding.value is not None or finding.limit is not None:
        numbers = f" [value {finding.value}, limit {finding.limit}]"
    return (
        f"{finding.rule} ({finding.severity.value}): {finding.message}{numbers} "
        f"(source: {finding.source})"
    )


def _deciding(verdict: Verdict) -> str:
    return "\n".join(f"  - {describe(f)}" for f in verdict.deciding())


def _name(verdict: Verdict) -> str:
    name = verdict.derived.get("name")
    return f"protocol {name!r}" if name else "this protocol"


def assert_verdict(verdict: Verdict, expected: str) -> None:
    """The verdict is `expected` (allow, override or block)."""
    __tracebackhide__ = True
    got = verdict.verdict.value
    if got == expected:
        return
    if got == "allow":
        raise AssertionError(f"{_name(verdict)} is allowed, expected {expected}")
    what = "is blocked" if got == "block" else "needs an override"
    by = "by rule" if len(verdict.deciding()) == 1 else "by rules"
    rules = ", ".join(f.rule for f in verdict.deciding())
    raise AssertionError(
        f"{_name(verdict)} {what} {by} {rules}, expected {expected}:\n{_deciding(verdict)}"
    )


def assert_allowed(verdict: Verdict) -> None:
    __tracebackhide__ = True
    assert_verdict(verdict, "allow")


def assert_needs_override(verdict: Verdict, rule: str | None = None) -> None:
    __tracebackhide__ = True
    assert_verdict(verdict, "override")
    _assert_decided_by(verdict, rule)


def assert_blocked(verdict: Verdict, rule: str | None = None) -> None:
    """The verdict is block, and (if given) `rule` is among the blocking findings."""
    __tracebackhide__ = True
    assert_verdict(verdict, "block")
    _assert_decided_by(verdict, rule)


def _assert_decided_by(verdict: Verdict, rule: str | None) -> None:
    __tracebackhide__ = True
    if rule is None or any(f.rule == rule for f in verdict.deciding()):
        return
    other = [f for f in verdict.findings if f.rule == rule]
    note = f" (rule {rule} reported {other[0].severity.value})" if other else ""
    raise AssertionError(
        f"{_name(verdict)} is {verdict.verdict.value} but not by rule {rule}{note}; "
        f"deciding:\n{_deciding(verdict)}"
    )


def assert_no_pulse_above(result: SessionResult, percent_mso: float) -> None:
    """No pulse the simulator delivered, and no train the journal records, exceeds it."""
    __tracebackhide__ = True
    for number, pulse in enumerate(result.pulses):
        if pulse.intensity > percent_mso:
            raise AssertionError(
                f"a pulse above {percent_mso:g}% MSO was delivered: pulse {number} at "
                f"t={pulse.time:.3f} s, {pulse.intensity}% MSO on output {pulse.channel} "
                f"(simulator log, session {result.summary.session_id})"
            )
    for record in result.events("train_start"):
        payload: dict[str, Any] = record["payload"]
        if payload.get("intensity_percent_mso", 0) > percent_mso:
            raise AssertionError(
                f"the journal records train {payload.get('train')} at "
                f"{payload['intensity_percent_mso']}% MSO, above {percent_mso:g}% MSO "
                f"(seq {record['seq']})"
            )


def assert_ended_disarmed(result: SessionResult) -> None:
    """The journal's closing record says disarmed, and the simulator agrees."""
    __tracebackhide__ = True
    end = result.session_end
    problems = []
    if end is None:
        problems.append("the journal has no session_end record")
    elif end.get("disarmed") is not True:
        error = end.get("disarm_error")
        problems.append(
            "the journal's session_end says disarmed="
            f"{end.get('disarmed')}" + (f" ({error})" if error else "")
        )
    if result.device_armed_at_end:
        problems.append("the simulator is still armed")
    if problems:
        raise AssertionError(
            f"the session did not end disarmed ({result.summary.status}): " + "; ".join(problems)
        )


def assert_pulses_delivered(result: SessionResult, count: int) -> None:
    """Exactly `count` pulses: in the summary, in the journal and in the simulator's log."""
    __tracebackhide__ = True
    journal = sum(int(r["payload"].get("pulses", 0)) for r in result.events("train_end"))
    seen = {
        "summary": result.summary.pulses_delivered,
        "journal": journal,
        # every pulse on every output: an unplanned output-B pulse is a pulse (issue 12)
        "simulator": len(result.pulses),
    }
    if any(value != count for value in seen.values()):
        counts = ", ".join(f"{k} {v}" for k, v in seen.items())
        raise AssertionError(f"expected {count} pulses delivered, got {counts}")


def assert_journal_intact(result: SessionResult) -> None:
    """The journal file verifies now (its hash chain, sequence and records)."""
    __tracebackhide__ = True
    from stimctl.journal import verify

    check = verify(result.journal_path)
    if not check.ok:
        raise AssertionError(
            f"journal {result.journal_path} fails verification at line "
            f"{check.first_bad_line}: {check.reason}"
        )


def assert_device_check(connection: Connection, name: str) -> None:
    """One conformance check of `device_checks.DEVICE_CHECKS`, by name, on `connection`.

    A check that does not apply here (a model without a keep-alive, a simulator-only
    check on hardware) skips the test with the reason.
    """
    __tracebackhide__ = True
    import pytest

    from stimctl.testing.device_checks import DEVICE_CHECKS, CheckFailed, CheckSkipped

    checks = dict(DEVICE_CHECKS)
    if name not in checks:
        raise KeyError(f"no device check {name!r} (checks: {', '.join(checks)})")
    try:
        checks[name](connection)
    except CheckSkipped as exc:
        pytest.skip(str(exc))
    except CheckFailed as exc:
        raise AssertionError(f"{connection.target.label}: {name}: {exc}") from None
