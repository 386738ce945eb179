"""A protocol path that exists but is not a regular file (a device, a folder) is named as
such, not as missing: a tired operator who typed /dev/zero or a folder learns what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.cli import main
from stimctl.errors import ExitCode


@pytest.mark.parametrize("target", ["/dev/zero", "folder"])
def test_a_path_that_is_not_a_regular_file_says_so(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if target == "folder":
        (tmp_path / "folder.toml").mkdir()
        target = str(tmp_path / "folder.toml")
    code = main(["check", target, "--rmt", "50"])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT
    assert f"{target}: not a regular file" in err and "no such file" not in err


def test_a_missing_path_still_says_no_such_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "absent.toml")
    assert main(["check", missing, "--rmt", "50"]) == ExitCode.BAD_INPUT
    assert f"{missing}: no such file" in capsys.readouterr().err
