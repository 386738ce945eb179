"""Hotspot search (issue 19 item 4): grids, the known hotspot of a spatial virtual
subject found, caps, the operator, a simulated device and the heat map."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_mock import MockerFixture

from simulators.spatial_subject import SpatialSubject, make_spatial_source
from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError, ExitCode
from stimctl.rmt.hotspot import (
    GridPosition,
    HotspotPlan,
    parse_grid,
    parse_positions,
    run_hotspot,
    square_grid,
)
from stimctl.rmt.hotspot_report import render_hotspot_html
from stimctl.rmt.registry import register_mep_source, unregister_mep_source
from stimctl.rmt.sources import OperatorSource
from tests.rmt.helpers import ConstantSubject


@pytest.fixture
def spatial_source() -> Iterator[None]:
    register_mep_source("virtual-spatial", make_spatial_source)
    yield
    unregister_mep_source("virtual-spatial")


def test_a_square_grid_is_named_by_row_and_column_around_the_centre() -> None:
    grid = square_grid(3, 3, 10.0)
    assert [p.name for p in grid] == ["A1", "A2", "A3", "B1", "B2", "B3", "C1", "C2", "C3"]
    assert grid[4] == GridPosition("B2", 0.0, 0.0)
    assert (grid[0].x_mm, grid[0].y_mm, grid[-1].x_mm, grid[-1].y_mm) == (-10, -10, 10, 10)


@pytest.mark.parametrize("text", ["5", "0x3", "11x2", "3 by 3", "3x3x3"])
def test_a_bad_grid_is_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_grid(text, 10.0)


def test_positions_come_from_a_file_and_bad_lines_are_named() -> None:
    positions = parse_positions("# navigator export\nM1a, 0, 0\nM1b,5.5,-3\n")
    assert positions == (GridPosition("M1a", 0.0, 0.0), GridPosition("M1b", 5.5, -3.0))
    with pytest.raises(ConfigError, match="line 2"):
        parse_positions("a,0,0\nb,zero,0\n")
    with pytest.raises(ConfigError, match="unique"):
        HotspotPlan(parse_positions("a,0,0\na,1,1\n"), 60)


def test_an_intensity_above_the_cap_is_refused() -> None:
    with pytest.raises(ConfigError, match="above the intensity cap"):
        HotspotPlan(square_grid(2, 2, 10.0), 80, max_intensity=70)


@pytest.mark.parametrize(("hotspot", "seed"), [("B2", 1), ("A3", 2), ("D4", 3), ("E1", 4)])
def test_the_known_hotspot_is_found_on_a_grid(hotspot: str, seed: int) -> None:
    grid = square_grid(5, 5, 10.0)
    place = next(p for p in grid if p.name == hotspot)
    subject = SpatialSubject(50.0, seed, hotspot_mm=(place.x_mm, place.y_mm))
    plan = HotspotPlan(grid, intensity=60, per_position=5)

    def move(position: GridPosition) -> None:
        subject.move_to(position.x_mm, position.y_mm)

    result = run_hotspot(plan, subject, clock=VirtualClock(), move=move, rng=random.Random(seed))
    assert result.proposed.name == hotspot
    medians = result.medians()
    assert medians[hotspot] == max(medians.values())
    assert len(result.pulses) == 25 * 5


@settings(max_examples=40, deadline=None)
@given(
    intensity=st.integers(min_value=1, max_value=100),
    cap=st.integers(min_value=1, max_value=100),
    rows=st.integers(min_value=1, max_value=4),
    per=st.integers(min_value=1, max_value=3),
)
def test_the_cap_is_never_exceeded(intensity: int, cap: int, rows: int, per: int) -> None:
    try:
        plan = HotspotPlan(square_grid(rows, 2, 10.0), intensity, per, cap)
    except ConfigError:
        assert intensity > cap
        return
    fired: list[int] = []
    moves: list[str] = []
    run_hotspot(
        plan, ConstantSubject(100.0), clock=VirtualClock(), move=lambda p: moves.append(p.name),
        stimulate=fired.append,
    )  # fmt: skip
    assert fired and all(x <= cap for x in fired) and len(fired) == rows * 2 * per
    assert moves == [p.name for p in plan.positions]


def test_the_operator_types_each_amplitude_after_moving_the_coil() -> None:
    answers = iter(["100", "120", "900", "800", "50", "60"])
    source = OperatorSource(lambda _q: next(answers))
    plan = HotspotPlan(parse_positions("a,0,0\nb,10,0\nc,20,0\n"), 55, per_position=2)
    moved: list[str] = []
    result = run_hotspot(plan, source, clock=VirtualClock(), move=lambda p: moved.append(p.name))
    assert moved == ["a", "b", "c"] and result.proposed.name == "b"
    assert result.medians() == {"a": 110.0, "b": 850.0, "c": 55.0}


def test_the_heat_map_marks_the_proposed_position() -> None:
    plan = HotspotPlan(square_grid(2, 2, 10.0), 55, per_position=1)
    amplitudes = iter([10.0, 20.0, 900.0, 40.0])

    class Source:
        def response(self, intensity_percent_mso: int) -> object:
            from stimctl.mep import MepReading

            return MepReading(amplitude_uv=next(amplitudes))

    result = run_hotspot(plan, Source(), clock=VirtualClock(), move=lambda _p: None)  # type: ignore[arg-type]
    page = render_hotspot_html("S<1>", result)
    assert result.proposed.name == "B1"
    assert "Proposed hotspot: B1" in page and "S&lt;1&gt;" in page
    assert page.count("<rect") == 4 and 'stroke-width="3"' in page and "<script" not in page


@pytest.mark.usefixtures("spatial_source")
def test_cli_finds_the_virtual_hotspot_and_writes_the_heat_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    args = ["hotspot", "S01", "--intensity", "60", "--grid", "3x3", "--virtual-rmt", "50",
            "--virtual-hotspot", "C1", "--seed", "3", "--speed", "max", "--out", str(tmp_path),
            "--json"]  # fmt: skip
    code = rmt_group.main(args=args, prog_name="rmt", standalone_mode=False)
    data = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK and data["proposed"] == "C1"
    assert json.loads((tmp_path / "S01-hotspot.json").read_text()) == data
    assert "Proposed hotspot: C1" in (tmp_path / "S01-hotspot.html").read_text()


@pytest.mark.usefixtures("spatial_source")
def test_cli_searches_through_a_simulated_device(
    capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group
    from stimctl.hal import Stimulator

    spy = mocker.spy(Stimulator, "disarm")

    args = ["hotspot", "S01", "--intensity", "60", "--grid", "3x3", "--virtual-rmt", "50",
            "--virtual-hotspot", "A2", "--seed", "3", "--speed", "max", "--json",
            "--device", "magstim-200", "--per-position", "5"]  # fmt: skip
    code = rmt_group.main(args=args, prog_name="rmt", standalone_mode=False)
    data = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK and data["proposed"] == "A2"
    assert (data["fired_by"], data["disarmed"]) == ("simulator", True)
    assert spy.call_count >= 9  # once per position, before the coil moves


def test_cli_refuses_a_virtual_hotspot_off_the_grid() -> None:
    from stimctl.cli.rmt_cmd import rmt as rmt_group

    with pytest.raises(ConfigError, match="not a position"):
        rmt_group.main(
            args=["hotspot", "S01", "--intensity", "60", "--virtual-rmt", "50",
                  "--virtual-hotspot", "Z9", "--speed", "max"],
            standalone_mode=False,
        )  # fmt: skip
