from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Journals, reports and records of these tests live in the test's own folder."""
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
