"""The safety tables reach the rules through the context (issue 14 item 4): the engine
loads them once, and a rule is a function of its context alone. It opens no file, and
the tables in its context, not the files on disk, decide the verdict."""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Callable

import pytest
from pytest_mock import MockerFixture

from stimctl import device_profiles
from stimctl.device_profiles import load_profile
from stimctl.protocol.models import Protocol
from stimctl.safety import History, PastSession, Screening, SiteRules
from stimctl.safety import tables as tables_module
from stimctl.safety.context import Context
from stimctl.safety.engine import build_context, judge
from stimctl.safety.inputs import Subject
from stimctl.safety.tables import DurationTable, Tables, safety_dir, tables
from tests.builders import NOW, TODAY, check, clean_screening, rules_at, subject, theta_burst, train

SUPER_PLUS = "magstim-rapid2-super-plus-240v"
H1 = {"family": "h-coil", "model": "H1"}
HISTORY = History(sessions=(PastSession(NOW.replace(hour=7), 3000, "hf-rtms"),))


def _screened(rmt: float = 50.0) -> Subject:
    answers = clean_screening(hearing_problems=True).answers
    return subject(rmt, screening=Screening("rossi-2011", TODAY, answers, ("Clozapine",)))


def _contexts() -> list[Context]:
    """One context per table a rule reads: Table 4, the H-coil envelopes, the screening
    items and drug lists, the limits, a Rapid²'s energy table."""
    cases: list[tuple[Protocol, Subject, str | None]] = [
        (train(10, 110, 5.0, 26.0, 75), _screened(), None),
        (train(18, 120, 2.0, 20.0, 55, coil=H1), _screened(), None),
        (theta_burst(80), _screened(), None),
        (train(25, 100, 20.0, 60.0), _screened(73.0), SUPER_PLUS),
    ]
    return [
        build_context(p, s, None if d is None else load_profile(d), SiteRules(), NOW)
        for p, s, d in cases
    ]


def _forget_loaded_tables() -> None:
    """Empty every loader's cache: a rule that still called one would read the disk."""
    loaders: list[Callable[..., object]] = [
        tables_module.limits,
        tables_module.duration_table,
        tables_module.hcoil_table,
        tables_module.screening_table,
        tables_module.tables,
        device_profiles.energy_joules,
        device_profiles.load_profile,
    ]
    for loader in loaders:
        loader.cache_clear()  # type: ignore[attr-defined]


def test_no_rule_opens_a_file(mocker: MockerFixture) -> None:
    contexts = _contexts()
    expected = [judge(c, now=NOW, history=HISTORY, require_screening=True) for c in contexts]
    assert {"WASS1998_T4", "PUL-7", "SCR-2", "SCR-5", "DEV-ONTIME"} <= {
        f.rule for findings in expected for f in findings
    }
    _forget_loaded_tables()
    refuse = OSError("a rule opened a file")
    for target in ("builtins.open", "io.open", "os.open"):
        mocker.patch(target, side_effect=refuse)
    try:
        with pytest.raises(OSError, match="a rule opened a file"):
            (safety_dir() / "limits.toml").read_text(encoding="utf-8")
        with pytest.raises(OSError, match="a rule opened a file"):
            os.open(str(safety_dir() / "limits.toml"), os.O_RDONLY)
        judged = [judge(c, now=NOW, history=HISTORY, require_screening=True) for c in contexts]
    finally:
        mocker.stopall()
    assert judged == expected
    assert io.open is open  # the patches are gone: later tests read files as usual


def _shorter_table(table: DurationTable, factor: float) -> DurationTable:
    cells = tuple(
        tuple(dataclasses.replace(c, seconds=c.seconds * factor) for c in row)
        for row in table.cells
    )
    return dataclasses.replace(table, cells=cells)


def test_the_duration_table_in_the_context_decides() -> None:
    shipped = tables()
    p = train(10, 100, 4.0, 26.0)  # 4 s at 10 Hz, 100% RMT: within Table 4's >5 s
    assert "WASS1998_T4" in rules_at(check(p), "allow")
    strict = dataclasses.replace(shipped, duration=_shorter_table(shipped.duration, 0.5))
    # the halved cell (>2.5 s) was tested only: longer trains need an override
    assert "WASS1998_T4" in rules_at(check(p, safety_tables=strict), "override")


def test_the_hcoil_envelope_in_the_context_decides() -> None:
    shipped = tables()
    h1 = shipped.hcoil.models["H1"].model_copy(update={"pulses_per_session": 1000})
    fewer = shipped.hcoil.model_copy(update={"models": {**shipped.hcoil.models, "H1": h1}})
    p = train(18, 120, 2.0, 20.0, 55, coil=H1)  # 1980 pulses, the label's own
    assert "PUL-7" not in rules_at(check(p), "override")
    narrower = dataclasses.replace(shipped, hcoil=fewer)
    assert "PUL-7" in rules_at(check(p, safety_tables=narrower), "override")


def test_the_screening_table_in_the_context_decides() -> None:
    shipped = tables()
    item = shipped.screening.items["hearing_problems"].model_copy(update={"on_yes": "block"})
    items = {**shipped.screening.items, "hearing_problems": item}
    stricter = dataclasses.replace(
        shipped, screening=shipped.screening.model_copy(update={"items": items})
    )
    p = train(10, 100, 4.0, 26.0)
    s = subject(screening=clean_screening(hearing_problems=True))
    assert "SCR-2" not in rules_at(check(p, subject=s), "block")
    assert "SCR-2" in rules_at(check(p, subject=s, safety_tables=stricter), "block")


def test_the_limits_in_the_context_decide() -> None:
    shipped = tables()
    caps = shipped.limits.intensity
    cap = caps.conventional_clinical_percent_rmt.model_copy(update={"value": 90.0})
    intensity = caps.model_copy(update={"conventional_clinical_percent_rmt": cap})
    lower = dataclasses.replace(
        shipped, limits=shipped.limits.model_copy(update={"intensity": intensity})
    )
    p = train(10, 100, 4.0, 26.0)
    assert "INT-1" in rules_at(check(p), "allow")
    assert "INT-1" in rules_at(check(p, safety_tables=lower), "block")


def test_tables_are_loaded_once_per_process() -> None:
    assert tables() is tables()
    assert isinstance(tables(), Tables)
