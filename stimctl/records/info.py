"""What `stimctl records info` shows: backend, location, schema version, row counts."""

from __future__ import annotations

from dataclasses import dataclass

from stimctl.records.schema import LATEST_VERSION
from stimctl.records.store import Store

COUNTED = ("subjects", "courses", "sessions", "operators", "adverse_events")
"""Tables counted (all present since schema version 1)."""
COUNTED_IF_PRESENT = (
    "outcomes",
    "course_changes",
    "journal_blobs",
    "journal_prefixes",
    "recruitment_curves",
    "paired_pulse_results",
    "hotspot_results",
)
"""Tables of later migrations (issues 17 and 19), counted once the schema has them.
`journal_prefixes` are the journals of running or crashed sessions up to their last
train (a session's prefix goes once its whole journal is in `journal_blobs`)."""


@dataclass(frozen=True)
class StoreInfo:
    backend: str
    location: str
    schema_version: int
    latest_version: int
    counts: dict[str, int]
    running_sessions: int

    def lines(self) -> list[str]:
        pending = self.latest_version - self.schema_version
        state = "up to date" if pending <= 0 else f"{pending} migrations pending"
        out = [
            f"backend: {self.backend}",
            f"location: {self.location}",
            f"schema version: {self.schema_version} of {self.latest_version} ({state})",
        ]
        out += [f"{name}: {count}" for name, count in self.counts.items()]
        out.append(f"running sessions: {self.running_sessions}")
        return out


def store_info(store: Store) -> StoreInfo:
    version = store.schema_version
    with store.read() as conn:
        counts: dict[str, int] = {}
        running = 0
        if version >= 1:
            for table in COUNTED:
                row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                counts[table] = int(row[0]) if row else 0
            if version == LATEST_VERSION:  # the lead orders migrations at merge
                for table in COUNTED_IF_PRESENT:
                    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                    counts[table] = int(row[0]) if row else 0
            row = conn.execute("SELECT count(*) FROM sessions WHERE status = 'running'").fetchone()
            running = int(row[0]) if row else 0
    return StoreInfo(store.backend, store.location, version, LATEST_VERSION, counts, running)
