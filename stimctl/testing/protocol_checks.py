"""Every shipped protocol gets the verdict `stimctl.testing.expected` says it must."""

from __future__ import annotations

import datetime as dt

from stimctl.errors import StimctlError
from stimctl.testing.expected import EXPECTED_VERDICTS, expected_site, typical_subject
from stimctl.testing.results import CheckResult, failed, passed, skipped

GROUP = "protocols"


def run_protocol_checks(now: dt.datetime | None = None) -> list[CheckResult]:
    """One line per protocol in the installed library (and per expected one missing)."""
    from stimctl.configs import names_in
    from stimctl.protocol import load_protocol
    from stimctl.safety.engine import evaluate

    moment = now or dt.datetime.now(dt.UTC)
    subject = typical_subject(moment.date())
    site = expected_site()
    installed = set(names_in("protocols"))
    results = []
    for name in sorted(installed | set(EXPECTED_VERDICTS)):
        expected = EXPECTED_VERDICTS.get(name)
        if expected is None:
            results.append(skipped(GROUP, name, "not a shipped protocol: no expected verdict"))
            continue
        if name not in installed:
            results.append(failed(GROUP, name, "shipped protocol missing from the library"))
            continue
        try:
            verdict = evaluate(load_protocol(name), subject, now=moment, site=site)
        except StimctlError as exc:
            results.append(failed(GROUP, name, f"does not load: {exc}"))
            continue
        got = verdict.verdict.value
        deciding = "; ".join(f"{f.rule} ({f.source})" for f in verdict.deciding() if got != "allow")
        if got == expected:
            results.append(passed(GROUP, name, f"{got}" + (f" by {deciding}" if deciding else "")))
        else:
            why = f": {deciding}" if deciding else ""
            results.append(failed(GROUP, name, f"verdict {got}, expected {expected}{why}"))
    return results
