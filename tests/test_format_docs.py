"""The hand-written file formats are documented, and the docs agree with the code.

docs/protocol-format.md names every field of the protocol models and its complete example
is accepted by `check`; docs/screening-format.md names every field and questionnaire item
and its example loads. A protocol file with many problems lists them all (issue 16 item 2).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from stimctl.cli import main
from stimctl.protocol.models import (
    ContinuousPattern,
    Protocol,
    ThetaBurstPattern,
    TrainPattern,
)
from stimctl.safety.screening_file import ScreeningFile, load_screening
from stimctl.safety.tables import screening_table
from stimctl.tomlfile import MAX_LISTED_PROBLEMS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _toml_example(doc: str) -> str:
    blocks = re.findall(r"```toml\n(.*?)```", (DOCS / doc).read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, f"{doc} should hold exactly one complete TOML example"
    return str(blocks[0])


def _field_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation: Any = info.annotation
        nested = [
            arg
            for arg in (getattr(annotation, "__args__", None) or (annotation,))
            if isinstance(arg, type) and issubclass(arg, BaseModel)
        ]
        if name == "pattern":
            nested = [TrainPattern, ContinuousPattern, ThetaBurstPattern]
        if nested:
            for sub in nested:
                paths |= _field_paths(sub, f"{path}.")
        else:
            paths.add(path)
    return paths


def test_protocol_format_doc_names_every_field_of_the_models() -> None:
    text = (DOCS / "protocol-format.md").read_text(encoding="utf-8")
    paths = _field_paths(Protocol)
    assert "pattern.burst_rate_hz" in paths and "intensity.muscle" in paths
    missing = sorted(p for p in paths if f"`{p}`" not in text)
    assert not missing, f"docs/protocol-format.md does not describe {missing}"
    assert "(protocol-limits.md)" in text


def test_protocol_format_example_loads_and_is_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "my-protocol.toml"
    path.write_text(_toml_example("protocol-format.md"), encoding="utf-8")
    assert main(["check", str(path), "--rmt", "55"]) == 0
    assert "verdict: ALLOW" in capsys.readouterr().out


def test_screening_format_doc_names_every_field_and_item(tmp_path: Path) -> None:
    text = (DOCS / "screening-format.md").read_text(encoding="utf-8")
    wanted = set(ScreeningFile.model_fields) | set(screening_table().items)
    missing = sorted(name for name in wanted if f"`{name}`" not in text)
    assert not missing, f"docs/screening-format.md does not describe {missing}"
    path = tmp_path / "answers.toml"
    path.write_text(_toml_example("screening-format.md"), encoding="utf-8")
    screening = load_screening(path)
    assert set(screening.answers) == set(screening_table().items)
    assert screening.medications == ("sertraline",)


@pytest.mark.parametrize("verbose", [[], ["-v"]])
def test_a_protocol_with_many_problems_lists_them_all_one_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], verbose: list[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "Bad Name"\ntitle = ""\n[pattern]\nkind = "train"\nfrequency_hz = -1\n',
        encoding="utf-8",
    )
    assert main([*verbose, "check", str(path), "--rmt", "55"]) == 2
    err = capsys.readouterr().err
    assert "more problems" not in err
    lines = err.splitlines()
    assert lines[0] == f"stimctl: error: {path}: 10 problems, one a line:"
    for expected in (
        "  schema_version: Field required",
        "  name: String should match pattern",
        "  title: String should have at least 1 character",
        "  indication: Field required",
        "  source: Field required",
        "  target: Field required",
        "  coil: Field required",
        "  intensity: Field required",
        "  pattern.frequency_hz: Input should be greater than or equal to 0.1 (got -1)",
        "  pattern.trains: Field required",
    ):
        assert any(line.startswith(expected) for line in lines), expected
    assert len(lines) == 11


def test_the_list_of_problems_is_capped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("".join(f"typo_{i} = 1\n" for i in range(40)), encoding="utf-8")
    assert main(["check", str(path), "--rmt", "55"]) == 2
    lines = capsys.readouterr().err.splitlines()
    total = 40 + 9  # the typos, and the nine required keys that are missing
    assert lines[0].endswith(f": {total} problems, one a line:")
    assert len(lines) == 1 + MAX_LISTED_PROBLEMS + 1
    assert lines[-1] == f"  (and {total - MAX_LISTED_PROBLEMS} more problems not listed)"
