"""Every cell of WASS1998_T4 against the published table, with its envelope value and
status tag (safety-limits 1.1a and 13.1; issue 15 item 2)."""

from __future__ import annotations

import pytest

from stimctl.safety.tables import duration_table
from tests.builders import check, train

COLUMNS = (90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200, 210, 220)
# safety-limits 1.1a (Wassermann 1998 Table 4 = Rossi 2009 Table 3, [R]): as printed
PUBLISHED = {
    1: ">1800 >1800 >1800 >360 >50 >50 >50 >50 >27 >11 >11 >8 >7 >6",
    5: ">10 >10 >10 >10 >10 7.6 5.2 3.6 2.6 2.4 1.6 1.4 1.6 1.2",
    10: ">5 >5 >5 4.2 2.9 1.3 0.8 0.9 0.8 0.5 0.6 0.4 0.3 0.3",
    20: "2.05 2.05 1.6 1.0 0.55 0.35 0.25 0.25 0.15 0.2 0.25 0.2 0.1 0.1",
    25: "1.28 1.28 0.84 0.4 0.24 0.2 0.24 0.2 0.12 0.08 0.12 0.12 0.08 0.08",
}
# safety-limits 13.1: the nine cells the monotone envelope lowers (published -> envelope)
ENVELOPE = {
    (5, 210): (1.6, 1.4),
    (10, 160): (0.9, 0.8),
    (10, 190): (0.6, 0.5),
    (20, 180): (0.2, 0.15),
    (20, 190): (0.25, 0.15),
    (20, 200): (0.2, 0.15),
    (25, 150): (0.24, 0.2),
    (25, 190): (0.12, 0.08),
    (25, 200): (0.12, 0.08),
}
# safety-limits 13.1: independent anchors; every other cell is recalled [R]
ANCHORS = {(10, 120): "V2", (20, 110): "V"}

CELLS = [
    (f, c, text)
    for f, row in PUBLISHED.items()
    for c, text in zip(COLUMNS, row.split(), strict=True)
]


def _cell(frequency: float, column: float):  # type: ignore[no-untyped-def]
    table = duration_table()
    return table.cells[table.frequencies_hz.index(frequency)][
        table.intensities_percent.index(column)
    ]


@pytest.mark.parametrize(("frequency", "column", "text"), CELLS)
def test_each_cell_carries_its_published_value_envelope_and_status(
    frequency: int, column: int, text: str
) -> None:
    cell = _cell(frequency, column)
    assert cell.published == float(text.lstrip(">"))
    assert cell.tested_only == text.startswith(">")
    published, envelope = ENVELOPE.get((frequency, column), (cell.published, cell.published))
    assert (cell.published, cell.seconds) == (published, envelope)
    assert cell.envelope == ((frequency, column) in ENVELOPE)
    assert cell.status == ANCHORS.get((frequency, column), "R")
    assert cell.tag == ("E" if cell.envelope else cell.status)


def test_a_finding_on_an_envelope_cell_says_so_and_prints_both_numbers() -> None:
    # 10 Hz / 160%: published 0.9 s, envelope 0.8 s; an 0.85 s train is between them
    p = train(20, 160, 0.85, 30.0)  # 20 Hz row, 160% column: 0.25 published, not envelope
    assert "envelope" not in next(f for f in check(p).findings if f.rule == "WASS1998_T4").message
    p = train(20, 190, 0.2, 30.0)  # 20 Hz / 190%: published 0.25, envelope 0.15
    finding = next(f for f in check(p).findings if f.rule == "WASS1998_T4")
    assert finding.severity.value == "block"
    assert "envelope of Table 4" in finding.message
    assert "0.25" in finding.message and "0.15" in finding.message
    assert "[E]" in finding.source and "[R]" in finding.source


def test_a_finding_on_an_anchored_cell_gives_that_cells_status() -> None:
    finding = next(
        f for f in check(train(10, 120, 4.0, 26.0, 75)).findings if f.rule == "WASS1998_T4"
    )
    assert "[V2]" in finding.source and "NeuroStar" in finding.source
