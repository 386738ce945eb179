"""The pytest plugin, seen from a lab's test suite: example test files run by `pytester`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stimctl.testing import sessions, target  # noqa: F401  (kept loaded across inner runs)
from tests.testing.docs_example import example_files

TOO_FAST = example_files()["protocols/too-fast.toml"]
STUDY = example_files()["protocols/our-study-10hz.toml"]  # 10 trains of 20 pulses


def write_example(pytester: pytest.Pytester) -> None:
    for name, body in example_files().items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")


def test_the_documented_example_passes_on_the_simulator(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    write_example(pytester)
    result = pytester.runpytest(*plugin_args, "-rs", "--strict-markers")
    # 8 device checks on the MagPro X100 simulator: 2 keep-alive checks do not apply
    result.assert_outcomes(passed=12, skipped=3)
    result.stdout.fnmatch_lines(
        [
            "*has no keep-alive (device-protocols B7)*",
            "*needs a real stimulator: run with --stimctl-port URL --stimctl-driver NAME*",
        ]
    )


def test_the_documented_example_runs_against_a_device_port(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    # A simulator on its own stimsim:// URL stands in for the unit: the hardware path
    # (real time, nothing fired) without hardware.
    write_example(pytester)
    port = ["--stimctl-port", "stimsim://magpro-x100", "--stimctl-driver", "magpro-x100"]
    result = pytester.runpytest(*plugin_args, "-rs", *port, "-k", "conformance or unit")
    result.assert_outcomes(passed=6, skipped=3, deselected=6)
    result.stdout.fnmatch_lines(
        ["*stimctl: device tests on stimsim://magpro-x100*", "*never fires a real device*"]
    )


def test_a_protocol_wrongly_expected_to_pass_fails_naming_rule_and_source(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makefile(".toml", **{"too-fast": TOO_FAST})
    pytester.makepyfile(
        test_wrong="""
        from pathlib import Path

        from stimctl.testing import assert_allowed, check_protocol

        def test_too_fast_is_fine():
            protocol = Path(__file__).parent / "too-fast.toml"
            assert_allowed(check_protocol(protocol, rmt=50))
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: protocol 'too-fast' is blocked by rules WASS1998_T4, ITI-1,"
            " expected allow*",
            "*- WASS1998_T4 (block): train 2 s exceeds*(source: Wassermann 1998*",
            "*- ITI-1 (block): interval 1 s at 110% RMT*(source: Chen et al. 1997*",
        ]
    )


def test_a_block_by_another_rule_names_the_rules_that_decided(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makefile(".toml", **{"too-fast": TOO_FAST})
    pytester.makepyfile(
        test_rule="""
        from pathlib import Path

        from stimctl.testing import assert_blocked, check_protocol

        def test_blocked_for_pulses():
            protocol = Path(__file__).parent / "too-fast.toml"
            assert_blocked(check_protocol(protocol, rmt=50), rule="PUL-1")
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*is block but not by rule PUL-1 (rule PUL-1 reported allow); deciding:*", "*- ITI-1*"]
    )


def test_a_session_that_ends_armed_and_too_strong_fails_with_the_evidence(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makefile(".toml", study=STUDY)
    pytester.makepyfile(
        test_session="""
        from pathlib import Path

        import pytest

        from stimctl.testing import assert_ended_disarmed, assert_no_pulse_above

        @pytest.fixture
        def run(stimctl_session):
            # the simulator stops obeying disarm 30 s in: the session cannot end disarmed
            study = Path(__file__).parent / "study.toml"
            return stimctl_session(study, rmt=50, faults=("ignore-disarm@30",))

        def test_never_above_40(run):
            assert_no_pulse_above(run, 40)

        def test_ends_disarmed(run):
            assert_ended_disarmed(run)
        """
    )
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*a pulse above 40% MSO was delivered: pulse 0 at t=*, 45% MSO on output A*",
            "*the session did not end disarmed (fault): the journal's session_end says"
            " disarmed=False*; the simulator is still armed*",
        ]
    )


def test_device_port_without_driver_is_a_usage_error(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest(*plugin_args, "--stimctl-port", "/dev/ttyUSB0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--stimctl-port needs --stimctl-driver*"])


def test_a_project_that_does_not_use_the_plugin_is_unaffected(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.slow
        def test_plain(tmp_path):
            assert tmp_path.is_dir()
        """
    )
    pytester.makeini("[pytest]\nmarkers =\n    slow: a project's own marker\n")
    result = pytester.runpytest(*plugin_args, "--strict-markers")
    result.assert_outcomes(passed=1)


def test_the_home_fixture_isolates_journals(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makefile(".toml", study=STUDY)
    pytester.makepyfile(
        """
        import os
        from pathlib import Path

        def test_home(stimctl_home, stimctl_session):
            assert os.environ["STIMCTL_HOME"] == str(stimctl_home)
            result = stimctl_session(Path(__file__).parent / "study.toml", rmt=50)
            assert result.journal_path.parent == stimctl_home / "journals"
            assert result.journal[0]["event"] == "session_start"
        """
    )
    pytester.runpytest(*plugin_args).assert_outcomes(passed=1)


def test_plugin_import_is_light() -> None:
    heavy = ["serial", "pydantic", "stimctl.session", "stimctl.hal", "stimctl.safety", "rich"]
    code = f"import sys, stimctl.testing.plugin\nprint([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_driver_option_picks_the_simulated_model(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        def test_model(stimctl_device, stimctl_target):
            assert stimctl_device.simulated and stimctl_target.simulated
            assert stimctl_device.driver.identify().model == "BiStim²"
            assert not stimctl_device.simulator.armed
        """
    )
    result = pytester.runpytest(*plugin_args, "--stimctl-driver", "magstim-bistim")
    result.assert_outcomes(passed=1)


def test_the_simulator_factory_injects_faults_and_cleans_up(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile(
        """
        import pytest

        from stimctl.errors import ConnectionLost
        from stimctl.hal import ArmState

        LEFT_OPEN = []

        def test_faults(stimctl_simulator, stimctl_clock):
            stuck = stimctl_simulator("magpro-r30", ignore_disarm=1)
            fine = stimctl_simulator("magstim-200")
            LEFT_OPEN.extend([stuck, fine])
            stuck.driver.set_intensity(10)
            stuck.driver.arm()
            stuck.driver.wait_ready(timeout_s=5.0, poll_s=0.2)
            assert stuck.driver.disarm().arm_state is ArmState.READY
            fine.simulator.pull_cable()
            with pytest.raises(ConnectionLost):
                fine.driver.status()
            assert stimctl_clock.now() == 0.0

        def test_closed_afterwards():
            assert [c.driver.is_open for c in LEFT_OPEN] == [False, False]
        """
    )
    pytester.runpytest(*plugin_args).assert_outcomes(passed=2)


def test_every_documented_fixture_is_registered(
    pytester: pytest.Pytester, plugin_args: list[str]
) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest(*plugin_args, "--fixtures")
    for name in (
        "stimctl_home",
        "stimctl_clock",
        "stimctl_simulator",
        "stimctl_target",
        "stimctl_device",
        "stimctl_session",
    ):
        result.stdout.fnmatch_lines([f"{name} -- *stimctl*plugin.py*"])
