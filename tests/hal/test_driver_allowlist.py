"""Drivers from outside (issue 13 item 6): clinical mode loads only allow-listed drivers.

A `dist-info` on the path plus a device profile used to load arbitrary Python as a
driver, and the journal recorded only the profile name. Here a real distribution is
installed into a temporary folder on `sys.path` (metadata and module, as pip would lay
them out) and the registry is asked for it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.hal import _registry
from stimctl.hal._registry import (
    SHIPPED_DRIVERS,
    DriverNotAllowed,
    load_allowed_driver,
)
from stimctl.journal import journals_dir, read
from stimctl.safety import MotorThreshold, SiteRules, Subject
from stimctl.session.runner import open_session, prepare
from tests.session.harness import NOW

PLUGIN = '''
from drivers.magventure import MagProDriver


class OutsideDriver(MagProDriver):
    """A driver from a distribution nobody approved (it works, which is the danger)."""
'''


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Distribution `outside-drivers` 6.6.6 declaring driver `outside`, found on sys.path."""
    root = tmp_path / "site-packages"
    info = root / "outside_drivers-6.6.6.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: outside-drivers\nVersion: 6.6.6\n")
    (info / "entry_points.txt").write_text(
        "[stimctl.drivers]\noutside = stimctl_outside_driver:OutsideDriver\n"
    )
    (root / "stimctl_outside_driver.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(root))
    _registry.clear_cache()
    yield root
    sys.modules.pop("stimctl_outside_driver", None)
    _registry.clear_cache()


def test_an_outside_driver_is_refused_in_clinical_mode_without_being_imported(
    outside: Path,
) -> None:
    with pytest.raises(DriverNotAllowed, match=r"outside-drivers.*not on the site's driver"):
        load_allowed_driver("outside", SHIPPED_DRIVERS)
    assert "stimctl_outside_driver" not in sys.modules


def test_an_outside_driver_on_the_site_list_loads_and_says_where_from(outside: Path) -> None:
    cls, origin = load_allowed_driver("outside", [("outside", "Outside_Drivers")])
    assert cls.__name__ == "OutsideDriver"
    assert (origin.distribution, origin.version) == ("outside-drivers", "6.6.6")
    module = outside / "stimctl_outside_driver.py"
    assert origin.file == str(module)
    assert origin.sha256 == hashlib.sha256(module.read_bytes()).hexdigest()


def test_a_shipped_name_registered_again_by_another_distribution_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "site-packages"
    info = root / "twin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: twin\nVersion: 1.0\n")
    # the same target as stimctl's, so the registry merges it: the allow-list must not
    (info / "entry_points.txt").write_text(
        "[stimctl.drivers]\nmagpro = drivers.magventure:MagProDriver\n"
    )
    monkeypatch.syspath_prepend(str(root))
    _registry.clear_cache()
    try:
        with pytest.raises(DriverNotAllowed, match="stimctl, twin"):
            load_allowed_driver("magpro", SHIPPED_DRIVERS)
    finally:
        _registry.clear_cache()


@pytest.mark.parametrize(("name", "_"), SHIPPED_DRIVERS)
def test_the_shipped_drivers_are_allowed_by_default(name: str, _: str) -> None:
    cls, origin = load_allowed_driver(name, SHIPPED_DRIVERS)
    assert origin.distribution == "stimctl" and origin.version
    assert origin.file is not None and origin.sha256 is not None
    assert origin.sha256 == hashlib.sha256(Path(origin.file).read_bytes()).hexdigest()
    assert cls.__module__.startswith("drivers.")


def _profile(tmp_path: Path) -> Path:
    from stimctl.configs import shipped_configs_dir

    shipped = (shipped_configs_dir() / "devices" / "magpro-x100.toml").read_text()
    profile = tmp_path / "outside-x100.toml"
    profile.write_text(
        shipped.replace('name = "magpro-x100"', 'name = "outside-x100"').replace(
            'driver = "magpro"', 'driver = "outside"'
        )
    )
    return profile


def test_a_clinical_session_with_an_outside_driver_is_refused_before_connecting(
    outside: Path, tmp_path: Path
) -> None:
    from stimctl.clock import SimulatedClock

    subject = Subject(MotorThreshold(50.0, "emg", NOW.date()))
    prepared = prepare("np-m1-10hz-90", subject, str(_profile(tmp_path)), site=SiteRules(), now=NOW)
    with pytest.raises(DriverNotAllowed):
        open_session(prepared, "stimsim://magpro-x100", clock=SimulatedClock())
    assert "stimctl_outside_driver" not in sys.modules
    journals = journals_dir()
    assert not journals.exists() or not list(journals.glob("*.jsonl"))


def test_a_site_file_can_allow_it_and_the_journal_names_its_origin(
    outside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site.toml"
    allow = [*SHIPPED_DRIVERS, ("outside", "outside-drivers")]
    site.write_text(
        "schema_version = 1\nmode = 'clinical'\n"
        + "".join(f"[[drivers]]\nname = '{n}'\ndistribution = '{d}'\n" for n, d in allow)
    )
    code = main(
        [
            "dry-run",
            "np-m1-10hz-90",
            "--rmt",
            "52",
            "--device",
            str(_profile(tmp_path)),
            "--site",
            str(site),
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    start = read(Path(json.loads(out)["journal"]))[0]["payload"]
    driver = start["device"]["driver"]
    assert driver["distribution"] == "outside-drivers" and driver["version"] == "6.6.6"
    assert driver["target"] == "stimctl_outside_driver:OutsideDriver"
    assert (
        driver["sha256"]
        == hashlib.sha256((outside / "stimctl_outside_driver.py").read_bytes()).hexdigest()
    )


def test_a_dry_run_journals_the_shipped_driver_origin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["dry-run", "np-m1-10hz-90", "--rmt", "52", "--json"]) == 0
    start = read(Path(json.loads(capsys.readouterr().out)["journal"]))[0]["payload"]
    driver = start["device"]["driver"]
    assert driver["name"] == "magstim-rapid2" and driver["distribution"] == "stimctl"
    assert driver["sha256"] == hashlib.sha256(Path(driver["file"]).read_bytes()).hexdigest()
