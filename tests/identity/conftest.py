"""Real record stores under each test's own STIMCTL_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stimctl.records import Store


@pytest.fixture(autouse=True)
def _shipped_site_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STIMCTL_SITE", raising=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    with Store.open() as opened:
        yield opened
