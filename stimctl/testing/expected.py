"""The verdict every shipped protocol must get, for one typical subject.

The self-test and the pytest plugin carry this table themselves (they must not depend on
the repository's tests/). The subject is the typical one of safety-limits 6.2: an EMG
resting motor threshold of 55 % MSO measured today (healthy mean about 53 %), at a site
that allows accelerated schedules, so SAINT is judged on its own numbers.

A change to a shipped protocol or safety table that changes one of these verdicts must
change this table in the same commit, with the reason next to the entry.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from stimctl.safety import SiteRules, Subject

TYPICAL_RMT_PERCENT_MSO: Final = 55.0
TYPICAL_AMT_PERCENT_MSO: Final = 44.0
"""An illustrative active threshold of the same hand muscle, 80% of the RMT [P]: AMT is
lower than RMT (safety-limits 13.2); not a limit, only the table's typical subject."""

TYPICAL_AGE_YEARS: Final = 40.0
"""An adult, above every cleared age (AGE-1); illustrative [P]."""

TYPICAL_SCALP_CORTEX_MM: Final = {"M1-hand": 18.0, "L-DLPFC": 20.0}
"""Illustrative scalp-to-cortex distances [P] so SAINT's depth adjustment is exercised:
RMT 55 + 3 x (20 - 18) = 61% MSO (Stokes 2005), 90% of it = 54.9% MSO."""

# Every shipped protocol, its verdict for the typical subject, and why (issue 15).
EXPECTED_VERDICTS: Final[dict[str, str]] = {
    # Bai 2023 layout, 10 Hz 5 s trains at 80-90% RMT: ">5 s" cell; 25 s pauses in the
    # SUBTHRESHOLD interval region [P] (no source found, reasoning in limits.toml)
    "np-m1-10hz-80": "allow",
    "np-m1-10hz-90": "allow",
    # Hosomi 2020 / 2013: 5 Hz 10 s trains at 90% RMT, within the 5 Hz '>10 s' cell
    "np-m1-5hz-hosomi": "allow",
    "np-m1-5hz-hosomi2013": "allow",
    # Quesada 2020 schedule; 2 s trains under the 20 Hz / 90% cell (2.05 s)
    "np-m1-20hz": "allow",
    # Hodaj 2020 dose in 5 s trains: no override for its own session (was: 10 s trains)
    "np-m1-10hz-hodaj": "allow",
    "np-m1-10hz-attal": "allow",
    # the cleared NeuroStar protocols: 4 s at 120% under the 4.2 s cell, NEUROSTAR region
    "dep-fda-10hz": "allow",
    "dep-fda-10hz-19min": "allow",
    # THREE-D: iTBS at 120% RMT, the INT-2 cap; 30 sessions, no taper
    "dep-itbs-three-d": "allow",
    # Huang 2005: cTBS600 at 80% AMT (the typical subject has an AMT)
    "ctbs-m1": "allow",
    "dep-1hz-rdlpfc": "allow",
    # at a site that allows accelerated schedules, with the scalp-to-cortex distances
    "dep-saint": "allow",
    "dep-h1-deep-tms": "allow",
}


REFERENCE_DEVICE: Final = "magstim-rapid2-super-plus-240v"
"""The device of `make demo` and of the self-test's device-specific verdicts (issue 16:
the demo table blocked three TBS protocols on this device while the self-test, judging
without a device and for another subject, listed them as "PASS allow")."""

DEVICE_VERDICTS: Final[dict[str, dict[str, str]]] = {
    REFERENCE_DEVICE: {
        # TBS-5, all three theta-burst protocols: 50 Hz bursts must be triggered pulse by
        # pulse and this Rapid takes single triggers at up to 1 Hz, so they are not
        # deliverable without an external trigger source (device-protocols, TBS on Rapid)
        "dep-itbs-three-d": "block",
        "dep-saint": "block",
        "ctbs-m1": "block",
    },
}
"""Where a verdict on a device differs from EXPECTED_VERDICTS (device rules only)."""


def expected_verdict(name: str, device: str | None = None) -> str | None:
    """The verdict `name` must get for the typical subject, without or on `device`."""
    if device is not None and name in DEVICE_VERDICTS.get(device, {}):
        return DEVICE_VERDICTS[device][name]
    return EXPECTED_VERDICTS.get(name)


def typical_subject(today: dt.date | None = None) -> Subject:
    """EMG RMT 55 % MSO and AMT 44 % MSO of FDI measured `today` (default: today in UTC)."""
    from stimctl.safety import MotorThreshold, Subject

    day = today or dt.datetime.now(dt.UTC).date()
    return Subject(
        MotorThreshold(TYPICAL_RMT_PERCENT_MSO, "emg", day, muscle="FDI"),
        thresholds=(MotorThreshold(TYPICAL_AMT_PERCENT_MSO, "emg", day, kind="amt", muscle="FDI"),),
        scalp_cortex_mm=dict(TYPICAL_SCALP_CORTEX_MM),
        age_years=TYPICAL_AGE_YEARS,
        age_recorded_on=day,
    )


def expected_site() -> SiteRules:
    """The site the table assumes: the defaults, with accelerated schedules allowed."""
    from stimctl.safety import SiteRules

    return SiteRules(accelerated_allowed=True)
