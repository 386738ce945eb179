"""Protocol files: strict validation, derived figures, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.errors import ConfigError
from stimctl.protocol import derive, load_protocol, train_intensity_percent_rmt
from stimctl.protocol.models import SCHEMA_VERSION
from tests.builders import continuous, protocol, theta_burst, train

GOOD = """schema_version = 1
name = "x"
title = "X"
indication = "neuropathic-pain"
source = "S"

[target]
site = "M1-hand"
hemisphere = "contralateral-to-pain"

[coil]
family = "figure-8"

[intensity]
percent_rmt = 90

[pattern]
kind = "train"
frequency_hz = 10.0
pulses_per_train = 50
inter_train_interval_s = 25.0
trains = 40
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(text)
    return path


def test_the_documented_example_loads(tmp_path: Path) -> None:
    p = load_protocol(str(_file(tmp_path, GOOD)))
    d = derive(p)
    assert (d.pulses_per_train, d.total_pulses, d.train_duration_s) == (50, 2000, 5.0)
    assert d.session_duration_s == pytest.approx(40 * 5 + 39 * 25)


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (
            ("frequency_hz = 10.0", "frequency_hz = -10.0"),
            "pattern.frequency_hz",
            "greater than or equal to 0.1",
        ),
        (("frequency_hz = 10.0", 'frequency_hz = "10"'), "pattern.frequency_hz", "valid number"),
        (("trains = 40", "trains = 40\ncolour = 1"), "pattern.colour", "unknown key"),
        (
            ("schema_version = 1", "schema_version = 99"),
            "schema_version",
            "newer than this stimctl",
        ),
        (('family = "figure-8"', 'family = "double-cone"'), "coil.family", "Input should be"),
        (
            ("pulses_per_train = 50", "pulses_per_train = 50\ntrain_duration_s = 5.0"),
            "pattern",
            "exactly one",
        ),
        (("percent_rmt = 90", "percent_rmt = true"), "intensity.percent_rmt", "valid number"),
    ],
)
def test_bad_files_name_the_file_field_and_problem(
    tmp_path: Path, change: tuple[str, str], field: str, problem: str
) -> None:
    path = _file(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as err:
        load_protocol(str(path))
    message = str(err.value)
    assert message.startswith(f"{path}: {field}: "), message
    assert problem in message
    assert "\n" not in message


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD.replace("trains = 40", "trains = = 40"))
    with pytest.raises(ConfigError, match=r"p.toml: malformed TOML"):
        load_protocol(str(path))


def test_missing_file_and_unknown_name() -> None:
    with pytest.raises(ConfigError, match=r"no such file"):
        load_protocol("/nonexistent/p.toml")
    with pytest.raises(ConfigError, match=r"unknown protocol 'nope' .shipped: .*np-m1-10hz-90"):
        load_protocol("nope")


def test_schema_version_constant_is_what_the_library_uses() -> None:
    assert load_protocol("np-m1-10hz-90").schema_version == SCHEMA_VERSION


def test_train_duration_must_be_whole_pulses() -> None:
    with pytest.raises(ValueError, match="whole number"):
        train(10, 100, 0.55)


def test_theta_burst_derived_figures() -> None:
    itbs = derive(theta_burst(120))
    assert (itbs.protocol_class, itbs.pulses_per_train, itbs.total_pulses) == ("itbs", 30, 600)
    assert itbs.train_mean_rate_hz == 15.0
    ctbs = derive(theta_burst(80, 40.0, None, 1))
    assert (ctbs.protocol_class, ctbs.total_pulses) == ("ctbs", 600)
    im = derive(theta_burst(80, 5.0, 10.0, 8))
    assert im.protocol_class == "imtbs"


def test_burst_longer_than_its_period_is_refused() -> None:
    with pytest.raises(ValueError, match="burst lasts longer"):
        theta_burst(80, burst=(5, 20.0, 5.0))


def test_continuous_is_one_train() -> None:
    d = derive(continuous(1, 110, 1800))
    assert (d.trains, d.total_pulses, d.session_duration_s, d.protocol_class) == (
        1,
        1800,
        1800.0,
        "lf-rtms",
    )


def test_ramp_rises_linearly_and_never_passes_the_target() -> None:
    base = train(10, 100, 4.0, 26.0, 10)
    ramped = base.model_copy(
        update={
            "intensity": base.intensity.model_copy(
                update={"ramp_start_percent_rmt": 80.0, "ramp_trains": 4}
            )
        }
    )
    values = [train_intensity_percent_rmt(ramped, i, 0) for i in range(6)]
    assert values == [80.0, 85.0, 90.0, 95.0, 100.0, 100.0]


def test_ramp_needs_a_length() -> None:
    with pytest.raises(ValueError, match="exactly one of ramp_trains and ramp_sessions"):
        protocol({"kind": "continuous", "frequency_hz": 1.0, "pulses": 10}, 100).model_validate(
            {
                **protocol(
                    {"kind": "continuous", "frequency_hz": 1.0, "pulses": 10}, 100
                ).model_dump(),
                "intensity": {"percent_rmt": 100, "ramp_start_percent_rmt": 80},
            }
        )
