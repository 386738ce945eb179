"""FHIR R4 export (issue 17 item 5): parsed back with the R4B models, every reference
resolves inside the bundle, one Procedure per real session with its CPT code, dose,
device and operator; simulated sessions left out. On both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from stimctl.cli import main
from stimctl.records import Store
from stimctl.records.fhir import fhir_bundle
from tests.records.treated import treat


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


@pytest.fixture
def treated(store: Store, subject: str, tmp_path: Path) -> Store:
    return treat(store, subject, tmp_path)


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _parsed(store: Store) -> tuple[Bundle, dict[str, Any]]:
    text = fhir_bundle(store, "S-01").text()
    return Bundle.model_validate_json(text), json.loads(text)


def _of(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == kind]


def test_the_bundle_parses_back_with_the_r4b_models_and_every_reference_resolves(
    treated: Store,
) -> None:
    bundle, document = _parsed(treated)
    assert bundle.type == "collection"
    urls = {e.fullUrl for e in bundle.entry or []}
    assert len(urls) == len(document["entry"])  # no duplicates
    references = list(_references(document["entry"]))
    assert len(references) > 20
    assert [r for r in references if r not in urls] == []
    kinds = sorted({type(e.resource).__name__ for e in bundle.entry or []})
    assert kinds == [
        "AdverseEvent",
        "Device",
        "Observation",
        "Patient",
        "Practitioner",
        "Procedure",
        "ServiceRequest",
    ]


def test_the_patient_is_a_pseudonym_only(treated: Store) -> None:
    _, document = _parsed(treated)
    (patient,) = _of(document, "Patient")
    assert patient["identifier"] == [{"system": "urn:stimctl:subject", "value": "S-01"}]
    assert patient["meta"]["security"][0]["code"] == "PSEUDED"
    assert not {"name", "birthDate", "address", "telecom"} & patient.keys()


def test_one_procedure_per_real_session_with_cpt_codes_and_the_dry_run_left_out(
    treated: Store,
) -> None:
    export = fhir_bundle(treated, "S-01")
    assert export.simulated_left_out == ["dry-1"]
    procedures = _of(export.bundle, "Procedure")
    by_session = {p["identifier"][0]["value"]: p for p in procedures}
    assert sorted(by_session) == ["sess-1", "sess-2", "sess-3"]
    codes = {sid: p["code"]["coding"][0]["code"] for sid, p in by_session.items()}
    # initial with threshold; subsequent; re-determination (a new threshold on record)
    assert codes == {"sess-1": "90867", "sess-2": "90868", "sess-3": "90869"}
    assert all(
        p["code"]["coding"][0]["system"] == "http://www.ama-assn.org/go/cpt" for p in procedures
    )
    first = by_session["sess-1"]
    assert first["status"] == "completed"
    assert first["performedPeriod"]["start"] == "2026-11-24T09:00:00Z"
    assert first["performedPeriod"]["end"] == "2026-11-24T09:20:00Z"
    (course,) = _of(export.bundle, "ServiceRequest")
    assert first["basedOn"][0]["reference"].endswith(course["id"])
    assert course["quantityQuantity"]["value"] == 30


def test_the_procedure_carries_dose_device_and_operator(treated: Store) -> None:
    export = fhir_bundle(treated, "S-01")
    document = export.bundle
    urls = {e["fullUrl"]: e["resource"] for e in document["entry"]}
    procedure = next(
        p for p in _of(document, "Procedure") if p["identifier"][0]["value"] == "sess-1"
    )
    ext = {e["url"].rsplit(":", 1)[1]: e for e in procedure["extension"]}
    assert ext["pulses-delivered"]["valueInteger"] == 20
    assert ext["pulses-planned"]["valueInteger"] == 20
    assert ext["intensity-percent-mso"]["valueDecimal"] == 45.0
    assert ext["intensity-percent-mt"]["valueDecimal"] == 90.0
    threshold = urls[ext["dosed-from-threshold"]["valueReference"]["reference"]]
    assert threshold["valueQuantity"]["value"] == 50.0
    assert "20 of 20 planned pulses" in procedure["note"][0]["text"]
    used = [urls[r["reference"]] for r in procedure["usedReference"]]
    assert [d["deviceName"][0]["name"] for d in used] == ["magstim-rapid2-super-240v", "D70"]
    assert [d["type"]["text"] for d in used] == ["Transcranial magnetic stimulator", "TMS coil"]
    operator = urls[procedure["performer"][0]["actor"]["reference"]]
    assert operator["identifier"][0]["value"] == "op-1"


def test_an_observation_per_threshold_with_kind_muscle_and_method(treated: Store) -> None:
    _, document = _parsed(treated)
    observations = sorted(_of(document, "Observation"), key=lambda o: o["effectiveDateTime"])
    assert [o["valueQuantity"]["value"] for o in observations] == [50.0, 52.0]
    first, second = observations
    assert first["code"]["coding"][0]["code"] == "rmt"
    assert first["method"]["coding"][0]["code"] == "threshold-emg"
    assert "criterion: 50 uV in 5 of 10" in first["method"]["text"]
    assert (second["method"]["coding"][0]["code"], second["bodySite"]["text"]) == (
        "threshold-visual",
        "APB",
    )


def test_the_adverse_event_points_at_its_session(treated: Store) -> None:
    _, document = _parsed(treated)
    urls = {e["fullUrl"]: e["resource"] for e in document["entry"]}
    (event,) = _of(document, "AdverseEvent")
    assert event["actuality"] == "actual"
    assert event["event"]["text"] == "headache"
    assert event["severity"]["coding"][0]["code"] == "mild"
    session = urls[event["suspectEntity"][0]["instance"]["reference"]]
    assert session["identifier"][0]["value"] == "sess-2"


def test_two_exports_of_the_same_records_give_the_same_ids(treated: Store) -> None:
    one = fhir_bundle(treated, "S-01").bundle
    two = fhir_bundle(treated, "S-01").bundle
    assert [e["fullUrl"] for e in one["entry"]] == [e["fullUrl"] for e in two["entry"]]


def test_the_cli_writes_the_bundle_file(
    treated: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if treated.backend == "sqlite":
        monkeypatch.setenv("STIMCTL_HOME", str(treated.path.parent))
    out = tmp_path / "out" / "bundle.json"
    assert main(["export", "S-01", "--format", "fhir", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "1 simulated sessions left out" in captured.err
    Bundle.model_validate_json(out.read_text(encoding="utf-8"))


def test_an_unknown_subject_is_one_line_exit_2(
    store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if store.backend == "sqlite":
        monkeypatch.setenv("STIMCTL_HOME", str(store.path.parent))
    assert main(["export", "S-99", "--format", "fhir", "-o", str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err
    assert "S-99" in err and len(err.strip().splitlines()) == 1


def test_outcome_scores_and_course_changes_travel_too(treated: Store) -> None:
    import datetime as dt

    from stimctl.records.course_changes import CourseChange, change_course
    from stimctl.records.outcomes import OutcomeRecord, record_outcome
    from tests.records.conftest import TODAY

    record_outcome(treated, OutcomeRecord("S-01", "phq9", 17, TODAY))
    change_course(
        treated,
        CourseChange("S-01", "sessions-added", "payer approved 6", "dr-lee", {"sessions": 6}),
    )
    bundle, document = _parsed(treated)
    surveys = [
        o for o in _of(document, "Observation") if o["code"]["coding"][0]["code"] == "outcome-phq9"
    ]
    assert [(o["valueQuantity"]["value"], o["effectiveDateTime"]) for o in surveys] == [
        (17.0, TODAY.isoformat())
    ]
    assert surveys[0]["category"][0]["coding"][0]["code"] == "survey"
    (course,) = _of(document, "ServiceRequest")
    assert any("payer approved 6" in n["text"] for n in course["note"])
    urls = {e.fullUrl for e in bundle.entry or []}
    assert [r for r in _references(document["entry"]) if r not in urls] == []
    assert dt.date.fromisoformat(surveys[0]["effectiveDateTime"]) == TODAY
