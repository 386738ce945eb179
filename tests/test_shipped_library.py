"""Every shipped protocol and device profile loads and gets the verdict its source implies."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from stimctl.configs import configs_dir, names_in
from stimctl.device_profiles import load_profile, profile_names
from stimctl.protocol import load_protocol
from stimctl.safety import SiteRules
from stimctl.safety.engine import evaluate
from stimctl.safety.tables import duration_table, hcoil_table, limits, screening_table
from stimctl.testing.expected import EXPECTED_VERDICTS, typical_subject

NOW = dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)
# The typical subject of the expected-verdict table (RMT 55% MSO, AMT 44% MSO, FDI).
SUBJECT = typical_subject(NOW.date())
ACCELERATED = SiteRules(accelerated_allowed=True)

# The table the self-test and the pytest plugin ship (one table, not two copies).
EXPECTED = EXPECTED_VERDICTS


def test_every_shipped_protocol_has_an_expected_verdict() -> None:
    assert set(names_in("protocols")) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_protocol_verdict(name: str) -> None:
    protocol = load_protocol(name)
    assert protocol.name == name, "file name and protocol name must agree"
    verdict = evaluate(protocol, SUBJECT, now=NOW, site=ACCELERATED)
    assert verdict.verdict.value == EXPECTED[name], verdict.findings


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_protocol_on_a_capable_device(name: str) -> None:
    # Theta burst is triggered pulse by pulse: the Rapid² takes serial triggers at 1 Hz
    # at most, the MagPro X100 runs it.
    tbs = load_protocol(name).pattern.kind == "theta-burst"
    device = load_profile("magpro-x100" if tbs else "magstim-rapid2-super-plus-240v")
    verdict = evaluate(load_protocol(name), SUBJECT, now=NOW, site=ACCELERATED, device=device)
    assert verdict.verdict.value == EXPECTED[name]


def test_theta_burst_on_a_rapid_is_not_deliverable() -> None:
    device = load_profile("magstim-rapid2-super-plus-240v")
    verdict = evaluate(load_protocol("dep-itbs-three-d"), SUBJECT, now=NOW, device=device)
    assert verdict.verdict.value == "block"
    assert any(f.rule == "TBS-5" and "external trigger" in f.message for f in verdict.findings)


def test_saint_is_blocked_where_accelerated_schedules_are_not_allowed() -> None:
    verdict = evaluate(load_protocol("dep-saint"), SUBJECT, now=NOW)
    assert verdict.verdict.value == "block"


@pytest.mark.parametrize("name", profile_names())
def test_device_profile_loads(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.source


def test_device_profile_set_is_complete() -> None:
    expected = {"magstim-200", "magstim-bistim", "magpro-r30", "magpro-x100"} | {
        f"magstim-rapid2-{t}-{v}v" for t in ("standard", "super", "super-plus") for v in (240, 115)
    }
    assert expected <= set(profile_names())


def test_safety_tables_load_with_sources() -> None:
    assert limits().table_version
    assert duration_table().source.startswith("Wassermann 1998")
    assert {"H1", "H7"} <= set(hcoil_table().models)
    assert all(item.source for item in screening_table().items.values())


def test_configs_are_packaged_into_the_wheel(tmp_path: Path) -> None:
    """A non-editable install finds configs: the wheel carries them as stimctl/_configs."""
    build = pytest.importorskip("hatchling.builders.wheel")
    repo = Path(__file__).resolve().parents[1]
    builder = build.WheelBuilder(str(repo))
    wheel = next(iter(builder.build(directory=str(tmp_path), versions=["standard"])))
    names = zipfile.ZipFile(wheel).namelist()
    for kind in ("protocols", "devices", "safety", "site"):
        shipped = {p.name for p in (configs_dir() / kind).glob("*.*")}
        packaged = {
            n.rsplit("/", 1)[-1] for n in names if n.startswith(f"stimctl/_configs/{kind}/")
        }
        assert shipped <= packaged, kind
    assert "stimctl/_configs/devices/tables/rapid2-joules.toml" in names
