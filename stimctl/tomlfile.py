"""Read a TOML file and validate it with a pydantic model, with one-line errors.

Every failure names the file, the field path and the problem, e.g.
`protocols/x.toml: pattern.frequency_hz: Input should be greater than 0 (got -10)`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from stimctl.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

# pydantic puts the tag of a discriminated union into the error location
# (pattern.train.frequency_hz); users wrote pattern.frequency_hz, so the tags are dropped.
_UNION_TAGS = frozenset({"train", "continuous", "theta-burst"})


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively: 5000 `[` exhaust the
        # stack. No stimctl file nests more than three levels.
        raise ConfigError(f"{path}: malformed TOML: arrays or tables nested too deep") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


MAX_LISTED_PROBLEMS = 25
"""How many problems of one file are listed, one line each; the rest are counted."""


def _problem(error: Any) -> str:
    parts = [shorten(str(part), 40) for part in error["loc"] if part not in _UNION_TAGS]
    where = ".".join(parts) or "(top level)"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif "input" in error and error["type"] not in ("missing",):
        message = f"{message} (got {shorten(repr(error['input']))})"
    return f"{where}: {message}"


def validation_problems(exc: ValidationError) -> tuple[str, ...]:
    """Every problem of a ValidationError, one line each with its key path, capped."""
    problems = [_problem(error) for error in exc.errors()]
    listed = problems[:MAX_LISTED_PROBLEMS]
    if len(problems) > len(listed):
        listed.append(f"(and {len(problems) - len(listed)} more problems not listed)")
    return tuple(listed)


def describe_validation_error(origin: str, exc: ValidationError) -> str:
    """The first problem of a ValidationError as one line (plus a count of the rest)."""
    errors = exc.errors()
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{origin}: {_problem(errors[0])}{more}"


def shorten(text: str, limit: int = 60) -> str:
    """`text` cut to `limit` characters with an ellipsis: a 10 MB field is not echoed."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate(model: type[M], data: dict[str, Any], origin: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc)
        if len(problems) == 1:
            raise ConfigError(f"{origin}: {problems[0]}") from None
        count = len(exc.errors())
        raise ConfigError(f"{origin}: {count} problems, one a line:", problems) from None
    except RecursionError:  # a nested structure built in code rather than read from TOML
        raise ConfigError(f"{origin}: values nested too deep") from None


def load_model(model: type[M], path: Path) -> M:
    return validate(model, read_toml(path), str(path))
