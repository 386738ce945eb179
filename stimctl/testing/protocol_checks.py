"""Every shipped protocol gets the verdict `stimctl.testing.expected` says it must:
without a device (the protocol rules) and on the reference device, the device of
`make demo` (the device rules too), so the self-test and the demo table agree."""

from __future__ import annotations

import datetime as dt

from stimctl.errors import StimctlError
from stimctl.testing.expected import (
    EXPECTED_VERDICTS,
    REFERENCE_DEVICE,
    expected_site,
    expected_verdict,
    typical_subject,
)
from stimctl.testing.results import CheckResult, failed, passed, skipped

GROUP = "protocols"


def run_protocol_checks(now: dt.datetime | None = None) -> list[CheckResult]:
    """One line per protocol in the installed library (and per expected one missing),
    then one per protocol on the reference device."""
    from stimctl.configs import names_in
    from stimctl.device_profiles import load_profile
    from stimctl.protocol import load_protocol
    from stimctl.safety.engine import evaluate

    moment = now or dt.datetime.now(dt.UTC)
    subject = typical_subject(moment.date())
    site = expected_site()
    installed = set(names_in("protocols"))
    profile = load_profile(REFERENCE_DEVICE)
    results = []
    for device in (None, REFERENCE_DEVICE):
        for name in sorted(installed | set(EXPECTED_VERDICTS)):
            label = name if device is None else f"{name} on {device}"
            expected = expected_verdict(name, device)
            if expected is None:
                results.append(skipped(GROUP, label, "not a shipped protocol: no expected verdict"))
                continue
            if name not in installed:
                if device is None:
                    results.append(failed(GROUP, name, "shipped protocol missing from the library"))
                continue
            try:
                verdict = evaluate(
                    load_protocol(name),
                    subject,
                    now=moment,
                    site=site,
                    device=profile if device else None,
                )
            except StimctlError as exc:
                results.append(failed(GROUP, label, f"does not load: {exc}"))
                continue
            got = verdict.verdict.value
            deciding = "; ".join(
                f"{f.rule} ({f.source})" for f in verdict.deciding() if got != "allow"
            )
            if got == expected:
                detail = f"{got}" + (f" by {deciding}" if deciding else "")
                results.append(passed(GROUP, label, detail))
            else:
                why = f": {deciding}" if deciding else ""
                results.append(failed(GROUP, label, f"verdict {got}, expected {expected}{why}"))
    return results
