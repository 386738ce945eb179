"""`check_protocol`: the safety verdict of a protocol, as `stimctl check` gives it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from stimctl.protocol import Protocol
    from stimctl.safety import SiteRules, Verdict


def check_protocol(
    protocol: str | Path | Protocol,
    *,
    rmt: float = 55.0,
    rmt_method: Literal["emg", "visual"] = "emg",
    amt: float | None = None,
    device: str | None = None,
    site: SiteRules | None = None,
    now: dt.datetime | None = None,
) -> Verdict:
    """Evaluate `protocol` (shipped name, path or model) for a subject with `rmt` % MSO
    (and `amt` % MSO, the active threshold of the same hand muscle, when given).

    The threshold is taken as measured today; `device` is a device profile name (None:
    device-independent rules only); `site` defaults to the shipped site defaults.
    """
    from stimctl.device_profiles import load_profile
    from stimctl.protocol import Protocol, load_protocol
    from stimctl.safety import MotorThreshold, SiteRules, Subject
    from stimctl.safety.engine import evaluate

    moment = now or dt.datetime.now(dt.UTC)
    loaded = protocol if isinstance(protocol, Protocol) else load_protocol(str(protocol))
    extra = () if amt is None else (MotorThreshold(amt, rmt_method, moment.date(), kind="amt"),)
    subject = Subject(MotorThreshold(rmt, rmt_method, moment.date()), thresholds=extra)
    return evaluate(
        loaded,
        subject,
        now=moment,
        device=load_profile(device) if device else None,
        site=site or SiteRules(),
    )
