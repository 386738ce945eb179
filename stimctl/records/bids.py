"""A BIDS-style export following the DRAFT NIBS-BIDS layout (BEP037), version 6.3.

NIBS-BIDS is not a released part of BIDS: it is the draft BIDS Extension Proposal 037,
still moving (bids-specification issues #2382, #2510, #2518-#2524; Zenodo record
19337642). This export follows draft v6.3 as summarised in shared/reference/ecosystem.md
10.4 and stamps that version into every JSON file, because the draft will change::

    <out>/dataset_description.json         (GeneratedBy names the draft version)
    <out>/participants.tsv
    <out>/sub-<id>/ses-<n>/nibs/sub-<id>_ses-<n>_nibs.tsv    one row per parameter set
    <out>/sub-<id>/ses-<n>/nibs/sub-<id>_ses-<n>_nibs.json   sidecar: units, sets, flags
    <out>/sub-<id>/ses-<n>/nibs/sub-<id>_ses-<n>_events.tsv  one row per train delivered

v6.3 in short: `_nibs.tsv` holds each unique parameter set once, keyed by `event_id`;
`_events.tsv` has one row per delivery (`onset`, `duration`, `event_id`); `nibs_type`
replaces the `stimsys` entity; coils and stimulators are `ElementSet` / `StimulatorSet`
in the sidecar, referenced by `element_id` / `stimulator_id`; timing nests as
`pattern<i>_count|_interval|_frequency|_duration|_intensity`; units live in the sidecar;
only the applied dose is stored. Onsets are the report's (`actual_onset_s`, the session's
own clock), so a dry run's simulated time is never mixed with wall-clock time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

from stimctl import __version__
from stimctl.errors import ConfigError
from stimctl.records.bids_sets import NIBS_COLUMNS, ParameterSet, parameter_sets
from stimctl.records.store import Store
from stimctl.records.subjects import get_subject
from stimctl.records.trains import SessionTrains, course_trains

NIBS_BIDS_DRAFT: Final = "BEP037 NIBS-BIDS draft v6.3"
NIBS_BIDS_DRAFT_SOURCE: Final = (
    "bids-specification issue #2382 (2026-08-19) and #2518-#2524; Zenodo record 19337642"
    " (a draft BIDS Extension Proposal, not a released BIDS standard)"
)
BIDS_VERSION: Final = "1.10.0"
NA: Final = "n/a"
DELIMITER: Final = "|"

EVENTS_COLUMNS: Final[dict[str, dict[str, str]]] = {
    "onset": {
        "Description": "Train onset on the session's own clock, as in the session report"
        " (the engine's actual_onset_s; simulated time for a dry run).",
        "Units": "s",
    },
    "duration": {"Description": "Train onset to train end.", "Units": "s"},
    "event_id": {"Description": "Parameter set delivered, a row of _nibs.tsv."},
    "trial_type": {"Description": "Always 'train': one row per train delivered."},
    "stim_count": {"Description": "Pulses delivered in the train (from the journal)."},
    "stim_validation": {
        "Description": "complete: every planned pulse delivered; partial: fewer; n/a: unknown."
    },
    "stimctl_train": {"Description": "stimctl column: 0-based train number of the session."},
}


_LABEL = re.compile(r"[^A-Za-z0-9]")


def bids_label(subject_id: str) -> str:
    """BIDS labels are alphanumeric: the subject id without its separators."""
    label = _LABEL.sub("", subject_id)
    if not label:
        raise ConfigError(f"subject id {subject_id!r} has no letters or digits for a BIDS label")
    return label


def export_bids(store: Store, subject_id: str, out_dir: Path) -> list[Path]:
    """Write the subject's course in the draft NIBS-BIDS v6.3 layout; returns the files."""
    get_subject(store, subject_id)
    label = bids_label(subject_id)
    sessions = course_trains(store, subject_id)
    written = [
        _write_json(out_dir / "dataset_description.json", _description()),
        _write_participants(out_dir / "participants.tsv", label, subject_id),
    ]
    for session in sessions:
        if not session.trains:
            continue
        stem = f"sub-{label}_ses-{session.number}"
        folder = out_dir / f"sub-{label}" / f"ses-{session.number}" / "nibs"
        sets, set_of_train = parameter_sets(session)
        rows = [s.row(session.session.simulated) for s in sets]
        written.append(_write_tsv(folder / f"{stem}_nibs.tsv", list(NIBS_COLUMNS), rows))
        written.append(_write_json(folder / f"{stem}_nibs.json", _sidecar(session, sets)))
        events = []
        for train in session.trains:
            validation = NA
            if train.pulses is not None and train.pulses_planned is not None:
                validation = "complete" if train.pulses >= train.pulses_planned else "partial"
            events.append(
                [
                    cell(train.onset_s),
                    cell(train.duration_s),
                    set_of_train[train.train],
                    "train",
                    cell(train.pulses),
                    validation,
                    str(train.train),
                ]
            )
        written.append(_write_tsv(folder / f"{stem}_events.tsv", list(EVENTS_COLUMNS), events))
        written.append(
            _write_json(
                folder / f"{stem}_events.json",
                {"NIBSBIDSDraftVersion": NIBS_BIDS_DRAFT} | EVENTS_COLUMNS,
            )
        )
    return written


def _write_participants(path: Path, label: str, subject_id: str) -> Path:
    """participants.tsv with this subject's row added or replaced: exporting several
    subjects into one dataset keeps every one of them."""
    rows: dict[str, list[str]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            cells = line.split("\t")
            if len(cells) == 2:
                rows[cells[0]] = cells
    rows[f"sub-{label}"] = [f"sub-{label}", subject_id]
    return _write_tsv(path, ["participant_id", "stimctl_subject_id"], sorted(rows.values()))


def _description() -> dict[str, Any]:
    return {
        "Name": "stimctl course export",
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "raw",
        "GeneratedBy": [
            {
                "Name": "stimctl",
                "Version": __version__,
                "Description": (
                    f"Follows the DRAFT layout {NIBS_BIDS_DRAFT} ({NIBS_BIDS_DRAFT_SOURCE})."
                ),
            }
        ],
        "NIBSBIDSDraftVersion": NIBS_BIDS_DRAFT,
    }


def _sidecar(session: SessionTrains, sets: list[ParameterSet]) -> dict[str, Any]:
    record = session.session
    start = session.start
    device = _dict(start.get("device"))
    identity = _dict(device.get("identity"))
    coil = _dict(_dict(start.get("protocol")).get("coil"))
    stimulator = {
        "stimulator_id": "stimulator_1",
        "Manufacturer": identity.get("vendor") or NA,
        # what the unit said it is, not stimctl's profile name (issue 16 item 8)
        "ManufacturersModelName": identity.get("model") or NA,
        "DeviceSerialNumber": identity.get("serial_number") or NA,
        "SoftwareVersion": identity.get("software_version") or NA,
        "StimctlDeviceProfile": device.get("profile") or record.device or NA,
    }
    element = {
        "element_id": "coil_1",
        "ElementType": record.coil or coil.get("model") or coil.get("family") or NA,
        "ElementShape": coil.get("family") or NA,
    }
    return {
        "NIBSBIDSDraftVersion": NIBS_BIDS_DRAFT,
        "Delimiter": DELIMITER,
        "TaskName": record.protocol_name,
        "StimulatorSet": [stimulator],
        "ElementSet": [element],
        "ProtocolName": record.protocol_name,
        "ProtocolDigest": record.protocol_digest,
        "SessionStatus": record.status,
        "StimctlSimulated": record.simulated,
        "StimctlSimulatedNote": (
            "a dry run on stimctl's built-in simulator: no pulse reached a subject; onsets"
            " are simulated time"
            if record.simulated
            else "a session on a stimulator"
        ),
        "SessionStartUTC": _iso(session.trains[0].started_at, session.trains[0].onset_s),
        "PulsesPlanned": record.pulses_planned,
        "PulsesDelivered": record.pulses_delivered,
        "ParameterSets": len(sets),
        "JournalChainHead": session.journal_head,
        "StimctlSessionId": record.id,
        "GeneratedBy": f"stimctl {__version__}",
        **NIBS_COLUMNS,
    }


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _iso(started_at: Any, onset_s: float) -> str:
    import datetime as dt

    moment = started_at - dt.timedelta(seconds=onset_s)
    return str(moment.isoformat().replace("+00:00", "Z"))


def cell(value: object) -> str:
    if value is None:
        return NA
    text = str(value)
    # A tab or newline inside a cell would break the TSV; BIDS has no quoting.
    return text.replace("\t", " ").replace("\n", " ")


def _write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    lines = ["\t".join(header), *("\t".join(row) for row in rows)]
    return _write(path, "\n".join(lines) + "\n")


def _write_json(path: Path, data: dict[str, Any]) -> Path:
    return _write(path, json.dumps(data, indent=2) + "\n")


def _write(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc}") from None
    return path
