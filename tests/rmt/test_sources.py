"""Operator answers and amplitude-file replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from stimctl.clock import VirtualClock
from stimctl.errors import ConfigError
from stimctl.rmt import FileSource, MepReading, MepSource, OperatorSource, RelativeFrequency, hunt
from stimctl.rmt.sources import parse_reading


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("yes", MepReading(visible=True)),
        (" Y ", MepReading(visible=True)),
        ("no", MepReading(visible=False)),
        ("72.5", MepReading(amplitude_uv=72.5)),
        ("0", MepReading(amplitude_uv=0.0)),
        ("48 uV", MepReading(amplitude_uv=48.0)),
    ],
)
def test_answers_parse(text: str, reading: MepReading) -> None:
    assert parse_reading(text) == reading


@pytest.mark.parametrize("text", ["maybe", "-3", "nan", "inf", "", "12 mV"])
def test_bad_answers_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_reading(text)


def test_operator_is_asked_again_after_a_bad_answer() -> None:
    answers = iter(["perhaps", "120"])
    told: list[str] = []
    questions: list[str] = []

    def prompt(question: str) -> str:
        questions.append(question)
        return next(answers)

    source = OperatorSource(prompt, told.append)
    assert source.response(63) == MepReading(amplitude_uv=120.0)
    assert len(told) == 1 and "perhaps" in told[0]
    assert "63 % MSO" in questions[0]


def test_operator_source_gives_up_after_its_attempts() -> None:
    source = OperatorSource(lambda _q: "??", attempts=3)
    with pytest.raises(ConfigError, match="3 attempts"):
        source.response(50)


def test_operator_is_a_mep_source_and_drives_a_hunt() -> None:
    # Visible twitch at or above 57 % MSO, answered by "the operator".
    asked: list[int] = []

    def prompt(question: str) -> str:
        intensity = int(question.split(" at ")[1].split(" ")[0])
        assert "now" in question
        asked.append(intensity)
        return "yes" if intensity >= 57 else "no"

    source = OperatorSource(prompt)
    assert isinstance(source, MepSource)
    result = hunt(RelativeFrequency(60), source, clock=VirtualClock())
    assert (result.rmt, result.measurement) == (57, "visual")
    assert asked == [p.intensity for p in result.trace]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "amplitudes.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def test_single_column_replay_in_order(tmp_path: Path) -> None:
    path = write(tmp_path, "# recorded 2026-11-20\namplitude_uv\n120\n30.5\n\nyes\n")
    source = FileSource(path)
    assert [source.response(60).amplitude_uv for _ in range(2)] == [120.0, 30.5]
    assert source.response(59) == MepReading(visible=True)
    assert source.remaining == 0
    with pytest.raises(ConfigError, match="ran out"):
        source.response(59)


def test_two_column_replay_reproduces_a_recorded_hunt(tmp_path: Path) -> None:
    # Record a hunt against a step subject, write it out, replay it: same result.
    from tests.rmt.helpers import StepSubject

    original = hunt(RelativeFrequency(64), StepSubject(61), clock=VirtualClock())
    lines = ["intensity,amplitude_uv"] + [f"{p.intensity},{p.amplitude_uv}" for p in original.trace]
    path = write(tmp_path, "\n".join(lines) + "\n")
    replayed = hunt(RelativeFrequency(64), FileSource(path), clock=VirtualClock())
    assert replayed.rmt == original.rmt == 61
    assert [p.amplitude_uv for p in replayed.trace] == [p.amplitude_uv for p in original.trace]


def test_tab_separated_columns(tmp_path: Path) -> None:
    source = FileSource(write(tmp_path, "60\t75.0\n59\t20\n"))
    assert source.response(60).amplitude_uv == 75.0
    assert source.response(59).amplitude_uv == 20.0


def test_a_replay_that_diverges_from_the_recording_is_an_error(tmp_path: Path) -> None:
    source = FileSource(write(tmp_path, "60,75\n59,20\n"))
    source.response(60)
    with pytest.raises(ConfigError, match=r"amplitudes.tsv:2.*diverged"):
        source.response(58)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("120\nabc\n", 2),
        ("120\n-4\n", 2),
        ("120\n1 2 3\n", 2),
        ("60,120\n75\n", 2),
        ("60,120\n101,80\n", 2),
        ("60.5,120\n", 1),
        ("120\nnan\n", 2),
        ("header\nother header\n", 2),
    ],
)
def test_bad_lines_are_config_errors_naming_the_line(tmp_path: Path, text: str, line: int) -> None:
    with pytest.raises(ConfigError, match=rf"amplitudes.tsv:{line}:"):
        FileSource(write(tmp_path, text))


@pytest.mark.parametrize("text", ["", "# only a comment\n", "amplitude\n"])
def test_a_file_without_readings_is_a_config_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="no readings"):
        FileSource(write(tmp_path, text))


def test_a_missing_or_binary_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        FileSource(tmp_path / "missing.tsv")
    binary = tmp_path / "binary.tsv"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ConfigError, match="cannot read"):
        FileSource(binary)
