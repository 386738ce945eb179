"""The database schema and its migrations (``PRAGMA user_version`` is the version).

Each migration takes the schema from version n-1 to n and runs in its own write
transaction together with the version bump, so a crash leaves the file at n-1 or at n,
never between. Released migrations are never edited: a change is a new migration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

APPLICATION_ID = 0x53544D43
"""``PRAGMA application_id`` of a stimctl database ("STMC"): tells it from other files."""

Migration = Callable[[sqlite3.Connection], None]


def _run(conn: sqlite3.Connection, script: str) -> None:
    # Not `executescript`: it COMMITs any open transaction first, which would split a
    # migration from its version bump.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1_initial(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        """
        CREATE TABLE subjects (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            notes TEXT
        ) STRICT;
        CREATE TABLE operators (
            id TEXT PRIMARY KEY,
            role TEXT NOT NULL DEFAULT 'operator',
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE screenings (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            questionnaire TEXT NOT NULL,
            answered_on TEXT NOT NULL,
            answers TEXT NOT NULL,
            medications TEXT NOT NULL DEFAULT '[]',
            reviewer TEXT REFERENCES operators(id),
            recorded_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE motor_thresholds (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            percent_mso REAL NOT NULL CHECK (percent_mso > 0 AND percent_mso <= 100),
            method TEXT NOT NULL CHECK (method IN ('emg', 'visual')),
            measured_on TEXT NOT NULL,
            device TEXT,
            coil TEXT,
            recorded_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE courses (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            protocol_name TEXT NOT NULL,
            protocol_digest TEXT NOT NULL,
            planned_sessions INTEGER NOT NULL CHECK (planned_sessions > 0),
            start_date TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'closed')),
            created_at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            course_id TEXT REFERENCES courses(id),
            protocol_name TEXT NOT NULL,
            protocol_digest TEXT NOT NULL,
            protocol_class TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            pulses_planned INTEGER NOT NULL CHECK (pulses_planned >= 0),
            pulses_delivered INTEGER NOT NULL DEFAULT 0 CHECK (pulses_delivered >= 0),
            journal_path TEXT,
            chain_head TEXT,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            operator_id TEXT REFERENCES operators(id),
            device TEXT,
            coil TEXT,
            threshold_id TEXT REFERENCES motor_thresholds(id)
        ) STRICT;
        CREATE TABLE overrides (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            session_id TEXT REFERENCES sessions(id),
            rules TEXT NOT NULL,
            operator_id TEXT NOT NULL REFERENCES operators(id),
            reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
            at TEXT NOT NULL
        ) STRICT;
        CREATE TABLE adverse_events (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            session_id TEXT REFERENCES sessions(id),
            kind TEXT NOT NULL,
            severity TEXT NOT NULL,
            pulse_index INTEGER CHECK (pulse_index >= 0),
            notes TEXT NOT NULL DEFAULT '',
            occurred_at TEXT NOT NULL,
            recorded_by TEXT REFERENCES operators(id),
            recorded_at TEXT NOT NULL
        ) STRICT;
        """,
    )


def _v2_provenance_and_review(conn: sqlite3.Connection) -> None:
    # The RMT's provenance (criterion, algorithm, pulses used) travels into exports
    # (NIBS-BIDS threshold_* columns); adverse events gain a review so that a seizure
    # can block until a physician has looked at it.
    for statement in (
        "ALTER TABLE motor_thresholds ADD COLUMN criterion TEXT",
        "ALTER TABLE motor_thresholds ADD COLUMN algorithm TEXT",
        "ALTER TABLE motor_thresholds ADD COLUMN pulses INTEGER CHECK (pulses >= 0)",
        "ALTER TABLE adverse_events ADD COLUMN reviewed_by TEXT REFERENCES operators(id)",
        "ALTER TABLE adverse_events ADD COLUMN reviewed_at TEXT",
        "ALTER TABLE adverse_events ADD COLUMN review_notes TEXT",
    ):
        conn.execute(statement)


def _v3_indexes(conn: sqlite3.Connection) -> None:
    # The rule evaluation before every session reads one subject's recent sessions; with
    # thousands on record that must be an index range scan, not a table scan. At most one
    # active course per subject, enforced by the database rather than by a check-then-act.
    _run(
        conn,
        """
        CREATE INDEX sessions_by_subject ON sessions(subject_id, started_at);
        CREATE INDEX sessions_by_course ON sessions(course_id);
        CREATE INDEX thresholds_by_subject ON motor_thresholds(subject_id, measured_on);
        CREATE INDEX screenings_by_subject ON screenings(subject_id, answered_on);
        CREATE INDEX adverse_events_by_subject ON adverse_events(subject_id);
        CREATE UNIQUE INDEX one_active_course ON courses(subject_id) WHERE status = 'active';
        """,
    )


def _operator_identities_and_signatures(conn: sqlite3.Connection) -> None:
    # Operators become people with a printed name, a credential (an Argon2id hash, never
    # the secret) and a lockout counter; rows that earlier versions created on first use
    # keep a NULL credential and so can never authenticate (ADR 0014). Every
    # authentication attempt is kept in auth_events; every electronic signature
    # (21 CFR 11.50/11.70) in signatures, linked to the record it signs by type, id and
    # a digest of the signed content.
    for statement in (
        "ALTER TABLE operators ADD COLUMN name TEXT",
        "ALTER TABLE operators ADD COLUMN credential TEXT",
        "ALTER TABLE operators ADD COLUMN created_by TEXT REFERENCES operators(id)",
        "ALTER TABLE operators ADD COLUMN disabled_at TEXT",
        "ALTER TABLE operators ADD COLUMN disabled_by TEXT REFERENCES operators(id)",
        "ALTER TABLE operators ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0"
        " CHECK (failed_attempts >= 0)",
        "ALTER TABLE operators ADD COLUMN locked_until TEXT",
    ):
        conn.execute(statement)
    _run(
        conn,
        """
        CREATE TABLE auth_events (
            id TEXT PRIMARY KEY,
            operator_id TEXT NOT NULL,
            event TEXT NOT NULL,
            purpose TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX auth_events_by_operator ON auth_events(operator_id, at);
        CREATE TABLE signatures (
            id TEXT PRIMARY KEY,
            signer_id TEXT NOT NULL REFERENCES operators(id),
            signer_name TEXT NOT NULL CHECK (length(trim(signer_name)) > 0),
            signer_role TEXT NOT NULL,
            meaning TEXT NOT NULL CHECK (length(trim(meaning)) > 0),
            record_type TEXT NOT NULL CHECK (record_type IN
                ('override', 'course', 'adverse_event_review', 'site_approval', 'other')),
            record_id TEXT NOT NULL,
            content_digest TEXT NOT NULL CHECK (length(content_digest) = 64),
            signed_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX signatures_by_record ON signatures(record_type, record_id);
        """,
    )


def _journal_signing_keys(conn: sqlite3.Connection) -> None:
    # The public half of every journal signing key the installation ever used: journals
    # are verified against these; a rotated key stays on record (retired_at set) so that
    # the journals it signed stay verifiable.
    _run(
        conn,
        """
        CREATE TABLE signing_keys (
            key_id TEXT PRIMARY KEY,
            algorithm TEXT NOT NULL CHECK (algorithm = 'ed25519'),
            public_key TEXT NOT NULL UNIQUE CHECK (length(public_key) = 64),
            created_at TEXT NOT NULL,
            retired_at TEXT
        ) STRICT;
        CREATE UNIQUE INDEX one_active_signing_key ON signing_keys((1)) WHERE retired_at IS NULL;
        """,
    )


def _session_ownership_and_simulation(conn: sqlite3.Connection) -> None:
    # Issue 12 items 3-5. `simulated`: a dry run, never counted by the daily, course or
    # pulse rules. `pulses_exact` 0: `pulses_delivered` is a lower bound (a crash inside a
    # train, a lost journal), and the rules count the planned pulses instead. `owner_*`:
    # the process that runs a `running` row (host, pid, a start token that tells a reused
    # pid apart), so that any start can tell a live session from a dead one (ADR
    # records-session-ownership). `close_note`: why a row was closed by reconciliation.
    # `mode`/`study_id`: research sessions are recorded with their study.
    _run(
        conn,
        """
        ALTER TABLE sessions ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0
            CHECK (simulated IN (0, 1));
        ALTER TABLE sessions ADD COLUMN pulses_exact INTEGER NOT NULL DEFAULT 1
            CHECK (pulses_exact IN (0, 1));
        ALTER TABLE sessions ADD COLUMN owner_host TEXT;
        ALTER TABLE sessions ADD COLUMN owner_pid INTEGER;
        ALTER TABLE sessions ADD COLUMN owner_token TEXT;
        ALTER TABLE sessions ADD COLUMN close_note TEXT;
        ALTER TABLE sessions ADD COLUMN mode TEXT NOT NULL DEFAULT 'clinical'
            CHECK (mode IN ('clinical', 'research'));
        ALTER TABLE sessions ADD COLUMN study_id TEXT;
        CREATE INDEX sessions_running ON sessions(subject_id) WHERE status = 'running';
        """,
    )


def _site_approvals(conn: sqlite3.Connection) -> None:
    # Issue 13 item 5: a locally modified safety table or site file runs in clinical mode
    # only with an engineer's approval of exactly those bytes (its SHA-256) on record.
    # approver_id is a plain id for now; the identity work links it to operators.
    _run(
        conn,
        """
        CREATE TABLE site_approvals (
            id TEXT PRIMARY KEY,
            file_name TEXT NOT NULL,
            sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
            approver_id TEXT NOT NULL,
            reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
            approved_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX site_approvals_by_digest ON site_approvals(sha256, approved_at);
        """,
    )


def _threshold_kind_and_muscle(conn: sqlite3.Connection) -> None:
    # Every threshold says whether it is resting or active and on which muscle (issue 15,
    # safety-limits 13.2): a dose in % AMT is not the same dose in % RMT, and an H7
    # protocol's threshold is a leg threshold. Rows recorded before this were resting
    # thresholds of a hand muscle that was not named: 'rmt' and 'hand' say exactly that.
    for statement in (
        "ALTER TABLE motor_thresholds ADD COLUMN kind TEXT NOT NULL DEFAULT 'rmt'"
        " CHECK (kind IN ('rmt', 'amt'))",
        "ALTER TABLE motor_thresholds ADD COLUMN muscle TEXT NOT NULL DEFAULT 'hand'"
        " CHECK (length(muscle) > 0)",
        # a threshold already adjusted for the cortical depth of this target (SAINT)
        "ALTER TABLE motor_thresholds ADD COLUMN adjusted_for TEXT",
    ):
        conn.execute(statement)


def _subject_age_risk_and_anatomy(conn: sqlite3.Connection) -> None:
    # Age (a birth date, or an age as known on a date) decides the cleared ages of an
    # indication; recorded risk factors (epilepsy, brain lesion, prior seizure) make the
    # rules stricter; scalp-to-cortex distances give SAINT its depth-adjusted dose
    # (issue 15 items 5 and 7). JSON text for the last two, like screenings' answers.
    for statement in (
        "ALTER TABLE subjects ADD COLUMN birth_date TEXT",
        "ALTER TABLE subjects ADD COLUMN age_years REAL"
        " CHECK (age_years IS NULL OR (age_years >= 0 AND age_years < 130))",
        "ALTER TABLE subjects ADD COLUMN age_recorded_on TEXT",
        "ALTER TABLE subjects ADD COLUMN risk_factors TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE subjects ADD COLUMN scalp_cortex_mm TEXT NOT NULL DEFAULT '{}'",
    ):
        conn.execute(statement)


def _recruitment_curves(conn: sqlite3.Connection) -> None:
    # Recruitment (input-output) curves (issue 19 item 2): the fitted Boltzmann parameters
    # for queries, every pulse as JSON so a curve can be refitted or replotted.
    _run(
        conn,
        """
        CREATE TABLE recruitment_curves (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            recorded_at TEXT NOT NULL,
            rmt_percent_mso REAL NOT NULL CHECK (rmt_percent_mso > 0 AND rmt_percent_mso <= 100),
            levels_percent_rmt TEXT NOT NULL,
            per_level INTEGER NOT NULL CHECK (per_level >= 1),
            max_intensity INTEGER NOT NULL CHECK (max_intensity BETWEEN 1 AND 100),
            source TEXT NOT NULL CHECK (source IN ('operator', 'replay')),
            s50_percent_mso REAL NOT NULL,
            k_percent_mso REAL NOT NULL CHECK (k_percent_mso > 0),
            plateau_uv REAL NOT NULL CHECK (plateau_uv > 0),
            pulses TEXT NOT NULL
        );
        CREATE INDEX recruitment_curves_subject ON recruitment_curves (subject_id);
        """,
    )


def _course_records(conn: sqlite3.Connection) -> None:
    # Issue 17 item 4: what a clinic keeps about a course beyond its sessions. Outcome
    # measures (a scale of `stimctl.records.scales` and its value, per visit or session);
    # course changes with their reason and who made them (sessions added when a payer
    # approves more, protocol or intensity changed), signed like a prescription; how the
    # coil was placed for each session (Beam F3, neuronavigation, the 5 cm rule...).
    _run(
        conn,
        """
        CREATE TABLE outcomes (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            course_id TEXT REFERENCES courses(id),
            session_id TEXT REFERENCES sessions(id),
            scale TEXT NOT NULL,
            value REAL NOT NULL,
            measured_on TEXT NOT NULL,
            notes TEXT NOT NULL DEFAULT '',
            recorded_by TEXT REFERENCES operators(id),
            recorded_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX outcomes_by_subject ON outcomes(subject_id, measured_on);
        CREATE TABLE course_changes (
            id TEXT PRIMARY KEY,
            course_id TEXT NOT NULL REFERENCES courses(id),
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            kind TEXT NOT NULL CHECK (kind IN
                ('sessions-added', 'protocol-changed', 'intensity-changed')),
            detail TEXT NOT NULL,
            reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
            changed_by TEXT NOT NULL REFERENCES operators(id),
            changed_at TEXT NOT NULL
        ) STRICT;
        CREATE INDEX course_changes_by_course ON course_changes(course_id, changed_at);
        CREATE TABLE session_targets (
            session_id TEXT PRIMARY KEY REFERENCES sessions(id),
            method TEXT NOT NULL,
            site TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            recorded_by TEXT REFERENCES operators(id),
            recorded_at TEXT NOT NULL
        ) STRICT
        """,
    )


def _journal_store(conn: sqlite3.Connection) -> None:
    # Issue 17 item 3: every console can verify and report any session. A finished
    # session's journal is copied into the store, content-addressed (the SHA-256 of the
    # file's bytes is the key, so a copy is never stored twice and a changed copy is a
    # different key), and the session row links to it. NULL: not uploaded yet (the
    # console's local file stays the record of truth until it is).
    _run(
        conn,
        """
        CREATE TABLE journal_blobs (
            digest TEXT PRIMARY KEY CHECK (length(digest) = 64),
            size INTEGER NOT NULL CHECK (size >= 0),
            content BLOB NOT NULL,
            stored_at TEXT NOT NULL
        ) STRICT;
        ALTER TABLE sessions ADD COLUMN journal_digest TEXT REFERENCES journal_blobs(digest);
        CREATE INDEX sessions_without_journal_copy ON sessions(started_at)
            WHERE journal_digest IS NULL
        """,
    )


def _course_change_signatures(conn: sqlite3.Connection) -> None:
    # Course changes (issue 17 item 4) were signed with record_type 'other', the only
    # type the CHECK allowed for them; they get their own. Signatures already made keep
    # 'other': the type is part of the signed content, so rewriting it would break them
    # (the course report finds both by record id).
    from stimctl.records.allowed_values import allow_value

    allow_value(conn, "signatures", "record_type", "course_change")


def _journal_prefixes(conn: sqlite3.Connection) -> None:
    # Issue 17 item 3: a running session's journal up to its last train, so another
    # console can report a running or crashed session. One row per session, replaced by
    # each longer prefix (storing every train's prefix would grow with the square of the
    # session's length); dropped once the whole journal is in journal_blobs.
    _run(
        conn,
        """
        CREATE TABLE journal_prefixes (
            session_id TEXT PRIMARY KEY REFERENCES sessions(id),
            head TEXT NOT NULL CHECK (length(head) = 64),
            digest TEXT NOT NULL CHECK (length(digest) = 64),
            size INTEGER NOT NULL CHECK (size > 0),
            content BLOB NOT NULL,
            stored_at TEXT NOT NULL
        ) STRICT
        """,
    )


def _paired_pulse_and_hotspot_results(conn: sqlite3.Connection) -> None:
    # Issue 19 items 3-4: paired-pulse (SICI/ICF) and hotspot-search results, stored like
    # recruitment curves: the figures labs query as columns, the whole result (every trial
    # or pulse) as JSON in `detail`. When a stimulator fired, the row names the
    # measurement's journal and the SHA-256 head it ended on, so the stored result can be
    # checked against the record of truth (both NULL when nothing was fired through a
    # driver: an operator firing by hand, or a replay).
    _run(
        conn,
        """
        CREATE TABLE paired_pulse_results (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            recorded_at TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('operator', 'replay')),
            journal_session_id TEXT,
            journal_head TEXT CHECK (journal_head IS NULL OR length(journal_head) = 64),
            paradigm TEXT NOT NULL CHECK (paradigm IN ('sici', 'icf')),
            interval_ms REAL NOT NULL CHECK (interval_ms > 0),
            rmt_percent_mso REAL NOT NULL CHECK (rmt_percent_mso > 0 AND rmt_percent_mso <= 100),
            conditioning_percent_mso INTEGER NOT NULL
                CHECK (conditioning_percent_mso BETWEEN 1 AND 100),
            test_percent_mso INTEGER NOT NULL CHECK (test_percent_mso BETWEEN 1 AND 100),
            trials INTEGER NOT NULL CHECK (trials >= 2),
            ratio REAL NOT NULL CHECK (ratio >= 0),
            ratio_low REAL NOT NULL,
            ratio_high REAL NOT NULL,
            detail TEXT NOT NULL,
            CHECK ((journal_session_id IS NULL) = (journal_head IS NULL))
        ) STRICT;
        CREATE INDEX paired_pulse_results_subject ON paired_pulse_results (subject_id);
        CREATE TABLE hotspot_results (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            recorded_at TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('operator', 'replay')),
            journal_session_id TEXT,
            journal_head TEXT CHECK (journal_head IS NULL OR length(journal_head) = 64),
            intensity_percent_mso INTEGER NOT NULL CHECK (intensity_percent_mso BETWEEN 1 AND 100),
            per_position INTEGER NOT NULL CHECK (per_position >= 1),
            positions INTEGER NOT NULL CHECK (positions >= 1),
            proposed TEXT NOT NULL,
            proposed_median_uv REAL NOT NULL,
            detail TEXT NOT NULL,
            CHECK ((journal_session_id IS NULL) = (journal_head IS NULL))
        ) STRICT;
        CREATE INDEX hotspot_results_subject ON hotspot_results (subject_id)
        """,
    )


def _recruitment_curve_placement(conn: sqlite3.Connection) -> None:
    # Issue 19 item 2 (measure3): a stored recruitment curve says how its intensities were
    # placed: 'fixed' (every level `per_level` times, shuffled) or 'adaptive' (`rmt curve
    # --adaptive N`, FIM-SPE: one pulse a level, then placed by the fit). Curves stored
    # before this migration keep NULL: nothing recorded with them tells the two apart.
    _run(
        conn,
        "ALTER TABLE recruitment_curves ADD COLUMN placement TEXT"
        " CHECK (placement IS NULL OR placement IN ('fixed', 'adaptive'))",
    )


MIGRATIONS: tuple[Migration, ...] = (
    _v1_initial,
    _v2_provenance_and_review,
    _v3_indexes,
    _session_ownership_and_simulation,
    _operator_identities_and_signatures,
    _journal_signing_keys,
    _site_approvals,
    _threshold_kind_and_muscle,
    _subject_age_risk_and_anatomy,
    _recruitment_curves,
    _course_records,
    _journal_store,
    _course_change_signatures,
    _journal_prefixes,
    _paired_pulse_and_hotspot_results,
    _recruitment_curve_placement,
)
"""MIGRATIONS[n - 1] takes the schema from version n - 1 to n."""

LATEST_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> list[int]:
    """Bring the schema up to `target`; returns the versions applied (may be empty).

    `conn` must be in autocommit mode (``isolation_level=None``). Each step takes the
    write lock first and re-reads the version, so two processes opening a fresh file at
    once apply each migration exactly once.
    """
    applied: list[int] = []
    if schema_version(conn) >= target:
        return applied  # the common case: no write lock needed just to open the file
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = schema_version(conn)
            if current >= target:
                conn.execute("COMMIT")
                return applied
            MIGRATIONS[current](conn)
            if current == 0:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {current + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(current + 1)
