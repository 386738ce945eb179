"""The shipped duration table and its lookup conventions (safety-limits 9.1)."""

from __future__ import annotations

import pytest

from stimctl.errors import ConfigError
from stimctl.safety.rules_duration import lookup
from stimctl.safety.tables import duration_table, parse_duration_table


def test_every_row_is_a_monotone_non_increasing_envelope() -> None:
    table = duration_table()
    for frequency, row in zip(table.frequencies_hz, table.cells, strict=True):
        seconds = [cell.seconds for cell in row]
        assert seconds == sorted(seconds, reverse=True), f"{frequency} Hz row rises"


def test_published_anchor_cells() -> None:
    table = duration_table()
    cell, row, col = lookup(table, 10, 120) or pytest.fail("off table")
    assert (cell.seconds, cell.tested_only, row, col) == (4.2, False, 10.0, 120.0)
    cell, *_ = lookup(table, 20, 110) or pytest.fail("off table")
    assert (cell.seconds, cell.tested_only) == (1.6, False)
    cell, *_ = lookup(table, 1, 110) or pytest.fail("off table")
    assert (cell.seconds, cell.tested_only) == (1800.0, True)


@pytest.mark.parametrize(
    ("frequency", "intensity", "row", "col"),
    [
        (18, 120, 20.0, 120.0),  # frequency between rows -> next higher row
        (10, 111, 10.0, 120.0),  # intensity between columns -> round up
        (10, 60, 10.0, 90.0),  # below 90% -> the 90% column
        (0.5, 100, 1.0, 100.0),
        (25, 220, 25.0, 220.0),
    ],
)
def test_lookup_conventions(frequency: float, intensity: float, row: float, col: float) -> None:
    found = lookup(duration_table(), frequency, intensity)
    assert found is not None
    assert found[1:] == (row, col)


@pytest.mark.parametrize(("frequency", "intensity"), [(26, 100), (10, 221)])
def test_off_table_lookups_return_none(frequency: float, intensity: float) -> None:
    assert lookup(duration_table(), frequency, intensity) is None


def test_table_without_source_is_refused() -> None:
    with pytest.raises(ConfigError, match="table_id and source"):
        parse_duration_table("freq_hz,i090,source\n1,>5,S\n", "t.csv")


def test_malformed_cell_is_refused_with_the_file_name() -> None:
    text = "# table_id=T\n# source=S\nfreq_hz,i090,source\n1,abc,S\n"
    with pytest.raises(ConfigError, match=r"t\.csv: malformed"):
        parse_duration_table(text, "t.csv")


def test_a_row_without_a_source_is_refused() -> None:
    text = "# table_id=T\n# source=S\nfreq_hz,i090,source\n1,>5,\n"
    with pytest.raises(ConfigError, match="a source"):
        parse_duration_table(text, "t.csv")
