"""`records audit`: every session row against its journal, every journal against a row.

One `Finding` per difference: a row whose journal is missing or fails verification, a
journal on disk that no row names (when it is a subject's session journal), two rows
naming one file, a journal whose chain head, pulse count or status disagrees with its
row, and unsigned or unfinished journals (listed; see `exit_code`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from stimctl.errors import ExitCode
from stimctl.journal.attest import Outcome
from stimctl.journal.writer import JOURNAL_SUFFIX
from stimctl.records.journal_check import attest_path, attest_session
from stimctl.records.sessions import list_sessions
from stimctl.records.store import Store

TAMPERED = "TAMPERED"
MISSING = "MISSING"
UNKNOWN = "UNKNOWN"
SHARED = "SHARED"
UNFINISHED = "UNFINISHED"
UNSIGNED = "UNSIGNED"

_SERIOUS = frozenset({TAMPERED, MISSING, UNKNOWN, SHARED})


@dataclass(frozen=True)
class Finding:
    kind: str
    session_id: str
    message: str

    def line(self) -> str:
        return f"{self.kind} {self.session_id}: {self.message}"


@dataclass(frozen=True)
class AuditResult:
    sessions: int
    journals: int
    findings: list[Finding]

    def exit_code(self, *, require_signature: bool = False) -> int:
        """8 for any tampered, missing, unknown, shared or disagreeing journal (and for
        unsigned ones with `require_signature`); else 6 if a session is unfinished
        (running or awaiting recovery); else 0."""
        kinds = {f.kind for f in self.findings}
        if kinds & _SERIOUS or (require_signature and UNSIGNED in kinds):
            return ExitCode.TAMPERED
        if UNFINISHED in kinds:
            return ExitCode.STATE
        return ExitCode.OK


def audit(store: Store, journals: Path) -> AuditResult:
    findings: list[Finding] = []
    named: dict[Path, str] = {}
    sessions = list_sessions(store)
    for session in sessions:
        if session.journal_path is None:
            findings.append(Finding(MISSING, session.id, "no journal on record"))
            continue
        path = Path(session.journal_path).resolve()
        if path in named:
            findings.append(
                Finding(SHARED, session.id, f"names the journal of session {named[path]}: {path}")
            )
            continue
        named[path] = session.id
        verdict = attest_session(store, session.id)
        if verdict.finding == "journal-missing":
            findings.append(Finding(MISSING, session.id, verdict.message))
        else:
            _add(findings, session.id, verdict.outcome, verdict.message)
    on_disk = sorted(journals.glob(f"*{JOURNAL_SUFFIX}")) if journals.is_dir() else []
    for path in on_disk:
        if path.resolve() in named:
            continue
        sid = path.name.removesuffix(JOURNAL_SUFFIX)
        verdict = attest_path(path, store)
        if verdict.tampered:
            findings.append(Finding(TAMPERED, sid, verdict.message))
        elif _names_subject(path):
            findings.append(
                Finding(
                    UNKNOWN,
                    sid,
                    f"journal {path} is a session of a subject on record but no row names it"
                    " (the row was deleted, or the journal put here)",
                )
            )
        else:
            _add(findings, sid, verdict.outcome, verdict.message)
    return AuditResult(len(sessions), len(on_disk), findings)


def _add(findings: list[Finding], sid: str, outcome: Outcome, message: str) -> None:
    kind = {
        Outcome.TAMPERED: TAMPERED,
        Outcome.UNFINISHED: UNFINISHED,
        Outcome.UNSIGNED: UNSIGNED,
    }.get(outcome)
    if kind is not None:
        findings.append(Finding(kind, sid, message))


def _names_subject(path: Path) -> bool:
    """True for a session journal (not a threshold hunt) whose start names a subject id:
    `run`/`dry-run --subject` always records a row for those."""
    try:
        with path.open("rb") as handle:
            first = json.loads(handle.readline())
    except (OSError, ValueError):
        return False
    payload = first.get("payload") if isinstance(first, dict) else None
    if not isinstance(payload, dict) or payload.get("kind") == "threshold-hunt":
        return False
    subject = payload.get("subject")
    return isinstance(subject, dict) and subject.get("id") is not None
