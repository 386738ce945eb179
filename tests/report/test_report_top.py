"""The top of a report leads with what a clinician needs (issue 16 item 6).

Date and time, "SIMULATED" for a dry run, a serious adverse event before anything else,
delivered versus prescribed dose with the deviations, and labelled temperature limits.
Real sessions on the simulator and hand-made journals through the real writer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stimctl.report import load_session, render
from stimctl.session.simulation import FaultAt
from tests.report.journals import MINIMAL_START, hand_made, real_session


def _top(html: str) -> str:
    """The report up to its first section heading: what is seen first."""
    return html.split("<h2>", 1)[0]


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real_session(tmp_path_factory.mktemp("session"))


def test_date_and_time_of_the_session_are_at_the_top(journal: Path) -> None:
    data = json.loads(render(load_session(journal), "json"))
    first = json.loads(journal.read_text().splitlines()[0])
    day, time = first["utc"][:10], first["utc"][11:16]
    assert data["when"]["started"]["utc"].startswith(f"{day} {time}")
    assert data["when"]["ended"] is not None
    top = _top(render(load_session(journal), "html"))
    assert f"{day} {time} (UTC)" in top and "started " in top


def test_dose_delivered_versus_prescribed_leads_the_report(journal: Path) -> None:
    data = json.loads(render(load_session(journal), "json"))
    dose = data["dose"]
    assert dose["pulses"] == {"delivered": 80, "prescribed": 80}
    assert dose["trains"] == {"delivered": 4, "prescribed": 4}
    assert dose["percent_mso"] == {"delivered": [45.0, 45.0], "prescribed": 45}
    assert dose["prescribed_intensity"] == "90% RMT"
    assert dose["deviations"] == []
    html = render(load_session(journal), "html")
    first_h2 = re.findall(r"<h2>(.*?)</h2>", html)[0]
    assert first_h2 == "Dose: delivered vs prescribed"
    assert "No deviation from the prescription." in html


def test_a_short_session_lists_its_deviations(tmp_path: Path) -> None:
    faulted = real_session(tmp_path, faults=[FaultAt("link-loss", 10.0)])
    dose = json.loads(render(load_session(faulted), "json"))["dose"]
    delivered, prescribed = dose["pulses"]["delivered"], dose["pulses"]["prescribed"]
    assert delivered < prescribed
    assert f"{delivered} of {prescribed} pulses delivered" in dose["deviations"]
    html = render(load_session(faulted), "html")
    assert f"<li>{delivered} of {prescribed} pulses delivered</li>" in html


def test_a_dry_run_says_simulated_at_the_top_and_on_every_printed_page(tmp_path: Path) -> None:
    path = hand_made(tmp_path, [("session_start", "engine", {**MINIMAL_START, "simulated": True})])
    html = render(load_session(path), "html")
    top = _top(html)
    assert "<h1>SIMULATED Session report" in top
    assert 'class="banner simulated"' in top
    assert '<div class="mark-simulated">SIMULATED</div>' in top
    assert re.search(r"@media print \{[^}]*\}\s*/\*[^*]*\*/\s*\.mark-simulated \{ display: block; "
                     r"position: fixed", html)  # fmt: skip
    real = hand_made(tmp_path / "real", [("session_start", "engine", MINIMAL_START)])
    assert "SIMULATED" not in render(load_session(real), "html")


def test_a_serious_adverse_event_leads_the_report(tmp_path: Path) -> None:
    seizure = {"command": "adverse_event", "kind": "seizure", "severity": "serious",
               "notes": "generalised, 40 s"}  # fmt: skip
    headache = {"command": "adverse_event", "kind": "headache", "severity": "mild", "notes": ""}
    path = hand_made(
        tmp_path,
        [
            ("session_start", "engine", MINIMAL_START),
            ("operator", "operator:nurse", headache),
            ("operator", "operator:nurse", seizure),
        ],
    )
    data = json.loads(render(load_session(path), "json"))
    assert [a["kind"] for a in data["serious_adverse_events"]] == ["seizure"]
    html = render(load_session(path), "html")
    top = _top(html)
    assert "SERIOUS ADVERSE EVENT: seizure (serious)" in top
    assert "generalised, 40 s" in top
    assert "headache" not in top  # a mild one stays in the table below
    assert html.index("SERIOUS ADVERSE EVENT") < html.index("<h2>Adverse events</h2>")


def test_temperature_limit_lines_are_labelled(tmp_path: Path) -> None:
    path = hand_made(
        tmp_path,
        [
            ("session_start", "engine", MINIMAL_START),
            ("device", "device", {"coil_temperature_c": 31.5}),
            ("device", "device", {"coil_temperature_c": 32.0}),
        ],
    )
    data = json.loads(render(load_session(path), "json"))
    warn, stop = data["coil_temperature"]["warn_c"], data["coil_temperature"]["stop_c"]
    assert warn is not None and stop is not None
    html = render(load_session(path), "html")
    assert f"warning limit {warn:g} °C" in html
    assert f"stop limit {stop:g} °C" in html
