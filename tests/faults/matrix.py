"""The fault matrix of issue 12: real `stimctl run` processes against byte-level simulators
on real ptys, one cell per (driver family, fault).

Each cell runs a session in research mode, injects one fault mid-session, and records what
the host did: exit code, whether the device ended disarmed (by the host, or by its own
keep-alive lapse when the host was killed), the simulator's pulse count against the
journal's (exact, or within the journaled bounds after recovery), and whether the journal
still verifies. `tests/faults/test_fault_matrix.py` asserts every cell; `bench/fault_matrix.py`
prints the table.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UNLOCK = "d5e1-0000c0de-01"
# A full disk is an OS fault injected into the child process at the journal's write (a
# size rlimit would hit the SQLite store first): ENOSPC from the first write whose record
# matches, then on every later write.
DISK_FULL = """
import errno, sys
from stimctl.journal import writer
real, state = writer.write_all, {{"full": False}}
def write_all(fd, data):
    if state["full"] or {trigger!r} in data:
        state["full"] = True
        raise OSError(errno.ENOSPC, "No space left on device")
    real(fd, data)
writer.write_all = write_all
from stimctl.cli import main
sys.exit(main(sys.argv[1:]))
"""
DISK_FULL_AT = {
    "disk full mid-session": b'"event":"train_end"',
    "disk full at the end": b'"event":"session_end"',
}


@dataclass(frozen=True)
class Family:
    name: str
    device: str
    simulator: str
    pattern: str
    driver_options: tuple[str, ...] = ()
    probe: tuple[str, ...] = ()
    """`devices probe` arguments for a unit with no keep-alive: after a host crash the
    next start on the port must find it armed and disarm it (issue 12 item 8)."""
    trigger_in: bool = False
    """The unit has a Trigger In (docs/lab-triggers.md): the trigger rows apply."""


# 0.2 Hz: the BiStim² recharges for exactly 4 s, so its 0.25 Hz ceiling leaves no margin
# for a real clock's jitter ("armed, not ready")
_SINGLE = 'kind = "continuous"\nfrequency_hz = 0.2\npulses = 4'
_TRAINS = (
    'kind = "train"\nfrequency_hz = 10.0\npulses_per_train = 30\n'
    "inter_train_interval_s = 6.0\ntrains = 2"
)

FAMILIES: tuple[Family, ...] = (
    Family("200²", "magstim-200", "magstim-200", _SINGLE),
    Family("BiStim²", "magstim-bistim", "magstim-bistim", _SINGLE),
    Family(
        "Rapid²",
        "magstim-rapid2-super-plus-240v",
        f"magstim-rapid2?type=super-plus&mains=240&unlock_code={UNLOCK}",
        _TRAINS,
        (f"unlock_code={UNLOCK}",),
        trigger_in=True,
    ),
    Family(
        "MagPro",
        "magpro-x100",
        "magpro-x100",
        _TRAINS,
        probe=("--driver", "magpro", "--driver-option", "model=x100"),
        trigger_in=True,
    ),
)

FAULTS: tuple[str, ...] = (
    "none",
    "SIGKILL",
    "SIGTERM",
    "SIGINT",
    "cable pulled",
    "simulator killed",
    "ignores disarm",
    "disk full mid-session",
    "disk full at the end",
    "SIGKILL with trigger",
)
TRIGGER_FAULTS = frozenset({"SIGKILL with trigger"})
"""Rows that fire through a hardware trigger line (`--trigger sim://NAME`, the wire
served across processes as `stimctl sim serve --trigger` serves it): units with a
Trigger In only."""
KILLS = frozenset({"SIGKILL", "SIGKILL with trigger"})
# Host-timed single pulses (1 Hz and below, stimctl.protocol.plan): each one leaves
# through the trigger line; a device-timed train would be started over serial.
_TRIGGERED = 'kind = "continuous"\nfrequency_hz = 1.0\npulses = 20'


def faults_of(family: Family) -> tuple[str, ...]:
    """The rows of the matrix that apply to `family`."""
    return tuple(f for f in FAULTS if family.trigger_in or f not in TRIGGER_FAULTS)


def cells() -> list[tuple[Family, str]]:
    return [(family, fault) for family in FAMILIES for fault in faults_of(family)]


PROTOCOL = """schema_version = 1
name = "fault-matrix"
title = "fault matrix"
indication = "research"
source = "test"
[target]
site = "M1-hand"
hemisphere = "left"
[coil]
family = "figure-8"
[intensity]
percent_rmt = 100
[pattern]
{pattern}
"""


@dataclass
class Cell:
    family: str
    fault: str
    exit_code: int | None = None
    disarmed: bool = False
    sim_pulses: int = 0
    journal_lower: int = 0
    journal_upper: int = 0
    journal_ok: bool = False
    status: str = ""
    told_to_switch_off: bool = False
    row_status: str = ""
    """The records row of the session after `stimctl sessions reconcile` (killed runs)."""
    cut_but_intact: bool = False
    """Killed runs: before any recovery the journal verified intact and not closed."""
    through_trigger: int = 0
    """Pulses the simulator took on its Trigger In."""
    notes: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return self.journal_lower <= self.sim_pulses <= self.journal_upper

    @property
    def safe(self) -> bool:
        """Disarmed, or the operator was told to switch the stimulator off."""
        return self.disarmed or self.told_to_switch_off

    def row(self) -> list[str]:
        bounds = (
            str(self.journal_lower)
            if self.journal_lower == self.journal_upper
            else f"{self.journal_lower}-{self.journal_upper}"
        )
        return [
            self.family,
            self.fault,
            "-" if self.exit_code is None else str(self.exit_code),
            self.status,
            "yes" if self.disarmed else ("told" if self.told_to_switch_off else "NO"),
            f"{self.sim_pulses} in {bounds}",
            "ok" if self.journal_ok else "NOT OK",
        ]


def _pulses(journal: Path) -> int:
    return sum(1 for line in journal.read_bytes().splitlines() if b'"event":"pulse"' in line)


def _train_ends(journal: Path) -> list[dict[str, Any]]:
    ends = []
    for line in journal.read_bytes().splitlines():
        if b'"event":"train_end"' in line:
            ends.append(json.loads(line)["payload"])
    return ends


def _last_record(journal: Path) -> dict[str, Any]:
    """The last whole record before the seal (a full disk leaves a torn last line)."""
    for line in reversed(journal.read_bytes().splitlines()):
        try:
            record: dict[str, Any] = json.loads(line)
        except ValueError:
            continue
        if record.get("event") in ("seal", "checkpoint"):
            continue
        return record
    return {}


def run_cell(family: Family, fault: str, workdir: Path) -> Cell:
    """Run one cell; never raises for what the session under test did."""
    import simulators
    from stimctl.clock import MonotonicClock
    from stimctl.journal import verify
    from stimctl.session.runner import recover_interrupted

    cell = Cell(family.name, fault)
    workdir.mkdir(parents=True, exist_ok=True)
    sim = simulators.create_simulator(family.simulator)
    if fault == "ignores disarm":
        sim.faults.ignore_disarm = True
    published = None
    trigger_url = None
    if fault in TRIGGER_FAULTS:
        import uuid

        from stimctl import simwire

        name = f"matrix-{uuid.uuid4().hex[:12]}"
        sim.connect_trigger(name)
        published = simwire.publish(name, MonotonicClock())
        trigger_url = f"sim://{name}"
    server = simulators.PtyServer(sim)
    stop = threading.Event()
    serving = threading.Thread(target=server.serve, args=(stop,), daemon=True)
    serving.start()
    protocol = workdir / "fault-matrix.toml"
    pattern = _TRIGGERED if fault in TRIGGER_FAULTS else family.pattern
    protocol.write_text(PROTOCOL.format(pattern=pattern))
    site = workdir / "site.toml"
    site.write_text(
        "schema_version = 1\nresearch_allowed = true\nunauthenticated_research_runs = true\n"
    )
    home = workdir / "home"
    from tests.session.records_helpers import enroll

    enroll(home, rmt=30.0)
    if fault in DISK_FULL_AT:
        start = [sys.executable, "-c", DISK_FULL.format(trigger=DISK_FULL_AT[fault])]
    else:
        start = [sys.executable, "-m", "stimctl"]
    command = [
        *start, "run", str(protocol), "--rmt", "30",
        "--mode", "research", "--study", "ST-1", "--subject", "S-01", "--site", str(site),
        "--device", family.device,
        "--port", server.path, "--headless", "--yes",
    ]  # fmt: skip
    for option in family.driver_options:
        command += ["--driver-option", option]
    if trigger_url is not None:
        command += ["--trigger", trigger_url]
    env = {**os.environ, "STIMCTL_HOME": str(home)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    journal: Path | None = None
    try:
        journals = home / "journals"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            found = sorted(journals.glob("*.jsonl")) if journals.exists() else []
            if found and b'"event":"train_start"' in found[0].read_bytes():
                journal = found[0]
                break
            time.sleep(0.02)
        if journal is not None and fault not in ("none", "ignores disarm", *DISK_FULL_AT):
            if fault in TRIGGER_FAULTS:  # after two triggered pulses, before the third
                _wait_for(lambda: _pulses(journal) >= 2 if journal else False, 30)
            else:
                time.sleep(1.0)  # into the train (or past the first single pulse)
            _inject("SIGKILL" if fault in KILLS else fault, process, sim, server, stop)
        try:
            _, err = process.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
            cell.notes.append("did not exit within 90 s")
        cell.exit_code = process.returncode
        text = err.decode(errors="replace")
        cell.told_to_switch_off = "switch the stimulator off" in text
        if "Traceback" in text:
            cell.notes.append("traceback on stderr")
        if journal is None:
            found = sorted((home / "journals").glob("*.jsonl"))
            journal = found[0] if found else None
        if journal is None:
            cell.notes.append("no journal")
            return cell
        if fault in KILLS or fault in DISK_FULL_AT:
            # the next start recovers it; the device's own keep-alive is the backstop
            if fault in KILLS:
                cut = verify(journal)
                cell.cut_but_intact = bool(cut.ok and not cut.closed)
            time.sleep(1.6)
            recover_interrupted(journal.parent, clock=MonotonicClock())
            if family.probe and sim.armed:
                # no keep-alive (MagPro): the next start on that port disarms it and says so
                probe = subprocess.run(
                    [sys.executable, "-m", "stimctl", "devices", "probe", "--port", server.path,
                     *family.probe],
                    env=env, capture_output=True, timeout=30, check=False,
                )  # fmt: skip
                cell.told_to_switch_off = b"found armed" in probe.stderr
                if not cell.told_to_switch_off:
                    cell.notes.append("probe did not report the unit found armed")
        if fault in KILLS:
            cell.row_status = _reconciled_row(home, env, journal)
        _settle(sim)
        cell.disarmed = not bool(sim.armed)
        cell.sim_pulses = len(sim.pulses)
        cell.through_trigger = sum(1 for p in sim.pulses if getattr(p, "via", "") == "trigger")
        ends = _train_ends(journal)
        last = _last_record(journal)
        if last.get("event") == "session_end":
            payload = last["payload"]
            cell.status = str(payload.get("status"))
            cell.journal_lower = int(payload.get("pulses_delivered", 0))
            cell.journal_upper = int(payload.get("pulses_delivered_upper", cell.journal_lower))
        else:
            cell.status = "unclosed"
            cell.journal_lower = _pulses(journal) + sum(int(e["pulses"]) for e in ends)
            cell.journal_upper = cell.journal_lower
        result = verify(journal)
        cell.journal_ok = bool(result.ok)
        return cell
    finally:
        if process.poll() is None:
            process.kill()
        stop.set()
        serving.join(timeout=2)
        server.close()
        if published is not None:
            published.close()
            sim.disconnect_trigger()


def _wait_for(condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.02)


def _reconciled_row(home: Path, env: dict[str, str], journal: Path) -> str:
    """`stimctl sessions reconcile` in a real process, then the session row's status."""
    from stimctl.records import Store, list_sessions

    subprocess.run(
        [sys.executable, "-m", "stimctl", "sessions", "reconcile"],
        env=env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    with Store.open(home / "stimctl.db") as store:
        rows = [s for s in list_sessions(store, "S-01") if s.id == journal.stem]
    return rows[0].status if rows else "no row"


def _inject(
    fault: str,
    process: subprocess.Popen[bytes],
    sim: Any,
    server: Any,
    stop: threading.Event,
) -> None:
    if fault in ("SIGKILL", "SIGTERM", "SIGINT"):
        process.send_signal(getattr(signal, fault))
    elif fault == "cable pulled":
        sim.pull_cable()
    elif fault == "simulator killed":
        stop.set()
        server.close()


def _settle(sim: Any) -> None:
    """Let the device's own timers run (keep-alive lapse, end of a device-timed train)."""
    time.sleep(0.1)
    poll = getattr(sim, "poll", None)
    if poll is not None:
        poll()


def table(cells: list[Cell]) -> str:
    header = ["family", "fault", "exit", "status", "disarmed", "sim pulses in journal", "journal"]
    rows = [header] + [c.row() for c in cells]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
