"""Session reports from a journal: HTML (clinician), JSON (everything), TSV (one row a train).

`write_report(journal, fmt, output)` is what the CLI and the console call; the pieces
(`load_session`, `render_html`, `report_dict`, `tsv`) are public for tests and tools.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Literal

from stimctl.errors import ConfigError
from stimctl.report.content import report_dict, tsv
from stimctl.report.html import GENERATED_PREFIX, render_html
from stimctl.report.model import SessionData, load_session

Format = Literal["html", "json", "tsv"]
FORMATS: tuple[Format, ...] = ("html", "json", "tsv")


def render(data: SessionData, fmt: Format, *, generated: dt.datetime | None = None) -> str:
    if fmt == "html":
        return render_html(data, generated=generated)
    if fmt == "json":
        return json.dumps(report_dict(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "tsv":
        return tsv(data)
    raise ConfigError(f"report format {fmt!r} is not one of {', '.join(FORMATS)}")


def reports_dir() -> Path:
    from stimctl.journal import stimctl_home

    return stimctl_home() / "reports"


def default_report_path(journal: Path, fmt: Format) -> Path:
    """``$STIMCTL_HOME/reports/<session id>.<fmt>``."""
    return reports_dir() / f"{journal.stem}.{fmt}"


def write_report(
    journal: Path,
    fmt: Format = "html",
    output: Path | None = None,
    *,
    generated: dt.datetime | None = None,
    data: SessionData | None = None,
) -> Path:
    """Render the report of `journal` (or its already loaded `data`) and write it;
    returns the path written."""
    data = data if data is not None else load_session(journal)
    target = output or default_report_path(journal, fmt)
    text = render(data, fmt, generated=generated)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {target}: {exc.strerror or exc}") from exc
    return target


__all__ = [
    "FORMATS",
    "GENERATED_PREFIX",
    "Format",
    "SessionData",
    "default_report_path",
    "load_session",
    "render",
    "render_html",
    "report_dict",
    "reports_dir",
    "tsv",
    "write_report",
]
