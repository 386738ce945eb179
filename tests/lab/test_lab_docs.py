"""docs/lab-integration.md agrees with the code: every EMG source option, the stream
names and types, the exit code, and the keys a pulse marker carries."""

from __future__ import annotations

import json
from pathlib import Path

from stimctl.errors import ExitCode
from stimctl.journal import JournalRecord
from stimctl.lab import lsl
from stimctl.lab.emg_source import OPTION_KEYS
from stimctl.lab.markers import marker_for

DOC = (Path(__file__).resolve().parents[2] / "docs" / "lab-integration.md").read_text("utf-8")


def test_every_emg_option_and_name_is_documented() -> None:
    for key in OPTION_KEYS:
        assert f"`{key}`" in DOC, key
    for name in (lsl.MARKER_STREAM, lsl.MARKER_TYPE, lsl.EMG_STREAM, lsl.EMG_TYPE):
        assert f"`{name}`" in DOC, name
    assert f"exit code {ExitCode.EMG_STREAM}" in DOC
    assert "(lab-triggers.md)" in DOC
    assert "--mep rda:HOST[:PORT]" in DOC and "`marker=TYPE`" in DOC


def test_the_documented_pulse_marker_is_what_a_pulse_record_gives() -> None:
    documented = json.loads(DOC.split("```json\n", 1)[1].split("```", 1)[0])
    record: JournalRecord = {
        "seq": 12,
        "utc": "",
        "mono": 0.0,
        "actor": "device",
        "event": "pulse",
        "payload": {"train": 0, "index": 3},
        "prev": "",
    }
    made = marker_for(record, documented["session"], {"mso": 61, "rmt": 110.0})
    assert made == documented


def test_live_sources_are_found_through_the_entry_point_group() -> None:
    import pytest

    from stimctl.errors import ConfigError
    from stimctl.lab.emg_source import LslEmgSource
    from stimctl.lab.rda import RdaEmgSource
    from stimctl.rmt.registry import load_stream_source

    assert isinstance(load_stream_source("lsl:stimctl-emg", {}), LslEmgSource)
    rda = load_stream_source("rda:10.0.0.2:51244", {"marker": "Stimulus"})
    assert isinstance(rda, RdaEmgSource) and (rda.host, rda.port) == ("10.0.0.2", 51244)
    for spec in ("nope:x", "virtual:52", "lsl"):
        with pytest.raises(ConfigError):
            load_stream_source(spec, {})
