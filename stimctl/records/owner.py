"""Who runs a session: host, pid and a start token, and whether that process still lives.

A ``running`` row carries its owner. Any later start (or `stimctl sessions reconcile`)
asks `owner_state`: on this host, a process with that pid *and the same start token*
that is not a zombie is the owner, still alive; anything else is dead. The token is the
kernel boot id and the process start time (``/proc/<pid>/stat`` field 22), so a pid
reused after the owner died, or after a reboot, is not mistaken for it. On another host
nothing can be told (`UNKNOWN`): the row is left for a console on that host. See
docs/decisions (records-session-ownership) for why this and the journal's lock together.
"""

from __future__ import annotations

import enum
import os
import socket
import sys
from pathlib import Path

from stimctl.records.sessions import Owner


class OwnerState(enum.Enum):
    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"


def current_owner() -> Owner:
    """This process, as the owner of the session it is about to run."""
    pid = os.getpid()
    return Owner(host=host_name(), pid=pid, token=start_token(pid) or "")


def host_name() -> str:
    return socket.gethostname()


def start_token(pid: int) -> str | None:
    """``<boot id>:<start time in clock ticks>`` of a live, non-zombie `pid`; None if
    there is no such process. Off Linux (no /proc) the token is "" for a live pid."""
    stat = Path(f"/proc/{pid}/stat")
    if sys.platform.startswith("linux"):
        try:
            text = stat.read_text()
        except (FileNotFoundError, ProcessLookupError):
            return None
        except OSError:
            return None
        # The command name (field 2) may hold spaces and parentheses: split after the last ")".
        fields = text[text.rfind(")") + 2 :].split()
        state, started = fields[0], fields[19]
        if state in ("Z", "X", "x"):  # a zombie holds no locks and runs nothing
            return None
        return f"{_boot_id()}:{started}"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""  # alive, owned by someone else
    return ""


def owner_state(host: str | None, pid: int | None, token: str | None) -> OwnerState:
    """Whether the process recorded as a session's owner still runs."""
    if host is None or pid is None:
        return OwnerState.UNKNOWN
    if host != host_name():
        return OwnerState.UNKNOWN
    live = start_token(pid)
    if live is None:
        return OwnerState.DEAD
    if token and live and live != token:
        return OwnerState.DEAD  # the pid was reused by another process
    return OwnerState.ALIVE


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""
