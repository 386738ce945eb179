"""The threshold screen draws each live MEP trial (issue 18 item 4), driven headless with
Pilot: a real hunt over LSL (synthetic EMG, marker outlet, LSL EMG source) whose third
pulse lands in an injected background burst."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import pylsl
from rich.console import Console
from textual.widgets import DataTable, Static

from simulators.emg import SyntheticEmg
from stimctl.clock import MonotonicClock, VirtualClock
from stimctl.console.mep_plot import trace_plot
from stimctl.console.threshold import HuntControl, ThresholdApp
from stimctl.lab.emg_source import LslEmgSource
from stimctl.lab.markers import MarkerOutlet
from stimctl.lab.mep_window import MepTrace, MepWindows
from stimctl.rmt import HuntLimits, HuntResult, MlPest, hunt
from stimctl.rmt.journaling import HuntJournal

PULSES = 6
BURST_AT = 3  # the third pulse


def text_of(widget: Static) -> str:
    console = Console(width=120, record=True)
    console.print(widget.render())
    return console.export_text()


def test_the_threshold_screen_shows_each_trial_with_its_windows_and_verdict(
    tmp_path: Path, stream_suffix: str
) -> None:
    clock = MonotonicClock()
    outlet = MarkerOutlet(clock, f"markers-{stream_suffix}")
    emg = SyntheticEmg(52, 3, name=f"emg-{stream_suffix}", markers=outlet.name, burst_rate_hz=0.0)

    def job(control: HuntControl) -> HuntResult:
        source = LslEmgSource(emg.name)
        source.on_trace = control.trace
        record = HuntJournal.start(
            clock=clock,
            start={"subject": "S01"},
            directory=tmp_path,
            listeners=(outlet, source.bind(clock)),
        )
        source.open()
        fired = 0

        def stimulate(intensity: int) -> None:
            nonlocal fired
            fired += 1
            if fired == BURST_AT:
                emg.inject_burst(pylsl.local_clock(), 0.12, rms_uv=150.0)
                time.sleep(0.08)
            record.fired(intensity)

        result = hunt(
            MlPest(limits=HuntLimits(80, 20, PULSES)),
            source,
            clock=control.clock(VirtualClock()),  # pacing skipped; the EMG is real time
            stimulate=control.guard(stimulate),
            rng=random.Random(1),
            on_pulse=control.pulse,
            on_rejected=control.rejected,
        )
        record.finish(result)
        source.close()
        return result

    async def main() -> ThresholdApp:
        app = ThresholdApp(job, title="S01 · ml-pest · lsl", max_pulses=PULSES)
        async with app.run_test(size=(120, 50)) as pilot:
            for _ in range(300):
                await pilot.pause(0.05)
                if app.end is not None:
                    break
            await pilot.pause(0.2)
            plots = list(app.query(".mep-plot").results(Static))
            app.plot_texts = [text_of(p) for p in plots]  # type: ignore[attr-defined]
            app.table_rows = [  # type: ignore[attr-defined]
                [str(c) for c in app.query_one("#trace", DataTable).get_row_at(i)]
                for i in range(app.query_one("#trace", DataTable).row_count)
            ]
            app.meps_shown = app.query_one("#meps").display  # type: ignore[attr-defined]
        app.wait()
        return app

    with emg:
        assert emg.marker_stream_found.wait(10), emg.listen_errors
        app = asyncio.run(main())
    outlet.close()

    assert app.end is not None and app.end.error is None, app.end
    traces: list[MepTrace] = app.traces
    assert len(traces) == PULSES + 1  # every pulse, the rejected one too
    assert [t.rejected is not None for t in traces].count(True) == 1
    assert traces[BURST_AT - 1].rejected is not None
    assert app.meps_shown  # type: ignore[attr-defined]
    texts: list[str] = app.plot_texts  # type: ignore[attr-defined]
    assert len(texts) == 3  # the latest three trials
    assert all("% MSO" in t and "µV" in t for t in texts)
    # The rejected trial's row in the table, and its reason in its plot (while shown).
    rows: list[list[str]] = app.table_rows  # type: ignore[attr-defined]
    assert sum(row[3] == "rejected" for row in rows) == 1
    assert len(rows) == PULSES + 1


def test_a_plot_marks_the_windows_the_amplitude_and_the_verdict() -> None:
    rate = 2000.0
    times = tuple(-0.06 + i / rate for i in range(int(0.12 * rate)))
    values = tuple(
        300.0 if 0.025 <= t < 0.03 else (-300.0 if 0.03 <= t < 0.035 else 0.0) for t in times
    )
    ok = MepTrace(60, times, values, MepWindows(), 600.0, 2.0, 5.0, None, 7)
    bad = MepTrace(
        60,
        times,
        values,
        MepWindows(),
        600.0,
        80.0,
        240.0,
        "background EMG 80 µV RMS >= 50 µV in -50..-5 ms",
        8,
    )

    def spans(text: Any, style_part: str) -> int:
        return sum(1 for span in text.spans if style_part in str(span.style))

    shown = trace_plot(ok)
    assert "600.0 µV" in shown.plain and " OK " in shown.plain
    assert spans(shown, "grey23") > 0 and spans(shown, "#1c3455") > 0  # both windows shaded
    assert "┆" in shown.plain  # the pulse
    assert "│" in shown.plain or "█" in shown.plain  # the MEP drawn
    rejected = trace_plot(bad)
    assert " REJECTED " in rejected.plain and "background EMG 80 µV RMS" in rejected.plain
