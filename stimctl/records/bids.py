"""A BIDS-style export following the DRAFT NIBS-BIDS layout (BEP037).

NIBS-BIDS is not a released part of BIDS: it is the draft BIDS Extension Proposal 037,
whose core table model was still under discussion in 2026 (bids-specification issues
#2510, #2518-2520). This export follows draft v6.2 (nigelrogasch/nibs-bids,
``nibs-bids-v6/non-invasive-brain-stimulation-v6.2.md``, as summarised in
shared/reference/ecosystem.md 2.6) and stamps that version into every JSON file, because
the draft will change::

    <out>/dataset_description.json         (GeneratedBy names the draft version)
    <out>/participants.tsv
    <out>/sub-<id>/ses-<n>/nibs/sub-<id>_ses-<n>_nibs.tsv    one row per train
    <out>/sub-<id>/ses-<n>/nibs/sub-<id>_ses-<n>_nibs.json   sidecar: columns, coil, device
    <out>/sub-<id>/ses-<n>/nibs/sub-<id>_ses-<n>_events.tsv  onsets for time-locking
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

from stimctl import __version__
from stimctl.errors import ConfigError
from stimctl.records.store import Store
from stimctl.records.subjects import get_subject
from stimctl.records.trains import SessionTrains, TrainRow, course_trains

NIBS_BIDS_DRAFT: Final = "BEP037 NIBS-BIDS draft v6.2"
NIBS_BIDS_DRAFT_SOURCE: Final = (
    "nigelrogasch/nibs-bids, nibs-bids-v6/non-invasive-brain-stimulation-v6.2.md"
    " (a draft BIDS Extension Proposal, not a released BIDS standard)"
)
BIDS_VERSION: Final = "1.10.0"
NA: Final = "n/a"

NIBS_COLUMNS: Final[dict[str, dict[str, str]]] = {
    "event_id": {"Description": "Unique id of the train within the session."},
    "coil_id": {"Description": "Coil, described in CoilSet."},
    "protocol_name": {"Description": "stimctl protocol the session ran."},
    "timestamp": {"Description": "Train start, ISO 8601 UTC (from the session journal)."},
    "train_duration": {"Description": "Train start to train end.", "Units": "s"},
    "train_frequency": {
        "Description": "stimctl column: pulse frequency within the train.",
        "Units": "Hz",
    },
    "stim_count": {"Description": "Pulses delivered in the train (from the journal)."},
    "stim_validation": {
        "Description": "complete: all planned pulses delivered; partial: fewer; n/a: unknown."
    },
    "base_pulse_intensity": {"Description": "Stimulator output.", "Units": "%MSO"},
    "threshold_pulse_intensity": {
        "Description": "Output as a percentage of the threshold below.",
        "Units": "%",
    },
    "threshold_type": {"Description": "Threshold the intensity refers to."},
    "threshold_reference_intensity": {
        "Description": "The threshold itself.",
        "Units": "%MSO",
    },
    "threshold_measurement_method": {"Description": "emg or visual."},
    "threshold_criterion": {"Description": "Criterion used to find the threshold."},
    "threshold_algorithm": {"Description": "Algorithm used to find the threshold."},
    "threshold_date": {"Description": "stimctl column: date the threshold was measured."},
    "simulated": {
        "Description": "stimctl column: true for a dry run on the simulator (no pulse"
        " reached a subject; not treatment)."
    },
}

_LABEL = re.compile(r"[^A-Za-z0-9]")


def bids_label(subject_id: str) -> str:
    """BIDS labels are alphanumeric: the subject id without its separators."""
    label = _LABEL.sub("", subject_id)
    if not label:
        raise ConfigError(f"subject id {subject_id!r} has no letters or digits for a BIDS label")
    return label


def export_bids(store: Store, subject_id: str, out_dir: Path) -> list[Path]:
    """Write the subject's course in the draft NIBS-BIDS layout; returns the files."""
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
        rows = [_nibs_row(t) for t in session.trains]
        written.append(_write_tsv(folder / f"{stem}_nibs.tsv", list(NIBS_COLUMNS), rows))
        written.append(_write_json(folder / f"{stem}_nibs.json", _sidecar(session)))
        events = [
            [
                _cell(t.onset_s),
                _cell(t.duration_s),
                "train",
                f"train-{t.train}",
                _cell(t.pulses),
                _cell(t.intensity_pct_mso),
            ]
            for t in session.trains
        ]
        written.append(
            _write_tsv(
                folder / f"{stem}_events.tsv",
                ["onset", "duration", "trial_type", "event_id", "stim_count", "value"],
                events,
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


def _sidecar(session: SessionTrains) -> dict[str, Any]:
    record = session.session
    return {
        "NIBSBIDSDraftVersion": NIBS_BIDS_DRAFT,
        "TaskName": record.protocol_name,
        "ManufacturersModelName": record.device or NA,
        "SoftwareVersion": f"stimctl {__version__}",
        "CoilSet": [{"CoilID": "coil_1", "CoilType": record.coil or NA}],
        "ProtocolName": record.protocol_name,
        "ProtocolDigest": record.protocol_digest,
        "SessionStatus": record.status,
        "StimctlSimulated": record.simulated,
        "PulsesPlanned": record.pulses_planned,
        "PulsesDelivered": record.pulses_delivered,
        "JournalChainHead": session.journal_head,
        "StimctlSessionId": record.id,
        **NIBS_COLUMNS,
    }


def _nibs_row(train: TrainRow) -> list[str]:
    validation = NA
    if train.pulses is not None and train.pulses_planned is not None:
        validation = "complete" if train.pulses >= train.pulses_planned else "partial"
    return [
        f"train-{train.train}",
        "coil_1",
        train.protocol_name,
        train.started_at.isoformat().replace("+00:00", "Z"),
        _cell(train.duration_s),
        _cell(train.frequency_hz),
        _cell(train.pulses),
        validation,
        _cell(train.intensity_pct_mso),
        _cell(train.intensity_pct_rmt),
        "resting motor threshold" if train.rmt_pct_mso is not None else NA,
        _cell(train.rmt_pct_mso),
        _cell(train.rmt_method),
        _cell(train.rmt_criterion),
        _cell(train.rmt_algorithm),
        _cell(train.rmt_measured_on.isoformat() if train.rmt_measured_on else None),
        "true" if train.simulated else "false",
    ]


def _cell(value: object) -> str:
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
