"""`stimctl selftest` end to end through the real entry point, against the simulators."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from stimctl import __version__
from stimctl.cli import main
from stimctl.configs import configs_dir, file_digest, names_in
from stimctl.errors import ExitCode
from stimctl.testing.expected import EXPECTED_VERDICTS, REFERENCE_DEVICE
from stimctl.testing.manifest import digests_of, load_manifest
from stimctl.testing.target import simulated_models
from tests.identity.people import as_engineer


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["selftest", *args])
    out, err = capsys.readouterr()
    return code, (out + err).splitlines()


def failures(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAIL")]


@pytest.fixture
def local_configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped configs that the installation uses (STIMCTL_CONFIGS)."""
    copy = tmp_path / "configs"
    shutil.copytree(configs_dir(), copy)
    monkeypatch.setenv("STIMCTL_CONFIGS", str(copy))
    return copy


def test_passes_against_every_simulated_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(capsys)
    assert failures(lines) == []
    assert code == ExitCode.OK
    for model in simulated_models():
        assert f"PASS  device {model}: e-stop disarms" in "\n".join(lines)
    assert lines[-1].startswith("selftest PASSED: ")


@pytest.mark.parametrize(
    ("model", "fault", "failing"),
    [
        (
            "magstim-200",
            "ignore_disarm=1",
            [
                "FAIL  device magstim-200 ignore_disarm=1: arm and disarm - the device is "
                "still armed after the first disarm (it reads ready)",
                "FAIL  device magstim-200 ignore_disarm=1: e-stop disarms - the e-stop did not "
                "disarm the device: device reports ready",
            ],
        ),
        (
            "magpro-x100",
            "ignore_disarm=1",
            [
                "FAIL  device magpro-x100 ignore_disarm=1: arm and disarm - the device is "
                "still armed after the first disarm (it reads ready)",
                "FAIL  device magpro-x100 ignore_disarm=1: e-stop disarms - the e-stop did not "
                "disarm the device: device reports ready",
            ],
        ),
        (
            "magstim-rapid2",
            "keepalive_never_lapses=1",
            [
                "FAIL  device magstim-rapid2-super-plus-240v keepalive_never_lapses=1: "
                "keep-alive lapse disarms - the device was still armed 2.5 s after the host's "
                "keep-alive stopped: its own watchdog did not disarm it (device-protocols A6)",
            ],
        ),
    ],
)
def test_a_faulty_simulator_fails_with_a_clear_line(
    capsys: pytest.CaptureFixture[str], model: str, fault: str, failing: list[str]
) -> None:
    code, lines = run(capsys, "--driver", model, "--sim-option", fault, "--only", "device")
    assert failures(lines) == failing
    assert code == ExitCode.BLOCKED
    assert lines[-1].startswith("selftest FAILED: ")
    assert f", {len(failing)} failed, " in lines[-1]


def test_a_connected_device_is_never_fired(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a simulator on its own URL stands in for hardware: real time, the hardware rules
    code, lines = run(
        capsys, "--driver", "magpro-x100", "--port", "stimsim://magpro-x100", "--only", "device",
        *as_engineer(monkeypatch),
    )  # fmt: skip
    assert code == ExitCode.OK, lines
    assert (
        "SKIP  device magpro-x100 on stimsim://magpro-x100: one trigger, one pulse - "
        "simulator only: the self-test never fires a real device"
    ) in lines


def test_a_locally_edited_safety_table_is_reported(
    capsys: pytest.CaptureFixture[str], local_configs: Path
) -> None:
    with (local_configs / "safety" / "limits.toml").open("a") as table:
        table.write("\n# raised locally\n")
    (local_configs / "devices" / "magstim-200.toml").unlink()
    (local_configs / "protocols" / "our-own.toml").write_text("# a site's own protocol\n")
    code, lines = run(capsys, "--only", "configs")
    assert code == ExitCode.BLOCKED
    assert failures(lines) == [
        f"FAIL  configs: safety/ matches the shipped digests - locally modified: "
        f"safety/limits.toml (in {local_configs})",
        f"FAIL  configs: devices/ matches the shipped digests - devices/magstim-200.toml "
        f"missing (in {local_configs})",
    ]
    assert "plus local files protocols/our-own.toml" in "\n".join(lines)


def test_a_shipped_protocol_with_another_verdict_fails_naming_the_rule(
    capsys: pytest.CaptureFixture[str], local_configs: Path
) -> None:
    path = local_configs / "protocols" / "np-m1-10hz-80.toml"
    text = path.read_text()
    assert "inter_train_interval_s" in text
    edited = "\n".join(
        "inter_train_interval_s = 1.0" if line.startswith("inter_train_interval_s") else line
        for line in text.splitlines()
    )
    path.write_text(edited + "\n")
    code, lines = run(capsys, "--only", "protocols")
    assert code == ExitCode.BLOCKED
    # without a device and on the reference device (issue 16: the demo's device)
    line, on_device = failures(lines)
    # 1 s pauses at 80% RMT: tested only above 100% MT, so an override (not a block)
    assert line.startswith("FAIL  protocols: np-m1-10hz-80 - verdict override, expected allow: ")
    assert "ITI-4 (Chen et al. 1997" in line
    assert on_device.startswith(
        f"FAIL  protocols: np-m1-10hz-80 on {REFERENCE_DEVICE} - verdict override"
    )


def test_a_journal_check_that_misses_an_edit_fails(
    capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    import stimctl.journal

    real = stimctl.journal.verify

    def blind(path: Path | str, **kwargs: object) -> object:
        # a verifier that never sees an edit: every journal reads as the untouched sample
        return real(Path(path).with_name("selftest-sample.jsonl"))

    mocker.patch.object(stimctl.journal, "verify", blind)
    code, lines = run(capsys, "--only", "journal")
    assert code == ExitCode.BLOCKED
    assert failures(lines) == [
        "FAIL  journal: an edited journal is flagged - the edit went unnoticed"
    ]


def test_json_carries_every_check_and_the_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run(
        capsys, "--driver", "magstim-200", "--sim-option", "ignore_disarm=1", "--json"
    )
    data = json.loads("\n".join(lines))
    assert code == ExitCode.BLOCKED
    assert data["ok"] is False
    assert data["counts"]["fail"] == 2
    assert data["software"]["stimctl"] == __version__
    assert data["devices"][0]["identity"]["vendor"] == "Magstim"
    failed = [c["name"] for c in data["checks"] if c["outcome"] == "fail"]
    assert failed == ["arm and disarm", "e-stop disarms"]


def test_the_report_is_a_record_to_sign(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = tmp_path / "selftest.md"
    code, lines = run(capsys, "--driver", "magpro-x100", "--report", str(report))
    text = report.read_text()
    assert code == ExitCode.OK
    assert f"record written to {report}" in lines
    assert "- **Result:** PASSED (" in text
    assert f"stimctl {__version__}" in text
    assert "| magpro-x100 | MagVenture | MagPro X100 | - | 74565 |" in text
    limits = configs_dir() / "safety" / "limits.toml"
    assert f"| limits.toml | `{file_digest(limits)}` | yes |" in text
    checks = [line for line in lines if line[:4] in ("PASS", "FAIL", "SKIP")]
    assert text.count("\n| ") - text.count("\n| Target") >= len(checks)
    assert "Tested by (name): ____" in text
    assert "Signature: ____" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--port", "/dev/ttyUSB0"), "--port needs --driver"),
        (("--driver", "magstim-300"), "unknown model 'magstim-300'"),
        (("--sim-option", "ignore_disarm"), "--sim-option 'ignore_disarm': expected KEY=VALUE"),
    ],
)
def test_bad_input_is_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, lines = run(capsys, *args)
    assert code == ExitCode.BAD_INPUT
    assert message in "\n".join(lines)


def test_the_shipped_manifest_matches_configs() -> None:
    repo_configs = Path(__file__).resolve().parents[2] / "configs"
    assert digests_of(repo_configs) == load_manifest(), (
        "configs/ changed: run `.venv/bin/python -m stimctl.testing.manifest --write` "
        "and commit stimctl/testing/configs_manifest.json"
    )


def test_every_shipped_protocol_has_an_expected_verdict() -> None:
    assert set(names_in("protocols")) == set(EXPECTED_VERDICTS)


def test_a_device_that_cannot_be_opened_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = str(tmp_path / "ttyUSB9")
    engineer = as_engineer(monkeypatch)
    code, lines = run(
        capsys, "--driver", "magpro-x100", "--port", port, "--only", "device", *engineer
    )
    assert code == ExitCode.BLOCKED
    [line] = failures(lines)
    assert line.startswith(
        f"FAIL  device magpro-x100 on {port}: connect - could not open the device: TransportError"
    )


def test_a_failed_battery_is_recorded_as_failed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "selftest.md"
    args = ("--driver", "magpro-r30", "--sim-option", "ignore_disarm=1", "--only", "device")
    code, _ = run(capsys, *args, "--report", str(report))
    text = report.read_text()
    assert code == ExitCode.BLOCKED
    assert "- **Result:** FAILED (4 passed, 2 failed, 2 skipped)" in text
    assert "| **FAIL** | device magpro-r30 ignore_disarm=1 | e-stop disarms |" in text


def test_a_seal_check_that_misses_a_cut_or_a_foreign_key_fails(
    capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    import stimctl.journal.attest
    from stimctl.journal.attest import Attestation, Outcome

    def blind(data: bytes, **kwargs: object) -> Attestation:
        return Attestation(Outcome.INTACT, "ok", "looks fine")  # sees nothing

    mocker.patch.object(stimctl.journal.attest, "attest", blind)
    code, lines = run(capsys, "--only", "journal")
    assert code == ExitCode.BLOCKED
    assert failures(lines) == [
        "FAIL  journal: a journal cut before its seal is flagged - intact: looks fine",
        "FAIL  journal: a seal by a key not on record is flagged - intact: looks fine",
    ]


def test_a_connected_device_is_tested_only_by_an_authenticated_engineer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, mocker: MockerFixture
) -> None:
    # The self-test arms a real device (at 10% MSO): the roles table gives "run the
    # self-test" to the engineer; anyone could, before.
    from stimctl.records import Store
    from stimctl.testing import target
    from tests.identity.people import SECRETS, register

    with Store.open() as store:
        register(store, "dr-lee")
    opened = mocker.spy(target, "_hardware_connection")
    device = ("--driver", "magpro-x100", "--port", "stimsim://magpro-x100", "--only", "device")
    code, lines = run(capsys, *device)
    assert code == ExitCode.AUTH and "engineer" in lines[-1]
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(SECRETS["dr-lee"] + "\n"))
    code, lines = run(capsys, *device, "--by", "dr-lee", "--password-stdin")
    assert code == ExitCode.AUTH  # a physician is not an engineer
    assert opened.call_count == 0  # no port was opened
    code, lines = run(capsys, *device, *as_engineer(monkeypatch))
    assert code == ExitCode.OK, lines
    assert opened.call_count > 0
    # Simulators need no one: the battery of the shipped models runs for anyone (CI).
    code, lines = run(capsys, "--driver", "magpro-x100", "--only", "device")
    assert code == ExitCode.OK
