"""FHIR R4 export of a subject's treatment record (issue 17 item 5).

A ``collection`` Bundle, validated with the ``fhir.resources`` R4B models (R4B, not the
package's default R5: hospital systems mostly run R4, and R4B reads as R4 for these
resources). Every resource has a ``urn:uuid:`` fullUrl derived from the stimctl record it
comes from (uuid5), so two exports of the same records give the same ids and every
reference resolves inside the bundle:

- Patient: the pseudonym only (an identifier, ``meta.security`` PSEUDED); no name, no
  birth date;
- ServiceRequest per course (the prescription: protocol, planned sessions, prescriber;
  each course change with its reason as a note);
- Procedure per delivered or attempted session: status, performed period, CPT code
  (90867 the course's first session, 90869 a session dosed from a new threshold, 90868
  every other; ecosystem.md 10.3), stimulator and coil (``usedReference``), operator
  (``performer``), dose as extensions and as a readable note;
- Observation per motor threshold (kind, muscle, method, criterion, algorithm) and per
  outcome score (category survey, the scale's range and source);
- Device per stimulator and coil named in the records; Practitioner per operator;
- AdverseEvent per adverse event, linked to its session's Procedure.

Simulated sessions (dry runs on the simulator) are left out: nothing was delivered to
the patient, and a Procedure in a hospital record says something was. The export reports
how many it left out.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from stimctl import __version__
from stimctl.records.adverse import list_adverse_events
from stimctl.records.clinical import list_thresholds
from stimctl.records.course_changes import CourseChange, changes_of
from stimctl.records.courses import list_courses
from stimctl.records.models import (
    AdverseEventRecord,
    CourseRecord,
    SessionRecord,
    ThresholdRecord,
)
from stimctl.records.outcomes import OutcomeRecord, list_outcomes
from stimctl.records.scales import SCALES
from stimctl.records.store import Store
from stimctl.records.subjects import get_subject
from stimctl.records.trains import SessionTrains, course_trains
from stimctl.records.values import now_utc

CPT = "http://www.ama-assn.org/go/cpt"
CPT_INITIAL = ("90867", "TMS treatment; initial, including motor threshold determination")
CPT_SUBSEQUENT = ("90868", "TMS treatment; subsequent delivery and management, per session")
CPT_REDETERMINATION = ("90869", "TMS treatment; subsequent motor threshold re-determination")
UCUM = "http://unitsofmeasure.org"
EXT = "urn:stimctl:fhir:extension:"
"""Base of stimctl's extension URLs (no TMS implementation guide exists: ecosystem 10.3)."""
CODES = "urn:stimctl:fhir:code"
SUBJECT_IDS = "urn:stimctl:subject"
_NAMESPACE = uuid.UUID("6b0f7c52-3a57-4f3e-9d7e-2d0b8f6c1e17")


@dataclass
class FhirExport:
    bundle: dict[str, Any]
    procedures: int = 0
    simulated_left_out: list[str] = field(default_factory=list)

    def text(self) -> str:
        return json.dumps(self.bundle, indent=2, ensure_ascii=False) + "\n"


def _url(kind: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{key}')}"


def _ref(url: str, display: str | None = None) -> dict[str, Any]:
    return {"reference": url} if display is None else {"reference": url, "display": display}


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _text(text: str) -> dict[str, Any]:
    return {"text": text}


class _Builder:
    def __init__(self, subject_id: str) -> None:
        self.subject_id = subject_id
        self.entries: dict[str, dict[str, Any]] = {}
        self.patient = _url("subject", subject_id)

    def add(self, url: str, resource: dict[str, Any]) -> str:
        if url not in self.entries:
            resource["id"] = url.removeprefix("urn:uuid:")
            self.entries[url] = {"fullUrl": url, "resource": resource}
        return url

    def device(self, name: str | None, kind: str) -> str | None:
        if not name:
            return None
        label = "Transcranial magnetic stimulator" if kind == "stimulator" else "TMS coil"
        return self.add(
            _url(f"device-{kind}", name),
            {
                "resourceType": "Device",
                "identifier": [{"system": f"urn:stimctl:{kind}", "value": name}],
                "deviceName": [{"name": name, "type": "user-friendly-name"}],
                "type": _text(label),
                "patient": _ref(self.patient),
            },
        )

    def practitioner(self, operator_id: str | None, names: dict[str, str | None]) -> str | None:
        if not operator_id:
            return None
        resource: dict[str, Any] = {
            "resourceType": "Practitioner",
            "identifier": [{"system": "urn:stimctl:operator", "value": operator_id}],
        }
        if names.get(operator_id):
            resource["name"] = [{"text": names[operator_id]}]
        return self.add(_url("operator", operator_id), resource)


def fhir_bundle(
    store: Store, subject_id: str, *, generated: dt.datetime | None = None
) -> FhirExport:
    """The subject's record as a FHIR R4 Bundle (a JSON-ready dict, validated)."""
    get_subject(store, subject_id)  # an unknown subject is a ConfigError
    build = _Builder(subject_id)
    build.add(
        build.patient,
        {
            "resourceType": "Patient",
            "meta": {
                "security": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                        "code": "PSEUDED",
                        "display": "pseudonymized",
                    }
                ]
            },
            "identifier": [{"system": SUBJECT_IDS, "value": subject_id}],
        },
    )
    names = _operator_names(store)
    thresholds = {t.id: _threshold(build, t) for t in list_thresholds(store, subject_id)}
    changes = changes_of(store, subject_id)
    courses = {
        c.id: _course(build, c, _prescriber(store, c), names, changes)
        for c in list_courses(store, subject_id)
    }
    for outcome in list_outcomes(store, subject_id):
        _outcome(build, outcome)
    export = FhirExport(bundle={})
    procedures: dict[str, str] = {}
    for group in _by_course(course_trains(store, subject_id)):
        previous_threshold: str | None = None
        for position, item in enumerate(group):
            session = item.session
            code = _cpt(position, session.threshold_id, previous_threshold)
            previous_threshold = session.threshold_id
            procedures[session.id] = _procedure(build, item, code, courses, thresholds, names)
    export.simulated_left_out = _simulated(store, subject_id)
    export.procedures = len(procedures)
    for event in list_adverse_events(store, subject_id):
        _adverse_event(build, event, procedures, names)
    moment = generated or now_utc()
    bundle = {
        "resourceType": "Bundle",
        # one id per export (the resources inside keep theirs from export to export)
        "identifier": {
            "system": "urn:stimctl:export",
            "value": _url("export", f"{subject_id}/{_instant(moment)}"),
        },
        "type": "collection",
        "timestamp": _instant(moment),
        "meta": {
            "tag": [{"system": CODES, "code": "stimctl", "display": f"stimctl {__version__}"}]
        },
        "entry": list(build.entries.values()),
    }
    export.bundle = validated(bundle)
    return export


def validated(bundle: dict[str, Any]) -> dict[str, Any]:
    """`bundle` parsed with the R4B models and dumped back (what a FHIR server reads)."""
    from fhir.resources.R4B.bundle import Bundle

    parsed = Bundle.model_validate(bundle)
    dumped: dict[str, Any] = json.loads(parsed.model_dump_json(exclude_none=True))
    return dumped


def _by_course(sessions: list[SessionTrains]) -> list[list[SessionTrains]]:
    """Real (not simulated) sessions grouped by course, in start order; sessions outside
    a course form one group of their own."""
    groups: dict[str | None, list[SessionTrains]] = {}
    for item in sorted(sessions, key=lambda s: s.session.started_at):
        if not item.session.simulated:
            groups.setdefault(item.session.course_id, []).append(item)
    return list(groups.values())


def _simulated(store: Store, subject_id: str) -> list[str]:
    from stimctl.records.sessions import list_sessions

    return [s.id for s in list_sessions(store, subject_id) if s.simulated]


def _cpt(position: int, threshold_id: str | None, previous: str | None) -> tuple[str, str]:
    if position == 0:
        return CPT_INITIAL
    if threshold_id is not None and threshold_id != previous:
        return CPT_REDETERMINATION
    return CPT_SUBSEQUENT


def _status(session: SessionRecord) -> str:
    if session.status == "running":
        return "in-progress"
    if session.status == "completed":
        return "completed"
    if session.pulses_delivered == 0 and session.pulses_exact:
        return "not-done"
    return "stopped"


def _procedure(
    build: _Builder,
    item: SessionTrains,
    code: tuple[str, str],
    courses: dict[str, str],
    thresholds: dict[str, str],
    names: dict[str, str | None],
) -> str:
    session = item.session
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "identifier": [{"system": "urn:stimctl:session", "value": session.id}],
        "status": _status(session),
        "code": {
            "coding": [{"system": CPT, "code": code[0], "display": code[1]}],
            "text": f"repetitive TMS session ({session.protocol_name})",
        },
        "subject": _ref(build.patient),
        "performedPeriod": {"start": _instant(session.started_at)},
    }
    if session.ended_at is not None:
        resource["performedPeriod"]["end"] = _instant(session.ended_at)
    if resource["status"] in ("stopped", "not-done"):
        resource["statusReason"] = _text(session.close_note or session.status)
    if session.course_id in courses:
        resource["basedOn"] = [_ref(courses[session.course_id])]
    operator = build.practitioner(session.operator_id, names)
    if operator is not None:
        resource["performer"] = [{"actor": _ref(operator)}]
    used = [
        d
        for d in (build.device(session.device, "stimulator"), build.device(session.coil, "coil"))
        if d
    ]
    if used:
        resource["usedReference"] = [_ref(d) for d in used]
    extensions, note = _dose(item, thresholds)
    resource["extension"] = extensions
    resource["note"] = [{"text": note}]
    return build.add(_url("session", session.id), resource)


def _dose(item: SessionTrains, thresholds: dict[str, str]) -> tuple[list[dict[str, Any]], str]:
    session = item.session
    mso = [t.intensity_pct_mso for t in item.trains if t.intensity_pct_mso is not None]
    rmt = [t.intensity_pct_rmt for t in item.trains if t.intensity_pct_rmt is not None]
    ext: list[dict[str, Any]] = [
        {"url": EXT + "protocol", "valueString": session.protocol_name},
        {"url": EXT + "protocol-digest", "valueString": session.protocol_digest},
        {"url": EXT + "pulses-planned", "valueInteger": session.pulses_planned},
        {"url": EXT + "pulses-delivered", "valueInteger": session.pulses_delivered},
        {"url": EXT + "pulses-count-exact", "valueBoolean": session.pulses_exact},
        {"url": EXT + "trains-delivered", "valueInteger": len(item.trains)},
    ]
    if session.protocol_class:
        ext.append({"url": EXT + "protocol-class", "valueString": session.protocol_class})
    if mso:
        ext.append({"url": EXT + "intensity-percent-mso", "valueDecimal": max(mso)})
    if rmt:
        ext.append({"url": EXT + "intensity-percent-mt", "valueDecimal": max(rmt)})
    if session.threshold_id in thresholds:
        ext.append(
            {
                "url": EXT + "dosed-from-threshold",
                "valueReference": _ref(thresholds[session.threshold_id]),
            }
        )
    count = "" if session.pulses_exact else "at least "
    note = (
        f"{session.protocol_name}: {count}{session.pulses_delivered} of"
        f" {session.pulses_planned} planned pulses in {len(item.trains)} trains"
    )
    if mso:
        note += f"; intensity {max(mso):g}% MSO"
    if rmt and item.threshold is not None:
        note += f" = {max(rmt):g}% of the {item.threshold.kind.upper()} ({item.threshold.method})"
    note += f"; journal chain head {item.journal_head}" if item.journal_head else ""
    return ext, note


def _threshold(build: _Builder, threshold: ThresholdRecord) -> str:
    kind = "resting" if threshold.kind == "rmt" else "active"
    method = "EMG" if threshold.method == "emg" else "visual twitch"
    details = [method]
    if threshold.criterion:
        details.append(f"criterion: {threshold.criterion}")
    if threshold.algorithm:
        details.append(f"algorithm: {threshold.algorithm}")
    if threshold.pulses is not None:
        details.append(f"{threshold.pulses} pulses")
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:stimctl:threshold", "value": threshold.id}],
        "status": "final",
        "code": {
            "coding": [
                {
                    "system": CODES,
                    "code": f"{threshold.kind}",
                    "display": f"{kind} motor threshold",
                }
            ],
            "text": f"{kind} motor threshold ({threshold.muscle})",
        },
        "subject": _ref(build.patient),
        "effectiveDateTime": threshold.measured_on.isoformat(),
        "valueQuantity": {
            "value": threshold.percent_mso,
            "unit": "% MSO",
            "system": UCUM,
            "code": "%",
        },
        "method": {
            "coding": [
                {"system": CODES, "code": f"threshold-{threshold.method}", "display": method}
            ],
            "text": "; ".join(details),
        },
        "bodySite": _text(threshold.muscle),
    }
    if threshold.adjusted_for:
        resource["note"] = [
            {"text": f"adjusted for the cortical depth of {threshold.adjusted_for}"}
        ]
    device = build.device(threshold.device, "stimulator")
    if device is not None:
        resource["device"] = _ref(device)
    return build.add(_url("threshold", threshold.id), resource)


def _course(
    build: _Builder,
    course: CourseRecord,
    prescriber: str | None,
    names: dict[str, str | None],
    changes: list[CourseChange],
) -> str:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": "urn:stimctl:course", "value": course.id}],
        "status": "active" if course.status == "active" else "completed",
        "intent": "order",
        "code": _text(f"repetitive TMS course: {course.protocol_name}"),
        "subject": _ref(build.patient),
        "quantityQuantity": {"value": course.planned_sessions, "unit": "sessions"},
        "occurrencePeriod": {"start": course.start_date.isoformat()},
        "note": [{"text": f"protocol {course.protocol_name}, SHA-256 {course.protocol_digest}"}]
        + [
            {"text": f"changed {c.changed_at:%Y-%m-%d}: {c.line()}"}
            for c in changes
            if c.course_id == course.id
        ],
    }
    if course.created_at is not None:
        resource["authoredOn"] = _instant(course.created_at)
    requester = build.practitioner(prescriber, names)
    if requester is not None:
        resource["requester"] = _ref(requester)
    return build.add(_url("course", course.id), resource)


def _outcome(build: _Builder, outcome: OutcomeRecord) -> str:
    scale = SCALES[outcome.scale]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:stimctl:outcome", "value": outcome.id}],
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": CODES, "code": f"outcome-{scale.key}", "display": scale.name}],
            "text": scale.name,
        },
        "subject": _ref(build.patient),
        "effectiveDateTime": outcome.measured_on.isoformat(),
        "valueQuantity": {"value": outcome.value, "unit": scale.unit},
        "note": [{"text": f"range {scale.low:g}-{scale.high:g}; {scale.source}"}],
    }
    return build.add(_url("outcome", outcome.id), resource)


def _adverse_event(
    build: _Builder,
    event: AdverseEventRecord,
    procedures: dict[str, str],
    names: dict[str, str | None],
) -> str:
    resource: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "identifier": {"system": "urn:stimctl:adverse-event", "value": event.id},
        "actuality": "actual",
        "event": {"coding": [{"system": CODES, "code": event.kind}], "text": event.kind},
        "subject": _ref(build.patient),
        "date": _instant(event.occurred_at),
    }
    if event.severity == "serious":
        resource["seriousness"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
                    "code": "serious",
                }
            ]
        }
    else:
        resource["severity"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
                    "code": event.severity,
                }
            ]
        }
    if event.recorded_at is not None:
        resource["recordedDate"] = _instant(event.recorded_at)
    recorder = build.practitioner(event.recorded_by, names)
    if recorder is not None:
        resource["recorder"] = _ref(recorder)
    if event.session_id in procedures:
        resource["suspectEntity"] = [{"instance": _ref(procedures[event.session_id])}]
    notes = [event.notes] if event.notes else []
    if event.reviewed_at is not None:
        review = event.review_notes or ""
        notes.append(f"reviewed {_instant(event.reviewed_at)} by {event.reviewed_by}: {review}")
    if notes:
        resource["extension"] = [{"url": EXT + "notes", "valueString": " | ".join(notes)}]
    return build.add(_url("adverse-event", event.id), resource)


def _operator_names(store: Store) -> dict[str, str | None]:
    with store.read() as conn:
        rows = conn.execute("SELECT id, name FROM operators").fetchall()
    return {str(r[0]): r[1] for r in rows}


def _prescriber(store: Store, course: CourseRecord) -> str | None:
    # The signatures table directly: stimctl.identity sits above the records layer.
    with store.read() as conn:
        row = conn.execute(
            "SELECT signer_id FROM signatures WHERE record_type = 'course' AND record_id = ?"
            " ORDER BY signed_at LIMIT 1",
            (course.id,),
        ).fetchone()
    return None if row is None else str(row[0])
