"""Session states and the transition table (a module constant, ARCHITECTURE "State machine").

The table is data: the controller builds its `transitions` machine from it, the docs
draw it (docs/session-states.md), and the tests walk every (state, trigger) pair.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from typing import Final, TypedDict


class State(StrEnum):
    IDLE = "idle"
    READY = "ready"  # protocol checked, pre-session checks passed
    ARMED = "armed"
    TRAIN = "train"
    INTERTRAIN = "intertrain"
    PAUSED = "paused"  # disarmed between trains; resumes at a train boundary
    STOPPING = "stopping"  # finish the current train, then disarm
    COMPLETED = "completed"
    ABORTED = "aborted"
    ESTOPPED = "estopped"  # latched until acknowledged
    FAULT = "fault"  # latched until acknowledged


class Trigger(StrEnum):
    PREPARE = "prepare"
    ARM = "arm"
    START_TRAIN = "start_train"
    END_TRAIN = "end_train"
    FINISH = "finish"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    ABORT = "abort"
    ESTOP = "estop"
    FAULT = "fault"
    ACKNOWLEDGE = "acknowledge"


class Transition(TypedDict):
    trigger: str
    source: list[str]
    dest: str


TERMINAL: Final = frozenset({State.COMPLETED, State.ABORTED, State.ESTOPPED, State.FAULT})
LATCHED: Final = frozenset({State.ESTOPPED, State.FAULT})
ACTIVE: Final = frozenset(set(State) - TERMINAL)
DEVICE_MAY_BE_ARMED: Final = frozenset({State.ARMED, State.TRAIN, State.INTERTRAIN, State.STOPPING})

S = State
T = Trigger

TRANSITIONS: Final[tuple[Transition, ...]] = (
    {"trigger": T.PREPARE, "source": [S.IDLE], "dest": S.READY},
    {"trigger": T.ARM, "source": [S.READY], "dest": S.ARMED},
    {"trigger": T.START_TRAIN, "source": [S.ARMED, S.INTERTRAIN], "dest": S.TRAIN},
    {"trigger": T.END_TRAIN, "source": [S.TRAIN], "dest": S.INTERTRAIN},
    {"trigger": T.FINISH, "source": [S.TRAIN, S.INTERTRAIN, S.STOPPING], "dest": S.COMPLETED},
    {"trigger": T.PAUSE, "source": [S.ARMED, S.INTERTRAIN], "dest": S.PAUSED},
    {"trigger": T.RESUME, "source": [S.PAUSED], "dest": S.ARMED},
    {"trigger": T.STOP, "source": [S.TRAIN], "dest": S.STOPPING},
    {"trigger": T.STOP, "source": [S.READY, S.ARMED, S.INTERTRAIN, S.PAUSED], "dest": S.COMPLETED},
    {"trigger": T.ABORT, "source": sorted(ACTIVE - {S.IDLE}), "dest": S.ABORTED},
    {"trigger": T.ESTOP, "source": sorted(ACTIVE), "dest": S.ESTOPPED},
    {"trigger": T.FAULT, "source": sorted(ACTIVE), "dest": S.FAULT},
)
"""Every allowed transition. Anything else is refused (invalid triggers raise).

`acknowledge` is not a transition: it clears the latch of `estopped` and `fault`
(the controller handles it), and the session stays in its terminal state.
"""


@functools.cache  # the table is a constant; the engine asks between every two waits
def allowed(state: State, trigger: Trigger) -> State | None:
    """The destination of `trigger` from `state`, or None when refused."""
    for row in TRANSITIONS:
        if row["trigger"] == trigger and state in row["source"]:
            return State(row["dest"])
    return None
