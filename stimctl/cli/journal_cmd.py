"""`stimctl journal verify|show`: check and read session journals.

PATH is a journal file or a session id (``$STIMCTL_HOME/journals/<id>.jsonl``).
Exit codes: 0 intact (a torn last line from a crash is reported but is not tampering),
1 tampered (one line naming the first bad line and why), 2 missing or unreadable file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from stimctl.errors import ExitCode
from stimctl.journal.paths import resolve_journal
from stimctl.journal.verify import VerifyResult, read_bytes, verify_bytes


@click.group()
def journal() -> None:
    """Verify and inspect session journals."""


@journal.command("verify")
@click.argument("path")
@click.option(
    "--head",
    "expected_head",
    metavar="SHA256",
    help="Chain head stored with the session; the journal must still contain it.",
)
@click.pass_context
def verify_cmd(ctx: click.Context, path: str, expected_head: str | None) -> None:
    """Check the hash chain of a journal (PATH or session id)."""
    target = resolve_journal(path)
    result = verify_bytes(read_bytes(target), expected_head=expected_head)
    click.echo(f"{target}: {_verdict(result)}")
    if not result.ok:
        ctx.exit(ExitCode.OVERRIDE_REQUIRED)


@journal.command("show")
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print the records and verdict as JSON.")
@click.pass_context
def show_cmd(ctx: click.Context, path: str, as_json: bool) -> None:
    """List a journal's records (PATH or session id) and its verdict."""
    target = resolve_journal(path)
    data = read_bytes(target)
    result = verify_bytes(data)
    lines = data.split(b"\n")[: result.records]
    if as_json:
        click.echo(json.dumps(_as_json(target, lines, result), ensure_ascii=False, indent=2))
    else:
        for lineno, line in enumerate(lines, start=1):
            marker = "!!" if lineno == result.first_bad_line and not result.ok else "  "
            click.echo(f"{marker}{_format_line(line)}")
        if result.truncated:
            torn = result.torn_tail.decode("utf-8", errors="backslashreplace")
            click.echo(f"~~ torn last line ({len(result.torn_tail)} bytes): {torn}")
        click.echo(f"{target}: {_verdict(result)}")
    if not result.ok:
        ctx.exit(ExitCode.OVERRIDE_REQUIRED)


def _verdict(result: VerifyResult) -> str:
    if result.ok:
        return f"{result.reason}; head {result.head}"
    return f"TAMPERED: line {result.first_bad_line}: {result.reason}"


def _format_line(line: bytes) -> str:
    record = _try_parse(line)
    if record is None:
        return f"{'?':>5}  unparseable: {line.decode('utf-8', errors='backslashreplace')}"
    payload = json.dumps(record.get("payload"), ensure_ascii=False, separators=(", ", ": "))
    mono = record.get("mono")
    mono_text = f"{mono:12.6f}" if isinstance(mono, int | float) else f"{mono!s:>12}"
    return (
        f"{record.get('seq')!s:>5}  {record.get('utc')}  {mono_text}  "
        f"{record.get('actor')!s:<16} {record.get('event')!s:<13} {payload}"
    )


def _as_json(target: Path, lines: list[bytes], result: VerifyResult) -> dict[str, Any]:
    records: list[Any] = []
    unparsed: list[dict[str, Any]] = []
    for lineno, line in enumerate(lines, start=1):
        record = _try_parse(line)
        if record is None:
            unparsed.append({"line": lineno, "raw": line.decode("utf-8", "backslashreplace")})
        else:
            records.append(record)
    return {
        "path": str(target),
        "ok": result.ok,
        "records": result.records,
        "head": result.head,
        "first_bad_line": result.first_bad_line,
        "reason": result.reason,
        "truncated": result.truncated,
        "closed": result.closed,
        "status": result.status,
        "entries": records,
        "unparsed_lines": unparsed,
    }


def _try_parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line.decode("utf-8"))
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
