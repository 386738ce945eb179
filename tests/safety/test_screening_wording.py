"""Screening per the Rossi 2011 letter (safety-limits 13.4 items 5-6; issue 15 item 8):
blocks rest on device instructions for use and say so; a "yes" to the other questions is
not by itself an absolute contraindication; the drug list covers the 2009 table's classes
and withdrawal states."""

from __future__ import annotations

import pytest

from stimctl.safety import Screening
from stimctl.safety.tables import screening_table
from tests.builders import TODAY, check, clean_screening, subject, train

P = train(10, 100, 4.0, 26.0)
ITEMS = screening_table().items


@pytest.mark.parametrize("item", sorted(ITEMS))
def test_every_item_cites_its_basis(item: str) -> None:
    entry = ITEMS[item]
    if entry.on_yes == "block":
        assert entry.source.startswith("device IFU basis"), item
        assert "Rossi et al. 2009" in entry.source
    elif entry.on_yes == "override" and entry.rule == "SCR-2":
        assert "not an absolute contraindication" in entry.source or "Q13" in entry.source, item
    assert any(tag in entry.source for tag in ("[V]", "[V2]", "[R]", "[U]")), item


def test_the_spinal_surgery_question_is_gone_and_metal_covers_the_head_zone() -> None:
    assert not any("spinal cord" in i.question.lower() for i in ITEMS.values())
    assert "30 cm" in ITEMS["metal_in_head"].question


# (medication as typed, expected SCR-5 severity)
DRUGS = [
    ("Clozapine", "override"),
    ("alcohol withdrawal", "override"),
    ("Benzodiazepine withdrawal", "override"),
    ("barbiturate withdrawal", "override"),
    ("haloperidol", "allow"),  # antipsychotic: relative hazard, recorded
    ("ciprofloxacin", "allow"),  # antibiotic: relative hazard, recorded
    ("mefloquine", "allow"),  # antimalarial
    ("fluvoxamine", "allow"),
]


@pytest.mark.parametrize(("drug", "severity"), DRUGS)
def test_drug_classes_and_withdrawal_states(drug: str, severity: str) -> None:
    screening = Screening("rossi-2011", TODAY, clean_screening().answers, medications=(drug,))
    verdict = check(P, subject=subject(screening=screening))
    finding = next(f for f in verdict.findings if f.rule == "SCR-5")
    assert finding.severity.value == severity
    assert "Rossi et al. 2009" in finding.source
