"""Render the transition table as a Mermaid state diagram (docs/session-states.md)."""

from __future__ import annotations

from stimctl.session.states import TRANSITIONS, State


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {State.IDLE}"]
    for row in TRANSITIONS:
        for source in row["source"]:
            lines.append(f"    {source} --> {row['dest']}: {row['trigger']}")
    for terminal in (State.COMPLETED, State.ABORTED, State.ESTOPPED, State.FAULT):
        lines.append(f"    {terminal} --> [*]")
    return "\n".join(lines)


def document() -> str:
    return (
        "# Session states\n\n"
        "Generated from `stimctl.session.states.TRANSITIONS` by\n"
        "`python -m stimctl.session.diagram > docs/session-states.md`; a test keeps it in step.\n"
        "`estopped` and `fault` are latched until acknowledged; `acknowledge` clears the latch\n"
        "and the session stays in its terminal state. Device I/O runs in `before` callbacks:\n"
        "`arm` and `resume` arm the device, `pause`, `finish`, `stop` (to completed) and\n"
        "`abort` disarm it, `fault` runs the never-raising safe stop. The emergency stop\n"
        "disarms through the driver's priority path before `estop` is triggered.\n\n"
        f"```mermaid\n{mermaid()}\n```\n"
    )


if __name__ == "__main__":
    print(document(), end="")
