"""What a session report says, read from the journal (the record of truth).

`load_session` verifies the hash chain and then reads the records. A journal that does
not verify is still read, line by line, as far as each line parses, so the clinician sees
what it claims; the report then carries the tamper verdict and shows it first.

Times in the report are seconds on the session clock: 0 is when the device was ready and
the schedule started (the engine's `t0`), recovered from the first `train_start` record
(`mono - actual_onset_s`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stimctl.journal import events
from stimctl.journal.attest import Attestation
from stimctl.journal.verify import read_bytes, verify_bytes


@dataclass(frozen=True)
class Verification:
    """The journal's verdict (`stimctl.journal.attest`): ``ok`` False means tampered."""

    ok: bool
    reason: str
    head: str
    records: int
    first_bad_line: int | None
    outcome: str = "intact"
    """intact, unsigned, unfinished or tampered."""
    finding: str = "ok"
    key_id: str | None = None


@dataclass(frozen=True)
class TrainRow:
    index: int
    planned_onset_s: float
    actual_onset_s: float
    pulses_planned: int
    pulses: int | None
    intensity_percent_mso: float | None
    intensity_percent_rmt: float | None
    end_s: float | None
    estimated: bool
    timing: str
    delivered_percent_rmt: float | None = None
    """The setting in % of the threshold (46% MSO of an RMT of 52 is 88.5, for 90 prescribed)."""

    @property
    def onset_error_ms(self) -> float:
        return round(1000.0 * (self.actual_onset_s - self.planned_onset_s), 3)

    @property
    def complete(self) -> bool:
        return self.pulses is not None and self.pulses == self.pulses_planned


@dataclass(frozen=True)
class Moment:
    """Something that happened at `t_s` on the session clock."""

    t_s: float
    actor: str
    kind: str
    text: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionData:
    session_id: str
    verification: Verification
    start: dict[str, Any]
    verdict: dict[str, Any]
    override: dict[str, Any] | None
    trains: list[TrainRow]
    planned_trains: list[tuple[float, float]]
    """(onset_s, duration_s) of every planned train, from the journaled protocol."""
    intensity: list[tuple[float, float, float | None]]
    """(t_s, % MSO, % RMT) each time the device intensity was set."""
    coil_temperature: list[tuple[float, float]]
    alarms: list[Moment]
    operator_actions: list[Moment]
    adverse_events: list[Moment]
    states: list[Moment]
    end: dict[str, Any] | None
    started_utc: str | None = None
    """The wall-clock time of the `session_start` record (ISO 8601, UTC)."""
    ended_utc: str | None = None

    @property
    def protocol(self) -> dict[str, Any]:
        value = self.start.get("protocol")
        return value if isinstance(value, dict) else {}


ADVERSE_EVENT_COMMAND = "adverse_event"
ANNOTATE_COMMAND = "annotate"


def load_session(path: Path, attestation: Attestation | None = None) -> SessionData:
    """Read and verify the journal at `path` (raises `ConfigError` when unreadable).

    Without `attestation` the journal is verified against everything on record (its row
    and the signing keys in the store, when there is one)."""
    data = read_bytes(path)
    if attestation is None:
        from stimctl.records.journal_check import attest_path, open_existing_store

        store = open_existing_store()
        try:
            attestation = attest_path(path, store)
        finally:
            if store is not None:
                store.close()
    chain = attestation.chain if attestation.chain is not None else verify_bytes(data)
    verification = Verification(
        ok=not attestation.tampered,
        reason=attestation.message,
        head=chain.head,
        records=chain.records,
        first_bad_line=chain.first_bad_line,
        outcome=str(attestation.outcome),
        finding=attestation.finding,
        key_id=attestation.key_id,
    )
    records = _parse_lines(data)
    return _build(path.stem, verification, records)


def _parse_lines(data: bytes) -> list[dict[str, Any]]:
    """Every line that parses as a JSON object (tampered journals included)."""
    records = []
    for line in data.split(b"\n"):
        try:
            obj = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(obj, dict) and isinstance(obj.get("payload"), dict):
            records.append(obj)
    return records


def _origin(records: list[dict[str, Any]]) -> float:
    for record in records:
        if record.get("event") == events.TRAIN_START:
            return _num(record.get("mono")) - _num(record["payload"].get("actual_onset_s"))
    for record in records:
        return _num(record.get("mono"))
    return 0.0


def _build(
    session_id: str, verification: Verification, records: list[dict[str, Any]]
) -> SessionData:
    t0 = _origin(records)
    start: dict[str, Any] = {}
    verdict: dict[str, Any] = {}
    override: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    starts: dict[int, dict[str, Any]] = {}
    ends: dict[int, dict[str, Any]] = {}
    intensity: list[tuple[float, float, float | None]] = []
    coil: list[tuple[float, float]] = []
    alarms: list[Moment] = []
    actions: list[Moment] = []
    adverse: list[Moment] = []
    states: list[Moment] = []
    started_utc: str | None = None
    ended_utc: str | None = None
    for record in records:
        event = record.get("event")
        payload: dict[str, Any] = record["payload"]
        actor = str(record.get("actor", ""))
        t_s = round(_num(record.get("mono")) - t0, 6)
        if event == events.SESSION_START and not start:
            start = payload
            started_utc = record.get("utc") if isinstance(record.get("utc"), str) else None
        elif event == events.VERDICT:
            verdict = payload
        elif event == events.OVERRIDE:
            override = payload
        elif event == events.SESSION_END:
            end = payload
            ended_utc = record.get("utc") if isinstance(record.get("utc"), str) else None
        elif event == events.TRAIN_START and isinstance(payload.get("train"), int):
            starts[payload["train"]] = payload
        elif event == events.TRAIN_END and isinstance(payload.get("train"), int):
            ends[payload["train"]] = payload
        elif event == events.INTENSITY:
            _intensity_record(t_s, actor, payload, intensity, actions)
        elif event == events.DEVICE:
            temperature = payload.get("coil_temperature_c")
            if isinstance(temperature, int | float):
                coil.append((t_s, float(temperature)))
        elif event == events.ALARM:
            alarms.append(_alarm(t_s, actor, payload))
        elif event == events.OPERATOR:
            moment = _operator(t_s, actor, payload)
            if payload.get("command") == ADVERSE_EVENT_COMMAND:
                adverse.append(moment)
            actions.append(moment)
        elif event == events.STATE:
            text = f"{payload.get('from')} -> {payload.get('to')} ({payload.get('trigger')})"
            states.append(Moment(t_s, actor, "state", text, dict(payload)))
    if not verdict and isinstance(start.get("verdict"), dict):
        verdict = start["verdict"]
    if override is None and isinstance(start.get("override"), dict):
        override = start["override"]
    trains = [_train(starts[i], ends.get(i)) for i in sorted(starts)]
    return SessionData(
        session_id=session_id,
        verification=verification,
        start=start,
        verdict=verdict,
        override=override,
        trains=trains,
        planned_trains=_planned(start),
        intensity=intensity,
        coil_temperature=coil,
        alarms=alarms,
        operator_actions=actions,
        adverse_events=adverse,
        states=states,
        end=end,
        started_utc=started_utc,
        ended_utc=ended_utc,
    )


def _intensity_record(
    t_s: float,
    actor: str,
    payload: dict[str, Any],
    series: list[tuple[float, float, float | None]],
    actions: list[Moment],
) -> None:
    mso = payload.get("percent_mso")
    rmt = payload.get("percent_rmt")
    requested = actor.startswith(events.OPERATOR_PREFIX)
    if requested:
        accepted = bool(payload.get("accepted"))
        text = f"intensity to {_fmt(rmt)}% RMT: " + (
            "accepted" if accepted else f"refused ({payload.get('refusal', '')})"
        )
        if payload.get("reason"):
            text += f"; reason: {payload['reason']}"
        actions.append(Moment(t_s, actor, "intensity", text, dict(payload)))
        return
    if payload.get("accepted", True) and isinstance(mso, int | float):
        series.append((t_s, float(mso), float(rmt) if isinstance(rmt, int | float) else None))


def _alarm(t_s: float, actor: str, payload: dict[str, Any]) -> Moment:
    priority = str(payload.get("priority", ""))
    text = f"{payload.get('code', '?')}: {payload.get('message', '')}"
    return Moment(t_s, actor, priority, text, dict(payload))


def _operator(t_s: float, actor: str, payload: dict[str, Any]) -> Moment:
    command = str(payload.get("command", "?"))
    rest = {k: v for k, v in payload.items() if k != "command"}
    text = command
    if rest:
        text += ": " + ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(rest.items()))
    return Moment(t_s, actor, command, text, dict(payload))


def _train(start: dict[str, Any], end: dict[str, Any] | None) -> TrainRow:
    pulses = end.get("pulses") if end else None
    end_s = end.get("end_s") if end else None
    return TrainRow(
        index=int(start["train"]),
        planned_onset_s=_num(start.get("planned_onset_s")),
        actual_onset_s=_num(start.get("actual_onset_s")),
        pulses_planned=int(_num(start.get("pulses_planned"))),
        pulses=int(pulses) if isinstance(pulses, int | float) else None,
        intensity_percent_mso=_maybe(start.get("intensity_percent_mso")),
        intensity_percent_rmt=_maybe(start.get("intensity_percent_rmt")),
        end_s=_maybe(end_s),
        estimated=bool(end and end.get("estimated")),
        timing=str(start.get("timing", "")),
        delivered_percent_rmt=_maybe(start.get("delivered_percent_rmt")),
    )


def _planned(start: dict[str, Any]) -> list[tuple[float, float]]:
    """The planned schedule, recompiled from the journaled protocol (empty if it cannot be)."""
    from stimctl.errors import StimctlError
    from stimctl.protocol.models import Protocol
    from stimctl.session.plan import compile_plan

    protocol = start.get("protocol")
    subject = start.get("subject")
    plan = start.get("plan")
    if not isinstance(protocol, dict) or not isinstance(subject, dict):
        return []
    try:
        model = Protocol.model_validate(protocol)
        compiled = compile_plan(
            model,
            _num(subject.get("rmt_percent_mso")) or 1.0,
            device_timed_trains=isinstance(plan, dict) and plan.get("timing") == "device",
        )
    except (ValueError, StimctlError):
        return []
    return [(t.onset_s, t.duration_s) for t in compiled.trains]


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _maybe(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
