"""The installation's safety self-test battery (`stimctl selftest`).

Groups, in order: `protocols` (every shipped protocol gets its expected verdict, without a
device and on the reference device of `make demo`; and built-in unsafe protocols, one per
family of rule, must be blocked: `refusals`),
`configs` (the installed configs match the shipped digests), `journal` (a journal
verifies and an edited copy is flagged), and `device <target>` (the conformance checks of
`device_checks`, against every simulated model, one model, or a connected device).
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from stimctl.errors import ConfigError
from stimctl.testing.device_checks import DeviceRun, run_device_checks
from stimctl.testing.results import CheckResult, Outcome
from stimctl.testing.target import Target, simulated_models

GROUPS = ("protocols", "configs", "journal", "device")


@dataclass(frozen=True)
class SelftestOptions:
    """`driver`: a driver or device profile name; `port`: a real device (needs `driver`)."""

    driver: str | None = None
    port: str | None = None
    driver_options: dict[str, Any] = field(default_factory=dict)
    sim_options: dict[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = GROUPS

    def targets(self) -> list[Target]:
        if self.port is not None:
            if self.driver is None:
                raise ConfigError("--port needs --driver (a driver or device profile name)")
            if self.sim_options:
                raise ConfigError("--sim-option applies to the simulator, not to --port")
            return [Target.hardware(self.port, self.driver, **self.driver_options)]
        models = [self.driver] if self.driver is not None else simulated_models()
        return [Target.simulator(model, **self.sim_options) for model in models]


@dataclass
class Battery:
    """Everything the report needs: when, what software, what device, what happened."""

    started_at: dt.datetime
    finished_at: dt.datetime
    software: dict[str, str]
    configs_dir: str
    table_digests: dict[str, str]
    target: str
    results: list[CheckResult]
    devices: list[DeviceRun]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def ok(self) -> bool:
        return self.count(Outcome.FAIL) == 0 and self.count(Outcome.PASS) > 0

    def counts(self) -> str:
        return (
            f"{self.count(Outcome.PASS)} passed, {self.count(Outcome.FAIL)} failed, "
            f"{self.count(Outcome.SKIP)} skipped"
        )

    def summary(self) -> str:
        return f"selftest {'PASSED' if self.ok else 'FAILED'}: {self.counts()} ({self.target})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "software": self.software,
            "configs_dir": self.configs_dir,
            "table_digests": self.table_digests,
            "target": self.target,
            "devices": [
                {"target": run.target.label, "identity": run.identity} for run in self.devices
            ],
            "checks": [r.as_dict() for r in self.results],
            "counts": {o.value: self.count(o) for o in Outcome},
        }


def software_versions() -> dict[str, str]:
    from stimctl import __version__

    return {
        "stimctl": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": platform.node(),
    }


def run_selftest(
    options: SelftestOptions | None = None,
    *,
    on_result: Callable[[CheckResult], None] | None = None,
) -> Battery:
    """Run the battery; `on_result` sees each line as soon as it is known."""
    from stimctl.configs import configs_dir
    from stimctl.safety.tables import table_digests
    from stimctl.testing.journal_checks import run_journal_checks
    from stimctl.testing.manifest import run_config_checks
    from stimctl.testing.protocol_checks import run_protocol_checks
    from stimctl.testing.refusals import run_refusal_checks

    chosen = options or SelftestOptions()
    unknown = set(chosen.groups) - set(GROUPS)
    if unknown:
        raise ConfigError(f"unknown check group(s) {sorted(unknown)} (groups: {', '.join(GROUPS)})")
    targets = chosen.targets() if "device" in chosen.groups else []
    started = dt.datetime.now(dt.UTC)
    results: list[CheckResult] = []
    devices: list[DeviceRun] = []

    def record(lines: Iterable[CheckResult]) -> None:
        for line in lines:
            results.append(line)
            if on_result is not None:
                on_result(line)

    if "protocols" in chosen.groups:
        record(run_protocol_checks(started))
        record(run_refusal_checks(started))  # unsafe protocols that must be blocked
    if "configs" in chosen.groups:
        record(run_config_checks())
    if "journal" in chosen.groups:
        record(run_journal_checks())
    for target in targets:
        run = run_device_checks(target)
        devices.append(run)
        record(run.results)
    if chosen.port is not None:
        where = f"device {targets[0].label}" if targets else f"port {chosen.port}"
    elif targets:
        where = "simulator: " + (targets[0].label if len(targets) == 1 else "every model")
    else:
        where = "no device checks"
    return Battery(
        started_at=started,
        finished_at=dt.datetime.now(dt.UTC),
        software=software_versions(),
        configs_dir=str(configs_dir()),
        table_digests=table_digests(),
        target=where,
        results=results,
        devices=devices,
    )
