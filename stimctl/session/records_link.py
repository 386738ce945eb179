"""Subject, threshold and history from the records store, for `--subject ID`."""

from __future__ import annotations

import datetime as dt

from stimctl.errors import ConfigError
from stimctl.safety import History, Subject


def subject_and_history(subject_id: str, now: dt.datetime) -> tuple[Subject, History]:
    raise ConfigError(f"--subject {subject_id}: the records store is not available yet")
