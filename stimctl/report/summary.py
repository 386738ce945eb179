"""What the top of a report says: when, serious adverse events, delivered vs prescribed.

A clinician reads the first screen of a report (issue 16): the session's date and time,
whether it was simulated, a serious adverse event before anything else, and the dose
delivered against the dose prescribed, with every deviation named. Everything here comes
from the journal (the record of truth); nothing is read from the store.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from stimctl.report.model import SessionData

SERIOUS_AE_KINDS = frozenset({"seizure", "syncope"})
SERIOUS_AE_SEVERITIES = frozenset({"serious"})
"""A serious adverse event: a seizure, a syncope, or one marked serious (the same set
that ends a session with status `stopped-adverse-event`, journal events)."""


def when(data: SessionData) -> dict[str, Any]:
    """Start and end as UTC and as the site's local time (when its zone is known)."""
    zone_name = (data.start.get("site") or {}).get("timezone")
    zone: dt.tzinfo | None = None
    if isinstance(zone_name, str):
        try:
            from zoneinfo import ZoneInfo

            zone = ZoneInfo(zone_name)
        except (ValueError, OSError, KeyError):  # an unknown zone: UTC only
            zone = None

    def moment(text: str | None) -> dict[str, str] | None:
        if text is None:
            return None
        try:
            utc = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)
        except ValueError:
            return None
        local = utc.astimezone(zone) if zone is not None else utc
        return {
            "utc": f"{utc:%Y-%m-%d %H:%M:%S} UTC",
            "local": f"{local:%Y-%m-%d %H:%M}" + (f" ({zone_name})" if zone else " UTC"),
        }

    return {"started": moment(data.started_utc), "ended": moment(data.ended_utc)}


def serious_adverse_events(data: SessionData) -> list[dict[str, Any]]:
    found = []
    for event in data.adverse_events:
        kind = str(event.detail.get("kind", ""))
        severity = str(event.detail.get("severity", ""))
        if kind in SERIOUS_AE_KINDS or severity in SERIOUS_AE_SEVERITIES:
            found.append(
                {
                    "t_s": event.t_s,
                    "actor": event.actor,
                    "kind": kind,
                    "severity": severity,
                    "notes": event.detail.get("notes"),
                }
            )
    return found


def _prescribed_intensity(intensity: dict[str, Any]) -> str | None:
    for key, unit in (("percent_rmt", "RMT"), ("percent_amt", "AMT"), ("percent_mso", "MSO")):
        value = intensity.get(key)
        if isinstance(value, int | float):
            return f"{value:g}% {unit}"
    return None


def _span(values: list[float]) -> list[float] | None:
    return [min(values), max(values)] if values else None


def dose(data: SessionData) -> dict[str, Any]:
    """Delivered against prescribed: pulses, trains, % MSO and % RMT, and the deviations."""
    plan = data.start.get("plan") or {}
    outcome = data.end or {}
    intensity = data.protocol.get("intensity") or {}
    delivered_pulses = outcome.get("pulses_delivered")
    if not isinstance(delivered_pulses, int):
        counted = [t.pulses for t in data.trains if t.pulses is not None]
        delivered_pulses = sum(counted) if counted else None
    prescribed_pulses = plan.get("total_pulses", outcome.get("pulses_planned"))
    delivered_trains = outcome.get("trains_delivered", len(data.trains))
    prescribed_trains = plan.get("trains", len(data.planned_trains) or None)
    mso = [t.intensity_percent_mso for t in data.trains if t.intensity_percent_mso is not None]
    rmt = [t.intensity_percent_rmt for t in data.trains if t.intensity_percent_rmt is not None]
    prescribed_mso = plan.get("max_intensity_percent_mso")
    deviations: list[str] = []
    pulses_known = isinstance(delivered_pulses, int) and isinstance(prescribed_pulses, int)
    if pulses_known and delivered_pulses != prescribed_pulses:
        deviations.append(f"{delivered_pulses} of {prescribed_pulses} pulses delivered")
    trains_known = isinstance(delivered_trains, int) and isinstance(prescribed_trains, int)
    if trains_known and delivered_trains != prescribed_trains:
        deviations.append(f"{delivered_trains} of {prescribed_trains} trains delivered")
    if isinstance(prescribed_mso, int | float) and mso and max(mso) > prescribed_mso:
        deviations.append(
            f"intensity reached {max(mso):g}% MSO, above the planned {prescribed_mso:g}% MSO"
        )
    estimated = [t.index + 1 for t in data.trains if t.estimated]
    if estimated:
        deviations.append(f"pulse counts estimated for train(s) {estimated}")
    if data.end is None:
        deviations.append("the journal has no end record: the session did not finish")
    return {
        "pulses": {"delivered": delivered_pulses, "prescribed": prescribed_pulses},
        "trains": {"delivered": delivered_trains, "prescribed": prescribed_trains},
        "prescribed_intensity": _prescribed_intensity(intensity),
        "percent_mso": {"delivered": _span(mso), "prescribed": prescribed_mso},
        "percent_rmt": {"delivered": _span(rmt), "prescribed": intensity.get("percent_rmt")},
        "deviations": deviations,
    }
