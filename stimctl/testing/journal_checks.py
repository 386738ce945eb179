"""The journal's tamper evidence works on this installation: write, verify, tamper, flag;
and a signed, sealed journal cut at its end or signed by another key is flagged."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from stimctl.errors import StimctlError
from stimctl.testing.results import CheckResult, failed, passed

GROUP = "journal"


def write_sample_journal(directory: Path) -> Path:
    """A small closed journal: start, one train of three pulses, end."""
    from stimctl.clock import VirtualClock
    from stimctl.journal import Journal, events

    clock = VirtualClock()
    with Journal.create(directory, "selftest-sample", clock=clock) as journal:
        journal.append(events.SESSION_START, {"selftest": True})
        journal.append(events.TRAIN_START, {"train": 0, "pulses_planned": 3})
        for index in range(3):
            clock.advance(0.1)
            journal.append(events.PULSE, {"train": 0, "index": index})
        journal.append(events.TRAIN_END, {"train": 0, "pulses": 3})
        journal.append(events.SESSION_END, {"status": "completed", "disarmed": True})
        return journal.path


def tamper(path: Path, destination: Path) -> Path:
    """A copy of the journal with one pulse record's index edited (a forged record)."""
    lines = path.read_bytes().splitlines(keepends=True)
    for number, line in enumerate(lines):
        if b'"event":"pulse"' in line:
            lines[number] = line.replace(b'"index":', b'"index":9', 1)
            break
    else:
        raise ValueError(f"{path} has no pulse record to edit")
    destination.write_bytes(b"".join(lines))
    return destination


def run_journal_checks(work_dir: Path | None = None) -> list[CheckResult]:
    from stimctl.journal import verify

    with tempfile.TemporaryDirectory(prefix="stimctl-selftest-") as scratch:
        directory = work_dir or Path(scratch)
        try:
            path = write_sample_journal(directory)
            intact = verify(path)
            forged = verify(tamper(path, directory / "selftest-tampered.jsonl"))
        except StimctlError as exc:
            return [failed(GROUP, "write and verify a journal", f"{type(exc).__name__}: {exc}")]
    results = []
    if intact.ok and not intact.truncated:
        results.append(passed(GROUP, "a fresh journal verifies", f"{intact.records} records"))
    else:
        results.append(failed(GROUP, "a fresh journal verifies", intact.reason or "truncated"))
    if forged.ok:
        results.append(failed(GROUP, "an edited journal is flagged", "the edit went unnoticed"))
    else:
        results.append(
            passed(
                GROUP,
                "an edited journal is flagged",
                f"line {forged.first_bad_line}: {forged.reason}",
            )
        )
    results.extend(_seal_checks())
    return results


def _seal_checks() -> list[CheckResult]:
    """A throwaway key signs a sample; the seal cut off, or a seal signed by a key not on
    record, must both be tampering (`stimctl.journal.attest`)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from stimctl.clock import VirtualClock
    from stimctl.journal import Journal, events
    from stimctl.journal.attest import Outcome, PublicKey, RowFacts, attest
    from stimctl.journal.signing import Signer

    signer = Signer.from_private(Ed25519PrivateKey.generate())
    keys = {signer.key_id: PublicKey(signer.key_id, signer.public_hex, dt.datetime.now(dt.UTC))}
    with tempfile.TemporaryDirectory(prefix="stimctl-selftest-") as scratch:
        clock = VirtualClock()
        with Journal.create(Path(scratch), "selftest-signed", clock=clock, signer=signer) as j:
            j.append(events.SESSION_START, {"selftest": True})
            j.append(events.TRAIN_START, {"train": 0})
            j.append(events.PULSE, {"train": 0, "index": 0})
            j.append(events.TRAIN_END, {"train": 0, "pulses": 1})
            j.append(events.SESSION_END, {"status": "completed"})
        data = j.path.read_bytes()
    row = RowFacts("selftest-signed", "completed", j.head, 1)
    cut = data[: data.rstrip(b"\n").rfind(b"\n") + 1]
    stranger = Signer.from_private(Ed25519PrivateKey.generate())
    foreign = {
        stranger.key_id: PublicKey(stranger.key_id, stranger.public_hex, dt.datetime.now(dt.UTC))
    }
    verdicts = {
        "a signed, sealed journal verifies": (data, keys, Outcome.INTACT),
        "a journal cut before its seal is flagged": (cut, keys, Outcome.TAMPERED),
        "a seal by a key not on record is flagged": (data, foreign, Outcome.TAMPERED),
    }
    results = []
    for name, (content, on_record, expected) in verdicts.items():
        verdict = attest(content, file_session_id="selftest-signed", row=row, keys=on_record)
        if verdict.outcome is expected:
            results.append(passed(GROUP, name, verdict.message))
        else:
            results.append(failed(GROUP, name, f"{verdict.outcome}: {verdict.message}"))
    return results
