"""MEP sources that live in stimctl: the operator at the console and a replayed file.

The third source, the virtual subject, lives in `simulators/` and is reached only through
`stimctl.rmt.registry` (ARCHITECTURE rule 1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stimctl.errors import ConfigError
from stimctl.rmt.readings import MepReading

_YES = {"y", "yes"}
_NO = {"n", "no"}


def parse_reading(text: str) -> MepReading:
    """`yes`/`no` (a visible twitch) or an amplitude in µV; ConfigError otherwise."""
    word = text.strip().lower()
    if word in _YES:
        return MepReading(visible=True)
    if word in _NO:
        return MepReading(visible=False)
    if word.endswith("uv") or word.endswith("µv"):
        word = word[:-2].strip()
    try:
        value = float(word)
    except ValueError:
        raise ConfigError(
            f"{text.strip()!r} is neither yes/no nor an amplitude in µV (e.g. 72.5)"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"amplitude {text.strip()!r} must be a finite number >= 0 µV")
    return MepReading(amplitude_uv=value)


class OperatorSource:
    """An operator answering after each pulse: yes/no (visible twitch) or an amplitude.

    `prompt(question) -> answer` is injected: click.prompt in the CLI, a list in tests.
    A bad answer is explained through `tell` and asked again, `attempts` times at most.
    With `device_fires`, the stimulator has already fired through its driver and the
    question only asks for the response.
    """

    def __init__(
        self,
        prompt: Callable[[str], str],
        tell: Callable[[str], None] = lambda _message: None,
        *,
        attempts: int = 5,
        device_fires: bool = False,
    ) -> None:
        self._prompt = prompt
        self._tell = tell
        self._attempts = attempts
        self._device_fires = device_fires

    def response(self, intensity_percent_mso: int) -> MepReading:
        if self._device_fires:
            question = f"Pulse at {intensity_percent_mso} % MSO delivered. Response? (yes/no or µV)"
        else:
            # Asked when the inter-pulse interval has passed: the question is the cue to fire.
            question = (
                f"Fire one pulse at {intensity_percent_mso} % MSO now. Response? (yes/no or µV)"
            )
        for _ in range(self._attempts):
            try:
                return parse_reading(self._prompt(question))
            except ConfigError as exc:
                self._tell(str(exc))
        raise ConfigError(f"no valid answer after {self._attempts} attempts")


@dataclass(frozen=True)
class ReplayRow:
    line: int
    intensity: int | None
    reading: MepReading


_SPLIT = re.compile(r"[\t,;]|\s+")


def load_amplitude_file(path: Path) -> list[ReplayRow]:
    """Read a replay file: one amplitude (µV, or yes/no) per line, or `intensity<TAB>amplitude`.

    Comma, semicolon, tab or spaces separate columns; `#` starts a comment; one header
    line whose fields are not numbers is allowed at the top. Any other bad line is a
    ConfigError naming the file and the line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read amplitude file {path}: {exc}") from exc
    rows: list[ReplayRow] = []
    header_allowed = True
    columns: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f for f in _SPLIT.split(line) if f]
        where = f"{path}:{number}"
        if header_allowed and not any(_is_reading(f) for f in fields):
            header_allowed = False
            continue
        header_allowed = False
        if len(fields) not in (1, 2):
            raise ConfigError(f"{where}: expected 1 or 2 columns, got {len(fields)}: {raw!r}")
        if columns is None:
            columns = len(fields)
        elif len(fields) != columns:
            raise ConfigError(f"{where}: {len(fields)} columns where earlier lines had {columns}")
        intensity: int | None = None
        if len(fields) == 2:
            intensity = _parse_intensity(fields[0], where)
        try:
            reading = parse_reading(fields[-1])
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        rows.append(ReplayRow(number, intensity, reading))
    if not rows:
        raise ConfigError(f"amplitude file {path} has no readings")
    return rows


def _is_reading(field: str) -> bool:
    try:
        parse_reading(field)
    except ConfigError:
        return False
    return True


def _parse_intensity(field: str, where: str) -> int:
    try:
        value = float(field)
    except ValueError:
        raise ConfigError(f"{where}: intensity {field!r} is not a number of % MSO") from None
    if not value.is_integer() or not 0 < value <= 100:
        raise ConfigError(f"{where}: intensity {field!r} must be a whole % MSO in 1..100")
    return int(value)


class FileSource:
    """Replays recorded responses in order.

    With an intensity column, each row must match the intensity the method asks for:
    a replay that diverges from the recording is an error, not a silent mismatch.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows = load_amplitude_file(path)
        self._next = 0

    @property
    def remaining(self) -> int:
        return len(self._rows) - self._next

    def response(self, intensity_percent_mso: int) -> MepReading:
        if self._next >= len(self._rows):
            raise ConfigError(
                f"amplitude file {self.path} ran out after {len(self._rows)} readings"
            )
        row = self._rows[self._next]
        if row.intensity is not None and row.intensity != intensity_percent_mso:
            raise ConfigError(
                f"{self.path}:{row.line}: recorded at {row.intensity} % MSO but the method "
                f"asked for {intensity_percent_mso} % MSO; the replay has diverged"
            )
        self._next += 1
        return row.reading
