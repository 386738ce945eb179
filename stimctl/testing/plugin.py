"""The stimctl pytest plugin: fixtures and a marker for a lab's own safety tests.

Loaded through the `pytest11` entry point (or `-p stimctl.testing.plugin`). Import-light:
only pytest and the standard library at import; every fixture imports what it needs when
a test asks for it, so projects that never use these fixtures pay nothing.

Fixtures
--------
stimctl_home        a fresh `$STIMCTL_HOME` (journals, records) under the test's tmp_path
stimctl_clock       a `SimulatedClock` (the shared virtual timeline of sessions)
stimctl_simulator   factory: `stimctl_simulator(model, **sim_options)` -> an open
                    `Connection` to that model's simulator on stimsim:// (faults as spec
                    keys, e.g. `ignore_disarm="1"`); closed after the test
stimctl_target      the `Target` under test: the device of --stimctl-port, else a simulator
stimctl_device      an open `Connection` to `stimctl_target`
stimctl_session     runner: `stimctl_session(protocol, device=..., rmt=...)` ->
                    `SessionResult` (summary, parsed journal, simulator pulse log)

Marker and options
------------------
`@pytest.mark.stimctl_device` marks a test that needs a real stimulator: skipped unless
`--stimctl-port URL` is given (with `--stimctl-driver NAME`, a driver or device profile,
and `--stimctl-driver-option KEY=VALUE` as needed). With --stimctl-port, `stimctl_target`
and `stimctl_device` point every test that uses them at that device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from stimctl.clock import SimulatedClock
    from stimctl.testing.sessions import SessionResult
    from stimctl.testing.target import Connection, Target

MARKER = "stimctl_device"
SKIP_REASON = "needs a real stimulator: run with --stimctl-port URL --stimctl-driver NAME"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stimctl", "stimctl safety tests")
    group.addoption(
        "--stimctl-port",
        default=None,
        metavar="URL",
        help="Run stimctl device tests against the stimulator on this port (pyserial URL).",
    )
    group.addoption(
        "--stimctl-driver",
        default=None,
        metavar="NAME",
        help="Driver or device profile of --stimctl-port; on the simulator, the model to use.",
    )
    group.addoption(
        "--stimctl-driver-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Driver option for --stimctl-port (e.g. unlock_code=... for a Rapid² v9+).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: the test needs a real stimulator (skipped unless --stimctl-port is given)",
    )
    port = config.getoption("--stimctl-port", default=None)
    if port and not config.getoption("--stimctl-driver", default=None):
        raise pytest.UsageError("--stimctl-port needs --stimctl-driver (driver or profile name)")


def pytest_report_header(config: pytest.Config) -> str | None:
    port = config.getoption("--stimctl-port", default=None)
    if not port:
        return None
    return f"stimctl: device tests on {port} ({config.getoption('--stimctl-driver')})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--stimctl-port", default=None):
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker(MARKER) is not None:
            item.add_marker(skip)


def _driver_options(config: pytest.Config) -> dict[str, str]:
    options = {}
    for pair in config.getoption("--stimctl-driver-option", default=[]) or []:
        key, sep, value = str(pair).partition("=")
        if not sep or not key:
            raise pytest.UsageError(f"--stimctl-driver-option {pair!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


@pytest.fixture
def stimctl_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh `$STIMCTL_HOME` for this test: journals and records stay in tmp_path."""
    home = tmp_path / "stimctl-home"
    home.mkdir()
    monkeypatch.setenv("STIMCTL_HOME", str(home))
    return home


@pytest.fixture
def stimctl_clock() -> SimulatedClock:
    """A `SimulatedClock`: virtual time shared by the threads that sleep on it."""
    from stimctl.clock import SimulatedClock

    return SimulatedClock()


@pytest.fixture
def stimctl_simulator() -> Iterator[Callable[..., Connection]]:
    """Factory: `stimctl_simulator("magstim-200", ignore_disarm="1")` -> open `Connection`.

    The model is a device profile (or driver) name; keyword arguments are simulator spec
    keys. The calling thread drives the simulated clock; `conn.wait(s)` lets time pass.
    Every connection is safe-stopped and closed after the test.
    """
    import contextlib

    from stimctl.testing.target import DEFAULT_MODEL, Target

    with contextlib.ExitStack() as stack:

        def open_simulator(model: str = DEFAULT_MODEL, **sim_options: Any) -> Connection:
            target = Target.simulator(model, **{k: str(v) for k, v in sim_options.items()})
            return stack.enter_context(target.connect())

        yield open_simulator


@pytest.fixture
def stimctl_target(request: pytest.FixtureRequest) -> Target:
    """The device of --stimctl-port if given, else the simulator of --stimctl-driver."""
    from stimctl.testing.target import DEFAULT_MODEL, Target

    config = request.config
    port = config.getoption("--stimctl-port", default=None)
    driver = config.getoption("--stimctl-driver", default=None)
    if port:
        return Target.hardware(port, driver, **_driver_options(config))
    return Target.simulator(driver or DEFAULT_MODEL)


@pytest.fixture
def stimctl_device(stimctl_target: Target) -> Iterator[Connection]:
    """An open `Connection` to `stimctl_target`; safe-stopped and closed afterwards."""
    with stimctl_target.connect() as connection:
        yield connection


@pytest.fixture
def stimctl_session(stimctl_home: Path) -> Callable[..., SessionResult]:
    """Runner: `stimctl_session("np-m1-10hz-90", device="magpro-x100", rmt=50)`.

    Always on a simulator (never on --stimctl-port: a session fires). Journals go to
    `stimctl_home`. Takes the keywords of `stimctl.testing.run_session`.
    """

    def run(protocol: str | Path, **options: Any) -> SessionResult:
        from stimctl.testing.sessions import run_session

        options.setdefault("journal_dir", stimctl_home / "journals")
        return run_session(protocol, **options)

    return run
