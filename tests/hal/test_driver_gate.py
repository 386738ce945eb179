"""Every command that opens a stimulator loads its driver through the site's allow-list.

Clinical sessions (`run`) applied the allow-list, but `rmt hunt/curve/paired/hotspot
--device`, `devices probe` and `selftest --port` loaded drivers with plain `load_driver`:
an outside driver was imported and talked to the port. Each is now refused with exit 2
and one line, before the driver module is imported and before any port opens. The
outside driver is a real distribution on `sys.path` (the `outside` fixture of
test_driver_allowlist); the default site file is clinical.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
import serial
from pytest_mock import MockerFixture

import stimctl
from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.session.simulation import SimulatedDevice
from tests.hal.test_driver_allowlist import _profile, outside

__all__ = ["outside"]  # the fixture, used by name

SIM = "stimsim://magpro-x100"
RMT_COMMON = ("--speed", "max")


def _bistim_profile(tmp_path: Path) -> Path:
    """The shipped BiStim² profile naming the outside driver (paired pulses need one)."""
    from stimctl.configs import shipped_configs_dir

    shipped = (shipped_configs_dir() / "devices" / "magstim-bistim.toml").read_text()
    profile = tmp_path / "outside-bistim.toml"
    profile.write_text(
        shipped.replace('name = "magstim-bistim"', 'name = "outside-bistim"').replace(
            'driver = "magstim-bistim"', 'driver = "outside"'
        )
    )
    return profile


def _commands(profile: str, bistim: str) -> dict[str, list[str]]:
    hunt = ["rmt", "hunt", "S01", "--method", "rr", "--device", profile]
    return {
        "rmt-hunt-sim": [*hunt, "--port", SIM, "--virtual-rmt", "50", *RMT_COMMON],
        "rmt-hunt-simulated": [*hunt, "--virtual-rmt", "50", *RMT_COMMON],
        "rmt-hunt-port": [*hunt, "--port", "loop://"],
        "rmt-curve": ["rmt", "curve", "S01", "--device", profile, "--virtual-rmt", "50",
                      "--levels", "90,110,130", "--per-level", "1", *RMT_COMMON],
        "rmt-paired": ["rmt", "paired", "S01", "--paradigm", "sici", "--device", bistim,
                       "--virtual-rmt", "50", "--trials", "2", *RMT_COMMON],
        "rmt-hotspot": ["rmt", "hotspot", "S01", "--intensity", "60", "--grid", "2x2",
                        "--device", profile, "--virtual-rmt", "50", "--per-position", "1",
                        *RMT_COMMON],
        "devices-probe": ["devices", "probe", "--port", SIM, "--driver", "outside"],
        "devices-probe-port": ["devices", "probe", "--port", "loop://", "--driver", "outside"],
        "selftest-port": ["selftest", "--driver", "outside", "--port", SIM, "--only", "device"],
        "selftest-port-loop": ["selftest", "--driver", "outside", "--port", "loop://"],
    }  # fmt: skip


COMMANDS = list(_commands("P", "B"))


@pytest.mark.parametrize("which", COMMANDS)
def test_an_outside_driver_is_refused_before_import_and_before_any_port_opens(
    which: str,
    outside: Path,
    tmp_path: Path,
    mocker: MockerFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["subject", "add", "S01"]) == ExitCode.OK  # a real port needs a subject
    capsys.readouterr()
    opened = mocker.spy(serial, "serial_for_url")
    simulated = mocker.spy(SimulatedDevice, "__enter__")
    argv = _commands(str(_profile(tmp_path)), str(_bistim_profile(tmp_path)))[which]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "not on the site's driver allow-list" in lines[0]
    assert "stimctl_outside_driver" not in sys.modules
    assert opened.call_count == 0 and simulated.call_count == 0


def test_a_research_site_lets_the_outside_driver_probe(
    outside: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate is the site's: a research site loads any installed driver."""
    site = tmp_path / "site.toml"
    site.write_text("schema_version = 1\nmode = 'research'\nresearch_allowed = true\n")
    monkeypatch.setenv("STIMCTL_SITE", str(site))
    assert main(["devices", "probe", "--port", SIM, "--driver", "outside"]) == ExitCode.OK
    assert "stimctl_outside_driver" in sys.modules


# Modules allowed to call the registry's loaders directly: the registry itself, the one
# gate, and the session engine (which applies the same allow-list, `site_allowed_drivers`).
_LOADER_MODULES = {"hal/_registry.py", "driver_gate.py", "session/runner.py"}
_LOADERS = {"load_driver", "load_allowed_driver"}


def test_no_module_loads_a_driver_around_the_gate() -> None:
    root = Path(stimctl.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in _LOADER_MODULES or rel == "hal/__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in _LOADERS:
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []


def test_probe_autodetect_tries_only_the_drivers_the_site_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clinic that lists only the MagPro: autodetect skips the Magstim drivers (not
    refused outright at the first one) and finds the MagPro."""
    site = tmp_path / "site.toml"
    site.write_text(
        "schema_version = 1\nmode = 'clinical'\n"
        "[[drivers]]\nname = 'magpro'\ndistribution = 'stimctl'\n"
    )
    monkeypatch.setenv("STIMCTL_SITE", str(site))
    assert main(["devices", "probe", "--port", SIM]) == ExitCode.OK
    assert "magpro" in capsys.readouterr().out
    code = main(["devices", "probe", "--port", SIM, "--driver", "magstim-200"])
    assert code == ExitCode.BAD_INPUT
    assert "not on the site's driver allow-list" in capsys.readouterr().err
