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

EXPECTED_VERDICTS: Final[dict[str, str]] = {
    "np-m1-10hz-80": "allow",
    "np-m1-10hz-90": "allow",
    "np-m1-5hz-hosomi": "allow",
    "np-m1-20hz": "allow",
    "np-m1-10hz-hodaj": "override",  # 10 s trains beyond the tested '>5 s' (safety-limits 8.2)
    "np-m1-10hz-attal": "allow",
    "dep-fda-10hz": "allow",
    "dep-fda-10hz-19min": "allow",
    "dep-itbs-three-d": "allow",
    "ctbs-m1": "allow",  # 80% AMT as Huang 2005 gave it (was 80% RMT, a higher dose: 13.2)
    "dep-1hz-rdlpfc": "allow",
    "dep-saint": "allow",  # at a site that allows accelerated schedules
    "dep-h1-deep-tms": "allow",
}


def typical_subject(today: dt.date | None = None) -> Subject:
    """EMG RMT 55 % MSO and AMT 44 % MSO of FDI measured `today` (default: today in UTC)."""
    from stimctl.safety import MotorThreshold, Subject

    day = today or dt.datetime.now(dt.UTC).date()
    return Subject(
        MotorThreshold(TYPICAL_RMT_PERCENT_MSO, "emg", day, muscle="FDI"),
        thresholds=(MotorThreshold(TYPICAL_AMT_PERCENT_MSO, "emg", day, kind="amt", muscle="FDI"),),
    )


def expected_site() -> SiteRules:
    """The site the table assumes: the defaults, with accelerated schedules allowed."""
    from stimctl.safety import SiteRules

    return SiteRules(accelerated_allowed=True)
