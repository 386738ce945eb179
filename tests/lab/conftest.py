"""LSL on loopback only: liblsl reads tests/lab/lsl_api.cfg (no multicast beyond this
machine, one known peer), so resolving never waits on the network.

The variable is set at import, before any test loads liblsl, and child processes
(`stimctl sim emg` in the closed-loop tests) inherit it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

os.environ["LSLAPICFG"] = str(Path(__file__).with_name("lsl_api.cfg"))


@pytest.fixture
def stream_suffix() -> str:
    """A unique suffix, so streams of parallel or earlier tests never answer a resolve."""
    return uuid.uuid4().hex[:8]
