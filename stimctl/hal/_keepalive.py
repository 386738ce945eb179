"""A keep-alive thread driven by deadlines, not by a fixed sleep.

It owns nothing but a schedule: every `period()` seconds since the last traffic it calls
`send()`. Callers that talk to the device call `touch()`, so a busy line needs no extra
keep-alive (device-protocols A6: any command that returns status counts). It never waits
on the caller: the driver's port lock bounds each exchange by its timeout, so the thread
cannot starve behind a blocked main thread (the MAGIC#18 failure). Errors go to
`on_error`; a `ConnectionLost` stops the thread (style-anchors trap 4.5: report, never die
silently).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from stimctl.clock import Clock, SharedTimeline, released
from stimctl.errors import ConnectionLost, StimctlError

log = logging.getLogger(__name__)

# Longest real-time wait between two looks at the (possibly virtual) clock.
_MAX_WAIT_S = 0.05
# Longest simulated-time sleep, so a shorter armed period is picked up promptly.
_SIMULATED_MAX_WAIT_S = 0.25


class KeepAlive:
    """Calls `send()` whenever `period()` seconds have passed since the last `touch()`."""

    def __init__(
        self,
        *,
        send: Callable[[], None],
        period: Callable[[], float],
        clock: Clock,
        on_error: Callable[[StimctlError], None],
        name: str = "stimctl-keepalive",
    ) -> None:
        self._send = send
        self._period = period
        self._clock = clock
        # checked once: a runtime protocol check is slow, and `_pause` runs every period
        self._shared_timeline = isinstance(clock, SharedTimeline)
        self._on_error = on_error
        self._name = name
        self._last = clock.now()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0  # keep-alives sent, for tests and the bench

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def touch(self) -> None:
        """Traffic just happened: the next keep-alive is due one period from now."""
        with self._lock:
            self._last = self._clock.now()

    def reschedule(self) -> None:
        """The period changed (e.g. armed): look at the deadline again now."""
        self._wake.set()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self.touch()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop and join with a timeout (magpy PR #3: never hang on disconnect)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            with released(self._clock):  # a simulated timeline must move while we join
                thread.join(timeout)
            if thread.is_alive():
                log.warning("%s did not stop within %.1f s", self._name, timeout)
        self._thread = None

    def due_in(self) -> float:
        with self._lock:
            return self._last + self._period() - self._clock.now()

    def tick(self) -> bool:
        """Send a keep-alive if one is due. Returns True if one was sent."""
        if self.due_in() > 0:
            return False
        self._send()
        self.touch()
        self.sent += 1
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except ConnectionLost as exc:
                self._on_error(exc)
                return
            except StimctlError as exc:
                self._on_error(exc)
                self.touch()  # do not hammer a silent device; try again one period later
            except Exception as exc:  # a bug must surface, not kill the thread silently
                log.exception("keep-alive failed")
                self._on_error(StimctlError(f"keep-alive crashed: {exc!r}"))
                return
            self._pause()

    def _pause(self) -> None:
        if self._shared_timeline:
            # A shared simulated timeline (stimctl.clock.SimulatedClock): sleep on it, so
            # simulated time cannot pass a keep-alive deadline without this thread.
            due = max(self.due_in(), 0.0)
            self._clock.sleep_until(self._clock.now() + min(due, _SIMULATED_MAX_WAIT_S))
            return
        wait = min(max(self.due_in(), 0.0), _MAX_WAIT_S)
        self._wake.wait(wait)
        self._wake.clear()
