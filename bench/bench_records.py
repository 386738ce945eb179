"""Record store: insert and rule-evaluation times with 10,000 sessions on record.

A real database file (WAL, synchronous=FULL: every commit is fsynced) in a temporary
directory; 10 subjects with 1,000 sessions each (SAINT-like, 10 a day for 100 days).
Prints median and p99 of:
  * session start (`begin_session`, an INSERT) and end (`end_session`, an UPDATE),
    each one fsynced transaction, measured while the table grows to 10,000 rows;
  * `history_for` (the query side of the daily and course rules);
  * the whole pre-session check: `evaluate_for_subject` (subject + history + engine);
  * the locked session start `start_session` (reconcile the subject's running rows, read
    history, run the safety engine on it and insert the running row, one transaction).
Then `history_for` and `evaluate_for_subject` with 100,000 sessions on record (bulk
seeded). And, with 10,000 sessions on record, session start (lock, reconcile, history, insert,
one transaction; no safety engine) from concurrent consoles (processes), on SQLite and on
PostgreSQL (a server from the pgserver wheel, or $STIMCTL_BENCH_DATABASE_URL), three ways:
one console alone; 8 consoles all starting at the same moment, round after round (when
all have started each ends its session; the next round waits for all: the issue's "8
concurrent consoles"); and 8 consoles starting back to back as fast as the store lets them (a
saturation test: every console restarts the moment its last start ended, which no clinic
does, so its latency is the queue of 8, not the cost of a start).
Two seeds of 10,000 sessions for the consoles: a clinic's (courses of 30 daily sessions
over two years) and a dense stress seed (a session every hour; ~840 in each look-back).
Run: .venv/bin/python bench/bench_records.py [sessions] [evaluations]
     .venv/bin/python bench/bench_records.py --consoles-only   (the concurrent part only)
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stimctl.protocol import derive, load_protocol
from stimctl.records import (
    CourseRecord,
    Store,
    ThresholdRecord,
    add_subject,
    begin_session,
    end_session,
    evaluate_for_subject,
    history_for,
    record_screening,
    record_threshold,
    screening_from,
    start_course,
    subject_for,
)
from stimctl.records.start import SessionStart, start_session
from stimctl.records.values import utc_text
from stimctl.safety import Screening, SiteRules
from stimctl.safety.engine import evaluate
from stimctl.safety.tables import screening_table

SUBJECTS = 10
PER_DAY = 10


def stats(label: str, samples_s: list[float]) -> None:
    ordered = sorted(samples_s)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(
        f"  {label:<36} median {statistics.median(ordered) * 1e3:7.3f} ms"
        f"  p99 {p99 * 1e3:7.3f} ms  (n={len(ordered)})"
    )


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    if "--consoles-only" in sys.argv:
        concurrent_section(10_000)
        return
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    evaluations = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    saint = load_protocol("dep-saint")
    pulses = derive(saint).total_pulses
    per_subject = total // SUBJECTS
    days = per_subject // PER_DAY
    end_day = dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)
    first_day = end_day - dt.timedelta(days=days)
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "stimctl.db") as store:
        for n in range(SUBJECTS):
            sid = f"S-{n:02d}"
            add_subject(store, sid)
            _clinical(store, sid, end_day.date())
            start_course(store, CourseRecord(sid, "dep-saint", "d" * 64, 50, first_day.date()))
        inserts: list[float] = []
        updates: list[float] = []
        for day in range(days):
            for slot in range(PER_DAY):
                for n in range(SUBJECTS):
                    start = first_day + dt.timedelta(days=day, minutes=60 * slot)
                    t0 = time.perf_counter()
                    row = begin_session(
                        store,
                        subject_id=f"S-{n:02d}",
                        protocol_name="dep-saint",
                        protocol_digest="d" * 64,
                        protocol_class="itbs",
                        pulses_planned=pulses,
                        started_at=start,
                    )
                    t1 = time.perf_counter()
                    end_session(
                        store,
                        row.id,
                        status="completed",
                        pulses_delivered=pulses,
                        chain_head="a" * 64,
                        ended_at=start + dt.timedelta(minutes=10),
                    )
                    inserts.append(t1 - t0)
                    updates.append(time.perf_counter() - t1)
        with store.read() as conn:
            on_record = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
        print(f"record store with {on_record} sessions on record ({SUBJECTS} subjects)")
        stats("session start (INSERT, fsynced)", inserts)
        stats("session end (UPDATE, fsynced)", updates)
        now = end_day + dt.timedelta(days=1)  # the next morning: a new SAINT day
        site = SiteRules(accelerated_allowed=True)
        stats(
            "history_for",
            [timed(lambda: history_for(store, "S-00", now)) for _ in range(evaluations)],
        )
        verdict = evaluate_for_subject(store, saint, "S-00", now=now, site=site)
        stats(
            "evaluate_for_subject (store+engine)",
            [
                timed(lambda: evaluate_for_subject(store, saint, "S-00", now=now, site=site))
                for _ in range(evaluations)
            ],
        )
        print(f"  (verdict for the next SAINT day: {verdict.verdict.value})")
        subject = subject_for(store, "S-00")
        starts: list[float] = []
        for n in range(min(evaluations, 100)):
            request = SessionStart(
                subject_id=f"S-{n % SUBJECTS:02d}",
                session_id=f"bench-{n}",
                protocol_name="dep-saint",
                protocol_digest="d" * 64,
                pulses_planned=pulses,
                started_at=now,
                protocol_class="itbs",
            )
            t0 = time.perf_counter()
            started = start_session(
                store,
                request,
                lambda history, at: evaluate(saint, subject, now=at, site=site, history=history),
            )
            starts.append(time.perf_counter() - t0)
            end_session(
                store,
                started.record.id,
                status="completed",
                pulses_delivered=pulses,
                chain_head="a" * 64,
                ended_at=dt.datetime.now(dt.UTC),
            )
        stats("start_session (locked check+insert)", starts)
    rules_section(RULE_SESSIONS, evaluations)
    concurrent_section(total)


RULE_SESSIONS = 100_000


def _clinical(store: Store, sid: str, day: dt.date) -> None:
    """A threshold and a clear screening: what a session start needs besides history."""
    record_threshold(store, ThresholdRecord(sid, 50.0, "emg", day))
    table = screening_table()
    answers = dict.fromkeys(table.items, False)
    record_screening(store, screening_from(sid, Screening(table.questionnaire, day, answers)))


def rules_section(total: int, evaluations: int) -> None:
    """The rules' side with `total` sessions on record (bulk seeded as in the concurrent
    section: one session an hour per subject, more than any schedule allows, so the
    35-day look-back holds ~840 rows)."""
    saint = load_protocol("dep-saint")
    site = SiteRules(accelerated_allowed=True)
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "stimctl.db") as store:
        _seed(store, total)
        now = dt.datetime.now(dt.UTC)
        _clinical(store, "S-00", now.date() - dt.timedelta(days=1))
        with store.read() as conn:
            on_record = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
        print(f"rule evaluation with {on_record} sessions on record ({SUBJECTS} subjects)")
        history = history_for(store, "S-00", now)
        stats(
            f"history_for ({len(history.sessions)} sessions)",
            [timed(lambda: history_for(store, "S-00", now)) for _ in range(evaluations)],
        )
        stats(
            "evaluate_for_subject (store+engine)",
            [
                timed(lambda: evaluate_for_subject(store, saint, "S-00", now=now, site=site))
                for _ in range(evaluations)
            ],
        )


CONSOLES = 8
STARTS_PER_CONSOLE = 40
BURSTS = 40


def _console(
    target: str, console: int, go: Any, results: Any, burst: Any
) -> None:  # pragma: no cover - runs in a child process
    try:
        results.put(_starts(target, console, go, burst))
    except Exception as exc:  # a console that fails reports it instead of hanging the run
        results.put(f"console {console}: {exc}")


def _starts(target: str, console: int, go: Any, burst: Any) -> tuple[list[float], list[float]]:
    """The start times of this console and its own CPU time in each (the server's is not
    in it). `burst` None: back to back, as fast as the store allows (saturation). A
    barrier: every console starts at the same moment; when all have started, each ends its
    session, and the next round begins when all are done (the worst moment of a clinic's
    day, repeated; a session lasts minutes, so no end falls among the starts)."""
    store = Store.open(Path(target)) if not target.startswith("postgres") else _open_pg(target)
    samples: list[float] = []
    cpu: list[float] = []
    # One start before the clock runs: the process's first start imports modules and
    # translates and prepares its statements once (a console is a long-lived process;
    # 8 cold firsts out of 320 would otherwise be the p99).
    _one_start(store, f"S-{console % SUBJECTS:02d}", f"warm-{console}-{uuid.uuid4().hex[:8]}")
    go.wait()
    for n in range(BURSTS if burst is not None else STARTS_PER_CONSOLE):
        request = SessionStart(
            subject_id=f"S-{(console + n) % SUBJECTS:02d}",
            session_id=f"c{console}-{n}-{uuid.uuid4().hex[:8]}",
            protocol_name="dep-saint",
            protocol_digest="d" * 64,
            pulses_planned=1800,
            started_at=dt.datetime.now(dt.UTC),
            protocol_class="itbs",
        )
        if burst is not None:
            burst.wait()
        t0, cpu0 = time.perf_counter(), time.process_time()
        started = start_session(store, request, lambda history, at: len(history.sessions))
        samples.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - cpu0)
        if burst is not None:
            # A session lasts minutes: its end does not fall into the next start's moment.
            burst.wait()
        _end(store, started.record.id)
    store.close()
    return samples, cpu


def _one_start(store: Store, subject_id: str, session_id: str) -> None:
    request = SessionStart(
        subject_id=subject_id,
        session_id=session_id,
        protocol_name="dep-saint",
        protocol_digest="d" * 64,
        pulses_planned=1800,
        started_at=dt.datetime.now(dt.UTC),
        protocol_class="itbs",
    )
    _end(store, start_session(store, request, lambda history, at: None).record.id)


def _end(store: Store, session_id: str) -> None:
    end_session(
        store,
        session_id,
        status="completed",
        pulses_delivered=1800,
        chain_head="a" * 64,
        ended_at=dt.datetime.now(dt.UTC),
    )


def _open_pg(url: str) -> Store:
    from stimctl.records.pg_store import PostgresStore

    return PostgresStore.open_url(url)


def _seed(store: Store, total: int) -> None:
    """`total` closed sessions over SUBJECTS subjects, one bulk transaction."""
    end_day = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    for n in range(SUBJECTS):
        add_subject(store, f"S-{n:02d}")
    with store.write() as conn:
        for i in range(total):
            started = end_day - dt.timedelta(hours=i // SUBJECTS)
            conn.execute(
                "INSERT INTO sessions (id, subject_id, protocol_name, protocol_digest,"
                " protocol_class, status, pulses_planned, pulses_delivered, started_at,"
                " ended_at) VALUES (?, ?, 'dep-saint', ?, 'itbs', 'completed', 1800, 1800, ?, ?)",
                (
                    f"seed-{i}",
                    f"S-{i % SUBJECTS:02d}",
                    "d" * 64,
                    utc_text(started),
                    utc_text(started + dt.timedelta(minutes=10)),
                ),
            )


CLINIC_COURSE = 30


def _seed_clinic(store: Store, total: int) -> None:
    """`total` closed sessions as a clinic has them: courses of CLINIC_COURSE daily
    sessions, one course per subject, a new course starting every other day for as long
    as `total` takes (about two years for 10,000). The consoles' subjects S-00..S-09 are
    the latest courses, so their look-back holds their course (~30 rows, not ~840)."""
    yesterday = dt.datetime.now(dt.UTC).replace(hour=9, minute=0) - dt.timedelta(days=1)
    subjects = total // CLINIC_COURSE
    with store.write() as conn:
        for k in range(subjects):
            conn.execute(
                "INSERT INTO subjects (id, created_at) VALUES (?, ?)",
                (f"S-{k:02d}", utc_text(yesterday - dt.timedelta(days=2 * k + CLINIC_COURSE))),
            )
            for day in range(CLINIC_COURSE):
                started = yesterday - dt.timedelta(days=2 * k + day)
                conn.execute(
                    "INSERT INTO sessions (id, subject_id, protocol_name, protocol_digest,"
                    " protocol_class, status, pulses_planned, pulses_delivered, started_at,"
                    " ended_at) VALUES (?, ?, 'pain-m1-10hz', ?, 'hf', 'completed', 2000,"
                    " 2000, ?, ?)",
                    (
                        f"seed-{k}-{day}",
                        f"S-{k:02d}",
                        "d" * 64,
                        utc_text(started),
                        utc_text(started + dt.timedelta(minutes=20)),
                    ),
                )


def _run_consoles(label: str, target: str, consoles: int = CONSOLES, *, burst: bool) -> None:
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    together = ctx.Barrier(consoles) if burst else None
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_console, args=(target, c, go, results, together))
        for c in range(consoles)
    ]
    for worker in workers:
        worker.start()
    time.sleep(3.0)  # every console connected and waiting
    go.set()
    samples: list[float] = []
    cpu: list[float] = []
    for _ in workers:
        got = results.get(timeout=600)
        if isinstance(got, str):
            print(f"  {label}: {got}")
        else:
            samples += got[0]
            cpu += got[1]
    for worker in workers:
        worker.join(timeout=60)
    if samples:
        how = "all at once, round by round" if burst else "back to back"
        stats(f"{label}: start, {consoles} console(s), {how}", samples)
        stats("  console CPU time per start", cpu)


def _console_sections(label: str, target: str) -> None:
    _run_consoles(label, target, 1, burst=False)
    _run_consoles(label, target, burst=True)
    _run_consoles(label, target, burst=False)


SEEDS: dict[str, Callable[[Store, int], None]] = {
    "clinic": _seed_clinic,
    "dense": _seed,
}
"""clinic: a clinic's 10,000 sessions (courses of 30 daily sessions over about two years;
~30 rows in a subject's look-back). dense: the stress case, 10 subjects with a session
every hour (~840 rows in each look-back, more than any schedule allows)."""


def concurrent_section(total: int) -> None:
    for seed_name, seed in SEEDS.items():
        print(
            f"session start with {CONSOLES} concurrent consoles, {total} sessions on record"
            f" ({seed_name})"
        )
        _backends(seed, total)


def _backends(seed: Callable[[Store, int], None], total: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stimctl.db"
        with Store.open(path) as store:
            seed(store, total)
        _console_sections("SQLite", str(path))
    url = os.environ.get("STIMCTL_BENCH_DATABASE_URL", "").strip()
    if url:
        _pg_section(url, seed, total)
        return
    import pgserver

    folder = Path(tempfile.mkdtemp(prefix="stimctl-bench-pg-"))
    server = pgserver.get_server(folder / "data", cleanup_mode="stop")
    try:
        _pg_section(str(server.get_uri()), seed, total)
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def _pg_section(url: str, seed: Callable[[Store, int], None], total: int) -> None:
    import psycopg

    schema = f"bench_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}".encode())
    scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    try:
        with _open_pg(scoped) as store:
            seed(store, total)
        with psycopg.connect(scoped, autocommit=True) as conn:
            # A live server's autovacuum analyzes a table after it changed by 10 %; the
            # bulk seed came a moment ago. Without statistics the planner takes the
            # look-back for 5 rows, not ~800, and sorts a bitmap scan (3-4x slower).
            conn.execute(b"ANALYZE")
        _console_sections("PostgreSQL", scoped)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE".encode())


if __name__ == "__main__":
    main()
