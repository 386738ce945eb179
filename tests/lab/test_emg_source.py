"""The LSL EMG source (issue 18 item 3) against real streams on loopback: MEPs measured
around journaled pulses, background bursts rejected with the reason, and a stream that
is missing, silent or gone stops the hunt with exit code 12."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pylsl
import pytest

from simulators.emg import SyntheticEmg
from stimctl.clock import MonotonicClock
from stimctl.errors import ConfigError, EmgStreamError, ExitCode
from stimctl.lab.emg_source import LslEmgSource, make_lsl_source
from stimctl.lab.markers import MarkerOutlet
from stimctl.mep import TrialRejected
from stimctl.rmt.journaling import HuntJournal
from tests.lab.helpers import NoiseOutlet

CLOCK = MonotonicClock()


@pytest.fixture
def emg(stream_suffix: str) -> Iterator[SyntheticEmg]:
    """A synthetic amplifier (no random bursts) listening to its own marker stream."""
    outlet = MarkerOutlet(CLOCK, f"markers-{stream_suffix}")
    synthetic = SyntheticEmg(
        52, 3, name=f"emg-{stream_suffix}", markers=f"markers-{stream_suffix}", burst_rate_hz=0.0
    )
    synthetic.outlet_for_test = outlet  # type: ignore[attr-defined]
    with synthetic:
        assert synthetic.marker_stream_found.wait(5)
        yield synthetic
    outlet.close()


def _journal(tmp_path: Path, *listeners: object) -> HuntJournal:
    return HuntJournal.start(
        clock=CLOCK,
        start={"subject": "S"},
        directory=tmp_path,
        listeners=listeners,  # type: ignore[arg-type]
    )


def test_an_injected_burst_is_rejected_and_a_quiet_trial_counts(
    emg: SyntheticEmg, tmp_path: Path
) -> None:
    source = LslEmgSource(emg.name)
    record = _journal(tmp_path, emg.outlet_for_test, source.bind(CLOCK))  # type: ignore[attr-defined]
    source.open()
    traces = []
    source.on_trace = traces.append

    record.fired(80)  # far above the subject's 52 % MSO
    quiet = source.response(80)
    assert quiet.amplitude_uv is not None and quiet.amplitude_uv > 200

    # The muscle is active from now on (samples are sent 20 ms after their time, so the
    # burst starts before anything of it is out); the pulse comes 80 ms into it.
    emg.inject_burst(pylsl.local_clock(), 0.3, rms_uv=120.0)
    time.sleep(0.08)
    record.fired(80)
    with pytest.raises(TrialRejected) as rejected:
        source.response(80)
    assert "background EMG" in rejected.value.reason and "RMS" in rejected.value.reason
    assert [t.rejected is None for t in traces] == [True, False]
    assert 100 < traces[1].background_rms_uv < 140
    assert [t.seq for t in traces] == [2, 3]  # the journal's pulse records
    record.finish(None, error="test over")


def test_the_background_limits_are_configurable(emg: SyntheticEmg, tmp_path: Path) -> None:
    source = make_lsl_source(emg.name, {"background_rms_uv": "500", "background_peak_uv": "5000"})
    assert isinstance(source, LslEmgSource)
    record = _journal(tmp_path, emg.outlet_for_test, source.bind(CLOCK))  # type: ignore[attr-defined]
    source.open()
    emg.inject_burst(pylsl.local_clock(), 0.3, rms_uv=120.0)
    time.sleep(0.08)
    record.fired(80)
    reading = source.response(80)  # 120 µV RMS is below this lab's 500 µV limit
    assert reading.amplitude_uv is not None
    record.finish(None, error="test over")


def test_a_missing_stream_is_exit_12_within_the_resolve_timeout(stream_suffix: str) -> None:
    source = LslEmgSource(f"nobody-{stream_suffix}", resolve_timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(EmgStreamError, match="no LSL stream named or of type") as raised:
        source.open()
    assert raised.value.exit_code == ExitCode.EMG_STREAM == 12
    assert time.monotonic() - started < 3.0


def test_a_stream_that_never_sends_is_refused_before_the_first_pulse(stream_suffix: str) -> None:
    outlet = NoiseOutlet(f"mute-{stream_suffix}")
    outlet.silence.set()
    outlet.start()
    try:
        source = LslEmgSource(outlet_name(outlet), timeout_s=0.3)
        with pytest.raises(EmgStreamError, match="is silent: 0 samples"):
            source.open()
    finally:
        outlet.stop()


def outlet_name(outlet: NoiseOutlet) -> str:
    return str(outlet.outlet.get_info().name())


@pytest.mark.parametrize("how", ["silent", "gone"])
def test_a_stream_that_stops_mid_hunt_is_exit_12(
    stream_suffix: str, tmp_path: Path, how: str
) -> None:
    outlet = NoiseOutlet(f"stops-{stream_suffix}").start()
    name = outlet_name(outlet)
    source = LslEmgSource(name, timeout_s=0.5)
    record = _journal(tmp_path, source.bind(CLOCK))
    source.open()
    record.fired(50)
    assert source.response(50).amplitude_uv is not None  # fine while it sends
    if how == "silent":
        outlet.silence.set()
    else:
        outlet.stop()
    time.sleep(0.1)
    record.fired(50)
    with pytest.raises(EmgStreamError) as raised:
        source.response(50)
    assert raised.value.exit_code == ExitCode.EMG_STREAM
    assert name in str(raised.value)
    assert "silent" in str(raised.value) or "broke" in str(raised.value)
    if how == "silent":
        outlet.stop()


def test_a_stream_without_a_unit_needs_one(stream_suffix: str) -> None:
    outlet = NoiseOutlet(f"nounit-{stream_suffix}", unit=None).start()
    try:
        with pytest.raises(ConfigError, match="does not declare its unit"):
            LslEmgSource(outlet_name(outlet)).open()
        source = make_lsl_source(outlet_name(outlet), {"unit": "mV"})
        source.open()  # type: ignore[attr-defined]
        assert source._scale == 1000.0  # type: ignore[attr-defined]
        source.close()  # type: ignore[attr-defined]
    finally:
        outlet.stop()


def test_a_pulse_nobody_journaled_is_not_measured(stream_suffix: str) -> None:
    outlet = NoiseOutlet(f"nopulse-{stream_suffix}").start()
    try:
        source = LslEmgSource(outlet_name(outlet))
        source.bind(CLOCK)
        with pytest.raises(ConfigError.__mro__[1], match="no journaled pulse"):
            source.response(50)
    finally:
        outlet.stop()


@pytest.mark.parametrize(
    "options",
    [{"window": "1"}, {"mep_ms": "15"}, {"background_rms_uv": "lots"}, {"mep_ms": "50:15"}],
)
def test_bad_source_options_are_bad_input(options: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        make_lsl_source("stimctl-emg", options)


def test_two_streams_of_one_name_are_ambiguous(stream_suffix: str) -> None:
    first = NoiseOutlet(f"twin-{stream_suffix}").start()
    # The same name from another source (a second amplifier app left running).
    info = pylsl.StreamInfo(f"twin-{stream_suffix}", "EMG", 1, 1000.0, pylsl.cf_float32, "other")
    other = pylsl.StreamOutlet(info)
    time.sleep(1.0)  # both running for a while, as two apps left open would be
    try:
        with pytest.raises(ConfigError, match="2 LSL streams named"):
            LslEmgSource(f"twin-{stream_suffix}").open()
    finally:
        first.stop()
        del other
