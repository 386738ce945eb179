"""`stimctl journal verify|show`: check and read session journals.

TARGET is a journal file or a session id (its row's journal, else
``$STIMCTL_HOME/journals/<id>.jsonl``). `verify` checks the hash chain, the seal, the
signatures against the keys on record, and the session's row in the store (chain head,
pulse count, status, session id), and prints one line.

Exit codes (`stimctl.errors.ExitCode`):

* 0 intact: sealed and consistent with the store; signed, or "intact but UNSIGNED" for a
  journal written when the installation had no key (``--require-signature``: 8);
* 6 unfinished: the session is running, or crashed and waits for crash recovery (the
  next `run`/`dry-run` closes it as interrupted); a torn last line is reported here;
* 8 tampered: one line saying what was found (truncation, edit, swap, forged or replayed
  seal, a row that disagrees, a missing journal, ...);
* 2 no such journal or session, or a file that is not a journal at all (no line of it is
  a journal record, and it is neither in the journals folder nor on record; `report`
  shares the rule through `attest_target`).

`show` lists the records and marks the first line where the hash chain breaks (exit 8);
its verdict is the chain's alone: use `verify` for the seal, signatures and the store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stimctl.errors import ConfigError, ExitCode
from stimctl.journal.paths import journal_path, resolve_journal
from stimctl.journal.verify import VerifyResult, read_bytes, verify_bytes

if TYPE_CHECKING:
    from stimctl.journal.attest import Attestation
    from stimctl.records.store import Store


@click.group()
def journal() -> None:
    """Verify and inspect session journals."""


def attest_target(target: str) -> tuple[Path | None, Attestation]:
    """The journal TARGET names and its verdict; the path is None when the store has the
    session but its journal is gone (the verdict then says so). A file that is not a
    journal at all is a ConfigError (exit 2), not a verdict (`journal verify`, `report`)."""
    from stimctl.records.journal_check import (
        attest_path,
        attest_session,
        find_row,
        open_existing_store,
    )

    store = open_existing_store()
    try:
        candidate = Path(target)
        if candidate.exists():
            _refuse_a_file_that_is_not_a_journal(candidate, store)
            return candidate, attest_path(candidate, store)
        row = None if store is None else find_row(store, target)
        if store is not None and row is not None:
            verdict = attest_session(store, target)
            from stimctl.records.journal_store import journal_file  # or the store's copy

            return journal_file(store, row), verdict
        try:
            by_id = journal_path(target)
        except ConfigError:
            by_id = None
        if by_id is not None and by_id.exists():
            return by_id, attest_path(by_id, store)
        resolve_journal(target)  # raises the usual "no journal" ConfigError
        raise ConfigError(f"no journal at {target}")
    finally:
        if store is not None:
            store.close()


def _refuse_unless_a_journal(path: Path) -> None:
    """`_refuse_a_file_that_is_not_a_journal` with the record store, if there is one."""
    from stimctl.records.journal_check import open_existing_store

    store = open_existing_store()
    try:
        _refuse_a_file_that_is_not_a_journal(path, store)
    finally:
        if store is not None:
            store.close()


def _refuse_a_file_that_is_not_a_journal(path: Path, store: Store | None) -> None:
    """A path to something that was never a journal is bad input, not tampering: exit 8
    stays the verdict on a real journal. A file in the journals folder or on record is a
    journal whatever is left of it (truncated to nothing is tampering)."""
    from stimctl.journal import journals_dir
    from stimctl.journal.writer import JOURNAL_SUFFIX
    from stimctl.records.journal_check import find_row

    if not path.is_file() or _has_a_journal_record(path):
        return
    if path.resolve().parent == journals_dir().resolve():
        return
    session_id = path.name.removesuffix(JOURNAL_SUFFIX)
    if store is not None and find_row(store, session_id) is not None:
        return
    raise ConfigError(
        f"{path} is not a stimctl journal (no line of it is a journal record); "
        "give a session id or a journal file (.jsonl)"
    )


def _has_a_journal_record(path: Path) -> bool:
    from stimctl.journal.record import schema_problem

    with path.open("rb") as file:
        for line in file:
            try:
                obj = json.loads(line)
            except ValueError:  # also UnicodeDecodeError
                continue
            if schema_problem(obj) is None:
                return True
    return False


@journal.command("verify")
@click.argument("target")
@click.option(
    "--head",
    "expected_head",
    metavar="SHA256",
    help="A chain head kept elsewhere; the journal must still contain it.",
)
@click.option(
    "--require-signature",
    is_flag=True,
    help="Treat an unsigned journal as tampered (exit 8).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as one JSON object.")
@click.pass_context
def verify_cmd(
    ctx: click.Context,
    target: str,
    expected_head: str | None,
    require_signature: bool,
    as_json: bool,
) -> None:
    """Check a journal (TARGET: a path or a session id) against everything on record."""
    from stimctl.journal.attest import Attestation, Outcome

    path, verdict = attest_target(target)
    if expected_head is not None and path is not None and not verdict.tampered:
        chain = verify_bytes(read_bytes(path), expected_head=expected_head)
        if not chain.ok:
            verdict = Attestation(
                Outcome.TAMPERED,
                "head-given",
                f"line {chain.first_bad_line}: {chain.reason}",
                session_id=verdict.session_id,
            )
    code = verdict.exit_code(require_signature=require_signature)
    shown = path if path is not None else target
    if as_json:
        click.echo(
            json.dumps(
                {
                    "journal": str(shown),
                    "outcome": str(verdict.outcome),
                    "finding": verdict.finding,
                    "message": verdict.message,
                    "session_id": verdict.session_id,
                    "records": verdict.records,
                    "pulses": verdict.pulses,
                    "head": verdict.head,
                    "key_id": verdict.key_id,
                    "exit_code": code,
                },
                indent=2,
            )
        )
    else:
        prefix = "TAMPERED: " if verdict.tampered else ""
        head = "" if verdict.tampered else f"; head {verdict.head}"
        click.echo(f"{shown}: {prefix}{verdict.message}{head}")
    if code:
        ctx.exit(code)


@journal.command("show")
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print the records and verdict as JSON.")
@click.pass_context
def show_cmd(ctx: click.Context, path: str, as_json: bool) -> None:
    """List a journal's records (PATH or session id) and its verdict."""
    target = resolve_journal(path)
    _refuse_unless_a_journal(target)
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
        ctx.exit(ExitCode.TAMPERED)


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
