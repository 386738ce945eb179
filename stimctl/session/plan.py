"""The plan now lives in `stimctl.protocol.plan` (compiled before the verdict, issue 14);
this name stays for the code and tests that import it from the session layer."""

from stimctl.protocol.plan import (
    Plan,
    PlanCompiler,
    PlannedTrain,
    TrainTiming,
    check_plan,
    compile_plan,
    device_percent,
    pulse_offsets,
)

__all__ = [
    "Plan",
    "PlanCompiler",
    "PlannedTrain",
    "TrainTiming",
    "check_plan",
    "compile_plan",
    "device_percent",
    "pulse_offsets",
]
