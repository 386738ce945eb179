"""Formats people write by hand, scaffolded (issue 16 item 2): `protocols new` writes a
commented template that `check` accepts, `protocols schema` prints the JSON Schema of
the models, and `screen SUBJECT --template` an answers file that records nothing until
every item is answered."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from stimctl.cli import main
from stimctl.errors import ExitCode
from stimctl.protocol.models import ContinuousPattern, Protocol, ThetaBurstPattern, TrainPattern
from stimctl.records import Store, screenings_of
from stimctl.safety.tables import screening_table

PATTERNS: dict[str, type[BaseModel]] = {
    "train": TrainPattern,
    "continuous": ContinuousPattern,
    "theta-burst": ThetaBurstPattern,
}


@pytest.mark.parametrize("kind", sorted(PATTERNS))
def test_a_new_protocol_of_every_kind_passes_check(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"my-{kind}.toml"
    assert main(["protocols", "new", f"my-{kind}", "--kind", kind, "-o", str(path)]) == 0
    assert str(path) in capsys.readouterr().out
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["name"] == f"my-{kind}" and data["pattern"]["kind"] == kind
    # every field of the pattern is in the file, set or commented out, with a comment
    for field in PATTERNS[kind].model_fields:
        assert re.search(rf"^#? ?{field} = .*#", text, re.M), field
    for line in text.splitlines():
        if re.match(r"^[a-z_]+ = ", line):
            assert "#" in line, f"uncommented field: {line}"
    assert main(["check", str(path), "--rmt", "55"]) == ExitCode.OK
    assert main(["check", str(path), "--rmt", "55", "--device", "magpro-x100"]) == ExitCode.OK
    assert "verdict: ALLOW" in capsys.readouterr().out


def test_new_never_overwrites_and_refuses_a_bad_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("keep me")
    assert main(["protocols", "new", "mine", "--kind", "train", "-o", str(path)]) == 2
    assert path.read_text() == "keep me"
    assert "not overwritten" in capsys.readouterr().err
    assert main(["protocols", "new", "Bad Name", "--kind", "train", "-o", "-"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "name:" in err


def test_new_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocols", "new", "x1", "--kind", "continuous", "-o", "-"]) == 0
    assert tomllib.loads(capsys.readouterr().out)["pattern"]["pulses"] == 900


def test_schema_is_the_json_schema_of_the_protocol_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["protocols", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert set(schema["properties"]) == set(Protocol.model_fields)
    assert set(schema["required"]) == {
        name for name, info in Protocol.model_fields.items() if info.is_required()
    }
    assert schema["additionalProperties"] is False  # unknown keys are errors, as in stimctl
    kinds = json.dumps(schema["properties"]["pattern"])
    for model in PATTERNS.values():
        assert f"#/$defs/{model.__name__}" in kinds


def test_the_screening_template_records_nothing_until_every_item_is_answered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["subject", "add", "S-01"]) == 0
    capsys.readouterr()
    assert main(["screen", "S-01", "--template"]) == 0
    template = capsys.readouterr().out
    items = screening_table().items
    for item_id, item in items.items():
        assert f'{item_id} = "?"' in template and item.question.split()[0] in template
    unedited = tmp_path / "answers.toml"
    unedited.write_text(template)
    assert main(["screen", "S-01", "--answers", str(unedited)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "answered_on" in err and all(f"answers.{i}:" in err for i in items)
    with Store.open() as store:
        assert screenings_of(store, "S-01") == []
    filled = tmp_path / "filled.toml"
    filled.write_text(template.replace('= "?"', "= false").replace('"YYYY-MM-DD"', "2026-01-02"))
    assert main(["screen", "S-01", "--answers", str(filled)]) == 0
    assert "recorded screening" in capsys.readouterr().out


def test_the_screening_template_refuses_a_bad_subject_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["screen", "Ann Smith", "--template"]) == ExitCode.BAD_INPUT
    assert "invalid subject id" in capsys.readouterr().err
