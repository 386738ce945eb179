"""`stimctl rmt hunt`: find a resting motor threshold by a standard method.

Loaded lazily by the `rmt` group (stimctl.cli.rmt_cmd). Who fires the pulses:

- `--device MODEL --port URL`: the stimulator, through its driver (stimctl.rmt.device);
  the device is disarmed at the end and on any error. The operator types each response.
- `--device MODEL --port stimsim://...`, or `--device MODEL --virtual-rmt PCT` without a
  port: the profile's built-in simulator, through the same driver, with the virtual
  subject under its coil reporting each pulse's MEP (a dry run of the whole chain).
- `--mep lsl:NAME` with a device: MEPs measured from a live EMG stream around each
  journaled pulse (stimctl.lab.emg_source; docs/lab-integration.md); `--lsl [NAME]`
  publishes a marker per pulse and state change. A broken EMG stream exits 12.
- otherwise nobody: the source stands for the pulse (`--virtual-rmt` a virtual subject
  alone, `--amplitudes FILE` a replay), or the operator fires by hand at the intensity
  shown and types the response.

Storing: a threshold found by the operator is stored in the record store with its device
and coil (`--no-store` to skip). A virtual subject's threshold, or any from a simulated
device, is never stored (a simulated number must not become a dosing basis); a replayed
file's only with `--store`.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stimctl import plausible
from stimctl.cli.lab_options import LSL_OPTION, lab_listeners
from stimctl.cli.options import PERCENT_MSO, Bounded
from stimctl.cli.rmt_cmd import MUSCLE, THRESHOLD_TYPE
from stimctl.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from stimctl.clock import Clock
    from stimctl.console.threshold import HuntControl
    from stimctl.device_profiles import DeviceProfile
    from stimctl.journal.writer import JournalListener
    from stimctl.records import ThresholdRecord
    from stimctl.rmt import HuntResult, MepSource, PulseRecord, ThresholdMethod
    from stimctl.rmt.device import HuntDevice
    from stimctl.rmt.journaling import HuntJournal

# Exit status when the hunt stopped at a cap without a threshold (the numeric value is
# shared with `check`'s "override required": "ran fine, but look at the result").
NO_THRESHOLD = ExitCode.OVERRIDE_REQUIRED

_PERCENT = click.IntRange(1, 100)  # whole % MSO: the devices' resolution

METHODS = ("rr", "rr-10-20", "mills-nithi", "ml-pest", "bayes-amplitude")
DEFAULT_PRIOR_SD = 2.5  # % MSO: an assumed 2 day-to-day and 1.3 hunt error (ADR 0034)
DEFAULT_START = 70  # % MSO: above most resting thresholds (safety-limits 4.2: 95th pct 81)


ACTIVE_MEP_CRITERION_UV = 200.0
"""AMT: MEPs of about 200 uV in 5 of 10 trials during slight contraction (safety-limits
4.1 and 2.1, Huang 2005 [R]); the resting criterion is 50 uV."""


def build_method(
    name: str,
    *,
    start: int | None,
    max_intensity: int,
    min_intensity: int,
    max_pulses: int | None,
    kind: str = "rmt",
    prior: tuple[float, float] | None = None,
) -> ThresholdMethod:
    """The method object for a CLI method name, with the given limits; an AMT hunt uses
    the active criterion (200 uV). `prior` (centre, SD in % MSO) is bayes-amplitude's
    optional normal prior on the threshold."""
    from stimctl.rmt import Criterion, HuntLimits, MillsNithi, MlPest, RelativeFrequency

    criterion = Criterion(ACTIVE_MEP_CRITERION_UV) if kind == "amt" else Criterion()

    first = min(DEFAULT_START, max_intensity) if start is None else start
    if name == "bayes-amplitude":
        if kind == "amt":
            # Its prior is the resting-muscle population of Goetz 2019 (ADR 0017).
            raise ConfigError("bayes-amplitude models the resting muscle; hunt an AMT with ml-pest")
        from stimctl.rmt.methods.bayes_amplitude import BayesAmplitude, ThresholdPrior

        return BayesAmplitude(
            limits=HuntLimits(max_intensity, min_intensity, max_pulses or 20),
            prior=None if prior is None else ThresholdPrior(*prior),
        )
    if prior is not None:
        raise ConfigError("a threshold prior is only for --method bayes-amplitude")
    if name == "ml-pest":
        return MlPest(
            limits=HuntLimits(max_intensity, min_intensity, max_pulses or 20), criterion=criterion
        )
    trials = 20 if name == "rr-10-20" else 10
    # Default budget: 25 levels' worth of full trials (250 pulses, 500 for 10 of 20).
    limits = HuntLimits(max_intensity, min_intensity, max_pulses or 25 * trials)
    if name == "rr":
        return RelativeFrequency(first, limits=limits, criterion=criterion)
    if name == "rr-10-20":
        return RelativeFrequency(first, positives=10, trials=20, limits=limits, criterion=criterion)
    if name == "mills-nithi":
        return MillsNithi(first, limits=limits, criterion=criterion)
    raise ConfigError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")


@click.command()
@click.argument("subject")
@click.option("--method", type=click.Choice(METHODS), required=True, help="Threshold method.")
@click.option(
    "--device",
    default=None,
    help="Device profile (MODEL): fires the pulses with --port; simulated with --virtual-rmt.",
)
@click.option("--coil", default=None, help="Coil used (stored with the threshold).")
@click.option(
    "--port",
    default=None,
    help="Port URL of the stimulator (needs --device); stimsim://... for its simulator.",
)
@click.option(
    "--driver-option",
    "driver_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Driver option, e.g. unlock_code=... for a Rapid².",
)
@click.option(
    "--virtual-rmt",
    type=PERCENT_MSO,
    default=None,
    help="Hunt on a virtual subject with this RMT (half its pulses there reach 50 µV).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    default=None,
    help="Seed for the virtual subject and jitter.",
)
@click.option(
    "--amplitudes",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Replay responses from a file (one µV or yes/no per line, or intensity,amplitude).",
)
@click.option(
    "--mep",
    "mep_spec",
    default=None,
    metavar="SCHEME:TARGET",
    help="Measure MEPs from a live EMG stream, e.g. lsl:stimctl-emg (needs --device).",
)
@click.option(
    "--mep-option",
    "mep_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="EMG source option: mep_ms=15:50, background_ms=-50:-5, background_rms_uv=50, "
    "background_peak_uv=200, timeout_s=1, channel=0, unit=uV.",
)
@LSL_OPTION
@click.option(
    "--start",
    type=_PERCENT,
    default=None,
    help="Start intensity, % MSO [70; not ml-pest, bayes-amplitude].",
)
@click.option("--max-intensity", type=_PERCENT, default=100, show_default=True, help="Cap, % MSO.")
@click.option("--min-intensity", type=_PERCENT, default=20, show_default=True, help="Floor, % MSO.")
@click.option(
    "--max-pulses",
    type=click.IntRange(1, plausible.MAX_HUNT_PULSES),
    default=None,
    help="Pulse cap [ml-pest and bayes-amplitude 20, rr-10-20 500, else 250].",
)
@click.option(
    "--interval", type=Bounded(0, 60), default=5.0, show_default=True, help="Min s between."
)
@click.option(
    "--jitter", type=Bounded(0, 60), default=1.0, show_default=True, help="Random extra s."
)
@click.option(
    "--speed",
    type=click.Choice(["realtime", "max"]),
    default="realtime",
    show_default=True,
    help="max: simulated time (only for a virtual subject, a replay or a simulated device).",
)
@click.option(
    "--store/--no-store",
    default=None,
    help="Store the threshold in the records [yes for operator hunts, no for replays].",
)
@click.option(
    "--prior-from-records",
    is_flag=True,
    help="bayes-amplitude: use SUBJECT's latest recorded RMT (same muscle) as a normal prior "
    "on the threshold (ADR 0034).",
)
@click.option(
    "--prior-sd",
    type=Bounded(0.5, 50.0),
    default=None,
    help="SD of that prior, % MSO: day-to-day change and the earlier hunt's error [2.5].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@THRESHOLD_TYPE
@MUSCLE
@click.option(
    "--console",
    is_flag=True,
    help="Show the hunt on the threshold screen; responses are typed there (F1 stops it).",
)
def hunt(
    subject: str,
    method: str,
    device: str | None,
    coil: str | None,
    port: str | None,
    driver_options: tuple[str, ...],
    virtual_rmt: float | None,
    seed: int | None,
    amplitudes: Path | None,
    mep_spec: str | None,
    mep_options: tuple[str, ...],
    lsl: str | None,
    start: int | None,
    max_intensity: int,
    min_intensity: int,
    max_pulses: int | None,
    interval: float,
    jitter: float,
    speed: str,
    store: bool | None,
    prior_from_records: bool,
    prior_sd: float | None,
    as_json: bool,
    kind: str,
    muscle: str,
    console: bool,
) -> int:
    """Hunt the motor threshold (`--type rmt|amt`, `--muscle`) of SUBJECT.

    Exit 0 threshold found, 1 stopped at a cap without a threshold, 2 bad input; device
    and link errors exit with their own codes (stimctl.errors), the device disarmed.
    """
    from stimctl.clock import MonotonicClock, SimulatedClock, VirtualClock
    from stimctl.rmt import PulseInterval
    from stimctl.rmt import hunt as run_hunt

    if virtual_rmt is not None and amplitudes is not None:
        raise click.UsageError("--virtual-rmt and --amplitudes are two different sources")
    if console and as_json:
        raise click.UsageError("--console shows the hunt on screen, --json prints it: choose one")
    if mep_spec is not None and (virtual_rmt is not None or amplitudes is not None):
        raise click.UsageError(
            "--mep reads a live EMG stream; --virtual-rmt and --amplitudes are other sources"
        )
    if mep_options and mep_spec is None:
        raise click.UsageError("--mep-option needs --mep")
    wiring = _wiring(device, port, virtual_rmt, amplitudes)
    if driver_options and wiring.fired_by is None:
        raise ConfigError("--driver-option needs a device to fire through (--device and --port)")
    if (mep_spec is not None or lsl is not None) and wiring.fired_by is None:
        raise ConfigError(
            f"{'--mep' if mep_spec is not None else '--lsl'} needs a stimulator that stimctl "
            "fires and journals (--device with --port; stimsim://MODEL for its simulator)"
        )
    responses_simulated = virtual_rmt is not None or amplitudes is not None
    # With a simulated stimulator no real pulse is given, so skipping the interval is harmless.
    if speed == "max" and not responses_simulated and wiring.fired_by != "simulator":
        raise ConfigError(
            "--speed max skips the inter-pulse interval and is only for --virtual-rmt, "
            "--amplitudes or a simulated stimulator"
        )

    if virtual_rmt is not None and store:
        raise ConfigError("a virtual subject's threshold is never stored in the records")
    if wiring.fired_by == "simulator" and store:
        raise ConfigError("a threshold hunted on a simulated device is never stored")
    dry = responses_simulated or wiring.fired_by == "simulator"
    store_result = (amplitudes is None and not dry) if store is None else store
    if store_result:
        _require_subject(subject)  # before any pulse, not after the hunt
    if prior_sd is not None and not prior_from_records:
        raise click.UsageError("--prior-sd needs --prior-from-records")
    prior_sd = DEFAULT_PRIOR_SD if prior_sd is None else prior_sd
    prior = None
    if prior_from_records:
        if method != "bayes-amplitude" or kind != "rmt":
            raise ConfigError("--prior-from-records is only for --method bayes-amplitude (RMT)")
        prior = _recorded_prior(subject, muscle, device)

    threshold_method = build_method(
        method,
        start=start,
        max_intensity=max_intensity,
        min_intensity=min_intensity,
        max_pulses=max_pulses,
        kind=kind,
        prior=None if prior is None else (prior.percent_mso, prior_sd),
    )
    pacing = PulseInterval(interval, jitter)
    if wiring.profile is not None and wiring.fired_by is not None:
        from stimctl.rmt.device import check_hunt_fits_device

        check_hunt_fits_device(wiring.profile, threshold_method.limits, pacing)
    clock: Clock
    if speed != "max":
        clock = MonotonicClock()
    else:  # a simulated device shares the timeline with its driver's threads
        clock = SimulatedClock() if wiring.fired_by == "simulator" else VirtualClock()
    rng = random.Random(f"jitter-{seed}") if seed is not None else random.Random()

    def show(record: PulseRecord) -> None:
        amplitude = "" if record.amplitude_uv is None else f"{record.amplitude_uv:8.1f} uV"
        estimate = "" if record.estimate is None else f"estimate {record.estimate:g}"
        click.echo(
            f"{record.index:4d}  {record.intensity:3d} % MSO  {amplitude:>11}  "
            f"{'yes' if record.response else 'no ':3}  {estimate}",
            err=as_json,
        )

    rejected_trials: list[dict[str, Any]] = []

    def execute(control: HuntControl | None) -> tuple[HuntResult, bool | None]:
        """The hunt, from opening the stimulator to its disarm; `control`: the console's."""
        hunt_device: HuntDevice | None = None
        try:
            with (
                contextlib.ExitStack() as stack,
                _stimulator(
                    wiring, clock, virtual_rmt, seed, _key_values(driver_options), warn=_warn
                ) as hunt_device,
            ):
                if mep_spec is not None:
                    source: MepSource = _live_source(mep_spec, mep_options, stack)
                elif hunt_device is not None and hunt_device.simulated and virtual_rmt is not None:
                    source = hunt_device.emg_source()
                elif control is not None and virtual_rmt is None and amplitudes is None:
                    from stimctl.rmt import OperatorSource

                    # The screen owns the terminal: responses are typed in its dialog.
                    source = OperatorSource(
                        control.ask, control.tell, device_fires=hunt_device is not None
                    )
                else:
                    source = _source(
                        virtual_rmt,
                        seed,
                        amplitudes,
                        prompts_to_stderr=as_json,
                        device_fires=hunt_device is not None,
                    )
                listeners = lab_listeners(clock, lsl, source, stack)
                if control is not None and hasattr(source, "on_trace"):
                    source.on_trace = control.trace
                record = _journal_for(
                    hunt_device, clock, subject, method, wiring, port, listeners=listeners
                )

                def on_pulse(pulse: PulseRecord) -> None:
                    if record is not None:
                        record.response(pulse)
                    if control is not None:
                        control.pulse(pulse)
                    elif not as_json:
                        show(pulse)

                stimulate = None if hunt_device is None else _journaled(hunt_device, record)

                def on_rejected(intensity: int, reason: str) -> None:
                    rejected_trials.append({"intensity": intensity, "reason": reason})
                    if record is not None:
                        record.rejected(intensity, reason)
                    if control is not None:
                        control.rejected(intensity, reason)
                    elif not as_json:
                        click.echo(f"      {intensity:3d} % MSO  rejected: {reason}")

                try:
                    result = run_hunt(
                        threshold_method,
                        source,
                        clock=clock if control is None else control.clock(clock),
                        stimulate=stimulate if control is None else control.guard(stimulate),
                        interval=pacing,
                        rng=rng,
                        on_pulse=on_pulse,
                        on_rejected=on_rejected,
                    )
                except BaseException as exc:
                    if record is not None:
                        stopped = control is not None and control.stopped
                        record.finish(None, error=str(exc) or type(exc).__name__, stopped=stopped)
                    raise
                if record is not None:
                    record.finish(result)
        finally:
            disarmed = None
            if hunt_device is not None and hunt_device.stimulate.stop_report is not None:
                disarmed = hunt_device.stimulate.stop_report.disarmed
            if control is not None:
                control.report_disarm(disarmed)
        return result, disarmed

    if console:
        from stimctl.console.threshold import run_threshold_console

        end = run_threshold_console(
            lambda control: execute(control)[0],
            title=f"{subject} · {method} · {wiring.fired_by or 'no stimulator'}",
            max_pulses=threshold_method.limits.max_pulses,
        )
        if end.disarmed is False and wiring.profile is not None:
            # Said on the screen too; the warning from the hunt's thread went to the screen.
            _warn(f"WARNING: {wiring.profile.name} did not confirm the disarm; check it now")
        if end.error is not None or end.result is None:
            raise end.error or ConfigError("the threshold hunt ended without a result")
        result, disarmed = end.result, end.disarmed
    else:
        result, disarmed = execute(None)
    device_name = None if wiring.profile is None else wiring.profile.name
    stored_id = None
    if store_result and result.rmt is not None:
        stored_id = _store(subject, result, device=device_name, coil=coil, kind=kind, muscle=muscle)
    if as_json:
        payload = {
            "subject": subject,
            "device": device_name,
            "coil": coil,
            "port": None if port is None else _redacted(port),
            "fired_by": wiring.fired_by or "none",
            "disarmed": disarmed,
            "stored": stored_id,
            "type": kind,
            "muscle": muscle,
            **result.as_dict(),
        }
        if prior is not None:
            payload["prior"] = {
                "threshold_id": prior.id,
                "percent_mso": prior.percent_mso,
                "measured_on": prior.measured_on.isoformat(),
                "sd": prior_sd,
            }
        if virtual_rmt is not None:
            payload["virtual_rmt"] = virtual_rmt
        if mep_spec is not None:
            payload["mep_source"] = mep_spec
            payload["rejected_trials"] = rejected_trials
        click.echo(json.dumps(payload, indent=2))
    else:
        _print_summary(result, kind, muscle)
        if stored_id is not None:
            click.echo(f"stored as threshold {stored_id} for {subject}")
    return ExitCode.OK if result.converged else NO_THRESHOLD


def _journaled(hunt_device: Any, record: HuntJournal | None) -> Callable[[int], None]:
    """The device's stimulate, journaling each pulse as soon as the device has fired it
    (before any response: a pulse nobody answered is still an exposure)."""
    stimulate: Callable[[int], None] = hunt_device.stimulate
    if record is None:
        return stimulate

    def fire(intensity: int) -> None:
        stimulate(intensity)
        record.fired(intensity, getattr(hunt_device.stimulate, "last_receipt", None))

    return fire


def _journal_for(
    hunt_device: object | None,
    clock: Clock,
    subject: str,
    method: str,
    wiring: Wiring,
    port: str | None,
    *,
    listeners: tuple[JournalListener, ...] = (),
) -> HuntJournal | None:
    """Pulses fired through a stimulator are journaled; a paper-only hunt is not."""
    if hunt_device is None:
        return None
    from stimctl.rmt.journaling import HuntJournal

    start = {
        "subject": subject,
        "method": method,
        "device": None if wiring.profile is None else wiring.profile.name,
        "port": None if port is None else _redacted(port),
        "fired_by": wiring.fired_by,
    }
    return HuntJournal.start(clock=clock, start=start, listeners=listeners)


@dataclass(frozen=True)
class Wiring:
    """Which stimulator fires the hunt's pulses.

    `fired_by`: "device" (a real port), "simulator" (the profile's built-in simulator) or
    None (no pulses fired by stimctl). `port` is the URL as given (None: no port).
    """

    profile: DeviceProfile | None
    port: str | None
    fired_by: str | None


def _wiring(
    device: str | None, port: str | None, virtual_rmt: float | None, amplitudes: Path | None
) -> Wiring:
    """Decide from the options who fires; refuse combinations that make no sense."""
    from stimctl.rmt.device import is_simulator_url

    profile = None if device is None else _profile(device)
    if port is None:
        if profile is not None and virtual_rmt is not None:
            # "simulate that device": its simulator fires, the subject sits under its coil
            return Wiring(profile, None, "simulator" if profile.simulator else None)
        return Wiring(profile, None, None)
    if profile is None:
        raise ConfigError("--port needs --device MODEL: the driver and its limits come from it")
    if amplitudes is not None:
        raise ConfigError("--amplitudes replays recorded responses; it fires nothing (no --port)")
    if is_simulator_url(port):
        return Wiring(profile, port, "simulator")
    if virtual_rmt is not None:
        raise ConfigError(
            "--virtual-rmt with a real port: pulses from a real coil must not be judged by "
            "made-up responses (omit --port to simulate the device)"
        )
    return Wiring(profile, port, "device")


@contextlib.contextmanager
def _stimulator(
    wiring: Wiring,
    clock: Clock,
    virtual_rmt: float | None,
    seed: int | None,
    driver_options: dict[str, str],
    *,
    warn: Callable[[str], None],
) -> Iterator[HuntDevice | None]:
    """The open stimulator of the hunt (None: nothing to fire); disarmed when done."""
    if wiring.fired_by is None or wiring.profile is None:
        yield None
        return
    from stimctl.rmt.device import open_hunt_device

    hunt_device: HuntDevice | None = None
    try:
        with open_hunt_device(
            wiring.profile,
            wiring.port,
            clock=clock,
            subject_rmt=virtual_rmt,
            subject_seed=seed,
            driver_options=driver_options,
        ) as hunt_device:
            yield hunt_device
    finally:
        report = None if hunt_device is None else hunt_device.stimulate.stop_report
        if report is not None and not report.disarmed:
            warn(
                f"WARNING: {wiring.profile.name} did not confirm the disarm "
                f"({report.error}); check the stimulator now"
            )


def _redacted(port: str) -> str:
    """A port URL fit to print: a Rapid's unlock code is the unit's secret."""
    return re.sub(r"(unlock_code=)[^&]*", r"\1***", port)


def _warn(message: str) -> None:
    click.echo(message, err=True)


def _key_values(pairs: tuple[str, ...], flag: str = "--driver-option") -> dict[str, str]:
    """`KEY=VALUE` options into a dict; anything else is bad input."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} {pair!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


def _live_source(spec: str, options: tuple[str, ...], stack: contextlib.ExitStack) -> MepSource:
    """The live EMG source `--mep SCHEME:TARGET`, opened now (a missing stream is found
    before the first pulse, not after it) and closed when the hunt ends."""
    from stimctl.rmt.registry import load_stream_source

    source = load_stream_source(spec, _key_values(options, flag="--mep-option"))
    opener = getattr(source, "open", None)
    if opener is not None:
        opener()
    closer = getattr(source, "close", None)
    if closer is not None:
        stack.callback(closer)
    return source


def _source(
    virtual_rmt: float | None,
    seed: int | None,
    amplitudes: Path | None,
    *,
    prompts_to_stderr: bool,
    device_fires: bool = False,
) -> MepSource:
    from stimctl.rmt import FileSource, OperatorSource
    from stimctl.rmt.registry import VIRTUAL, load_mep_source_factory

    if virtual_rmt is not None:
        return load_mep_source_factory(VIRTUAL)(virtual_rmt, seed)
    if amplitudes is not None:
        return FileSource(amplitudes)

    def ask(question: str) -> str:
        # With --json, stdout carries only the JSON object.
        return str(click.prompt(question, type=str, err=prompts_to_stderr))

    return OperatorSource(
        ask, lambda message: click.echo(message, err=True), device_fires=device_fires
    )


def _profile(device: str) -> DeviceProfile:
    from stimctl.device_profiles import load_profile

    return load_profile(device)  # an unknown profile is a ConfigError


def _recorded_prior(subject: str, muscle: str, device: str | None) -> ThresholdRecord:
    """SUBJECT's latest recorded RMT of this muscle (as measured, not depth-adjusted), the
    centre of bayes-amplitude's prior. None on record, or one from another stimulator, is
    a ConfigError: a prior the operator asked for is never silently dropped."""
    from stimctl.records import Store, list_thresholds

    with Store.open() as records:
        rows = list_thresholds(records, subject)  # an unknown subject is a ConfigError
    found = [t for t in rows if t.kind == "rmt" and t.muscle == muscle and t.adjusted_for is None]
    if not found:
        raise ConfigError(
            f"--prior-from-records: {subject} has no recorded RMT of the {muscle} muscle"
        )
    latest = found[-1]
    if device is not None and latest.device is not None and latest.device != device:
        raise ConfigError(
            f"--prior-from-records: {subject}'s latest RMT ({latest.percent_mso:g} % MSO on "
            f"{latest.measured_on}) was measured on {latest.device}, this hunt uses {device}"
        )
    return latest


def _require_subject(subject: str) -> None:
    from stimctl.records import Store, get_subject

    with Store.open() as records:
        get_subject(records, subject)  # an unknown subject is a ConfigError


def _store(
    subject: str,
    result: HuntResult,
    *,
    device: str | None,
    coil: str | None,
    kind: str,
    muscle: str,
) -> str:
    import datetime as dt

    from stimctl.records import Store, ThresholdRecord, record_threshold

    assert result.rmt is not None
    with Store.open() as records:
        stored = record_threshold(
            records,
            ThresholdRecord(
                subject_id=subject,
                percent_mso=result.rmt,
                method=result.measurement,
                measured_on=dt.datetime.now(dt.UTC).date(),
                device=device,
                coil=coil,
                criterion=result.criterion,
                algorithm=result.method,
                pulses=result.pulses,
                kind=kind,  # type: ignore[arg-type]  # click.Choice guarantees it
                muscle=muscle,
            ),
        )
    return stored.id


def _print_summary(result: HuntResult, kind: str, muscle: str) -> None:
    if result.rmt is not None:
        click.echo(
            f"{kind.upper()} {result.rmt:g} % MSO ({muscle}, {result.method}, {result.criterion}, "
            f"{result.pulses} pulses): {result.reason}"
        )
    else:
        click.echo(
            f"no threshold ({result.method}, {result.outcome.value}, {result.pulses} pulses): "
            f"{result.reason}"
        )
