"""Birth date or age, risk factors and scalp-to-cortex distances on record (issue 15
items 5 and 7): stored, checked on the way in, and handed to the safety engine."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ConfigError, ExitCode
from stimctl.records import (
    AdverseEventRecord,
    Store,
    add_subject,
    edit_subject,
    get_subject,
    record_adverse_event,
)
from stimctl.records.history import subject_for
from tests.records.conftest import NOW, TODAY


def test_details_are_stored_and_reach_the_engine(store: Store, subject: str) -> None:
    edit_subject(
        store,
        subject,
        birth_date=dt.date(2010, 5, 1),
        add_risk_factors=("brain-lesion",),
        scalp_cortex_mm={"M1-hand": 17.5, "L-DLPFC": 21.0},
        today=TODAY,
    )
    got = subject_for(store, subject)
    assert got.birth_date == dt.date(2010, 5, 1)
    assert got.age_on(TODAY) == pytest.approx(16.57, abs=0.01)
    assert got.risk_factors == ("brain-lesion",)
    assert got.scalp_cortex_mm == {"M1-hand": 17.5, "L-DLPFC": 21.0}


def test_an_age_replaces_a_birth_date_and_grows_with_time(store: Store, subject: str) -> None:
    edit_subject(store, subject, birth_date=dt.date(2000, 1, 1), today=TODAY)
    edit_subject(store, subject, age_years=30.0, today=TODAY - dt.timedelta(days=365))
    record = get_subject(store, subject)
    assert record.birth_date is None and record.age_years == 30.0
    assert subject_for(store, subject).age_on(TODAY) == pytest.approx(31.0, abs=0.01)


def test_a_seizure_on_record_is_a_risk_factor(store: Store, subject: str) -> None:
    record_adverse_event(store, AdverseEventRecord(subject, "seizure", "severe", NOW))
    assert "prior-seizure" in subject_for(store, subject).risk_factors


@pytest.mark.parametrize(
    ("details", "words"),
    [
        ({"birth_date": TODAY + dt.timedelta(days=1)}, "after today"),
        ({"birth_date": dt.date(2000, 1, 1), "age_years": 20.0}, "not both"),
        ({"age_years": 131.0}, "[0, 130)"),
        ({"add_risk_factors": ("asthma",)}, "unknown risk factor"),
        ({"scalp_cortex_mm": {"L-DLPFC": 0.0}}, "outside (0, 60]"),
        ({"scalp_cortex_mm": {"L-DLPFC": 210.0}}, "outside (0, 60]"),
        ({"scalp_cortex_mm": {"nowhere": 20.0}}, "is not one of"),
    ],
)
def test_bad_details_are_refused_never_clipped(
    store: Store, subject: str, details: dict[str, object], words: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(words)):
        edit_subject(store, subject, today=TODAY, **details)  # type: ignore[arg-type]


def test_subject_add_takes_an_age_and_edit_a_birth_date(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["subject", "add", "S-09", "--age", "16"]) == ExitCode.OK
    assert main(["subject", "edit", "S-09", "--birth-date", "2010-02-03",
                 "--risk-factor", "epilepsy", "--scalp-cortex", "L-DLPFC=21"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "born 2010-02-03" in out and "epilepsy" in out and "L-DLPFC 21 mm" in out
    assert main(["subject", "show", "S-09"]) == ExitCode.OK
    assert "risk factors: epilepsy" in capsys.readouterr().out


def test_subject_edit_refuses_a_malformed_distance(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["subject", "add", "S-09"])
    assert main(["subject", "edit", "S-09", "--scalp-cortex", "L-DLPFC"]) == ExitCode.BAD_INPUT
    assert "SITE=MM" in capsys.readouterr().err


def test_add_subject_with_details(store: Store) -> None:
    record = add_subject(store, "S-10", age_years=40.0, risk_factors=("epilepsy",), at=NOW)
    assert (record.age_recorded_on, record.risk_factors) == (TODAY, ("epilepsy",))
