"""`TriggerLine`: a hardware line into a stimulator's Trigger In (issue 18, ADR 0026).

Labs fire a stimulator whose timing matters through a TTL edge into its Trigger In,
never over serial (device-protocols A7 "Latency of a serial trigger": 5-15 ms; B7:
"high lag and jitter", TTL quoted at 12 µs jitter). A `TriggerLine` is one such output:
open it, `pulse()` it (optionally at a scheduled clock time), `train()` it at given
times, read it back where the hardware has a loopback, close it. Every pulse returns a
`FireReceipt` whose `via` is the line's URL, so the journal says how each pulse left.

Implementations are found through the entry-point group `stimctl.trigger_lines`, keyed
by URL scheme (`sim`, `serial-rts`, `serial-dtr`, `ftdi`, `labjack`, `parallel`), as
drivers are through `stimctl.drivers`: stimctl imports none of them by name.

Template methods, as in `Stimulator`: the public methods check state and timing, the
`_do_*` hooks touch the hardware. Fail closed: `open` drives the line to its idle
(low) level before anything else, `close` drives it low before releasing it, and a
loopback that reads back the wrong level raises `TriggerLoopbackError` at once.
"""

from __future__ import annotations

import abc
import itertools
import logging
import math
from collections.abc import Sequence
from functools import cache
from importlib.metadata import entry_points
from types import TracebackType
from typing import ClassVar, NoReturn
from urllib.parse import parse_qsl, urlsplit

from stimctl.clock import Clock, MonotonicClock
from stimctl.errors import ConfigError, DriverError, StateError
from stimctl.hal._fire import FireReceipt

log = logging.getLogger(__name__)

GROUP = "stimctl.trigger_lines"
DEFAULT_WIDTH_S = 0.001
"""Our default pulse width (1 ms). The references give no minimum trigger width for
either vendor; magicpy's parallel-port trigger holds its line 10 ms (device-protocols
B7) and MagPy resets its RTS "a few ms" later (A7). Set `?width_ms=` for your unit."""
MIN_WIDTH_S = 0.00001
MAX_WIDTH_S = 0.1
MIN_GAP_S = 0.0005
"""Low time we require between two pulses of a train (our margin, so edges stay edges)."""


class TriggerUnavailable(ConfigError):
    """The line's Python package (an optional extra) or its hardware is not there."""


class TriggerLoopbackError(DriverError):
    """The loopback input read back a level the output did not drive: cable or line fault."""


class TriggerLine(abc.ABC):
    """One output into a stimulator's Trigger In. Construct with the URL, then `open()`.

    URL: ``SCHEME://WHERE?key=value...``; every line takes ``width_ms`` (pulse width,
    default 1 ms); implementations take their own keys and refuse unknown ones.
    """

    scheme: ClassVar[str] = ""
    extra: ClassVar[str] = ""
    """The pyproject extra that installs the line's package ('' when none is needed)."""

    def __init__(self, url: str, *, clock: Clock | None = None) -> None:
        self.url = url
        self.clock: Clock = clock or MonotonicClock()
        scheme, where, params = split_url(url)
        if self.scheme and scheme != self.scheme:
            raise ConfigError(
                f"trigger line {url!r}: {type(self).__name__} serves {self.scheme}://"
            )
        self.where = where
        self._params = params
        self.width_s = self._number("width_ms", DEFAULT_WIDTH_S * 1000, 0.01, 100.0) / 1000
        self._is_open = False
        self._configure()
        if self._params:
            raise ConfigError(
                f"trigger line {url!r}: unknown key(s) {', '.join(sorted(self._params))}"
            )

    # -- URL keys, consumed by `_configure` ---------------------------------------------

    def _text(self, key: str, default: str | None = None) -> str | None:
        return self._params.pop(key, default)

    def _number(self, key: str, default: float, low: float, high: float) -> float:
        raw = self._params.pop(key, None)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"trigger line {self.url!r}: {key} must be a number") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise ConfigError(f"trigger line {self.url!r}: {key} must be {low:g}-{high:g}")
        return value

    def _configure(self) -> None:  # noqa: B027 - optional hook, most lines have keys
        """Read the implementation's own URL keys (pop them from `self._params`)."""

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._is_open

    def open(self) -> TriggerLine:
        """Take the line and drive it to its idle (low) level."""
        if self._is_open:
            raise StateError(f"trigger line {self.url} is already open")
        self._do_open()
        try:
            self._do_set(False)
        except BaseException:
            self._do_close()
            raise
        self._is_open = True
        log.info("trigger line %s open", self.url)
        return self

    def close(self) -> None:
        """Drive the line low (best effort) and release it. Idempotent."""
        if not self._is_open:
            return
        self._is_open = False
        try:
            self._do_set(False)
        except Exception as exc:
            log.warning("trigger line %s: could not drive it low on close: %s", self.url, exc)
        finally:
            self._do_close()

    def __enter__(self) -> TriggerLine:
        if not self._is_open:
            self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- output ---------------------------------------------------------------------------

    @property
    def has_loopback(self) -> bool:
        """True when the hardware reads the line back (a wired loopback input)."""
        return False

    def pulse(self, scheduled_s: float | None = None) -> FireReceipt:
        """One pulse: wait until `scheduled_s` (clock time) if it is ahead, raise the line,
        hold it `width_s`, lower it. The receipt's `actual_s` is the clock right after the
        rising edge was set. With a loopback, each level is read back and checked."""
        if not self._is_open:
            raise StateError(f"trigger line {self.url} is not open")
        if scheduled_s is not None and scheduled_s > self.clock.now():
            self.clock.sleep_until(scheduled_s)
        self._do_set(True)
        actual = self.clock.now()
        try:
            self._check_loopback(True)
            self.clock.sleep_until(actual + self.width_s)
        finally:
            self._do_set(False)
        self._check_loopback(False)
        return FireReceipt(self.url, actual, scheduled_s)

    def train(self, times_s: Sequence[float]) -> list[FireReceipt]:
        """A pulse at each clock time (increasing, at least width + 0.5 ms apart)."""
        times = list(times_s)
        for earlier, later in itertools.pairwise(times):
            if not later - earlier >= self.width_s + MIN_GAP_S:
                raise ConfigError(
                    f"trigger line {self.url}: pulses at {earlier:.6f} and {later:.6f} s are"
                    f" closer than the {self.width_s * 1000:g} ms width plus"
                    f" {MIN_GAP_S * 1000:g} ms low time"
                )
        return [self.pulse(t) for t in times]

    def read_back(self) -> bool | None:
        """The level the loopback input reads now; None without a loopback."""
        if not self._is_open:
            raise StateError(f"trigger line {self.url} is not open")
        return self._do_read_back() if self.has_loopback else None

    def _check_loopback(self, level: bool) -> None:
        if not self.has_loopback:
            return
        seen = self._do_read_back()
        if seen is not level:
            try:
                self._do_set(False)
            finally:
                want, got = ("high", "low") if level else ("low", "high")
                raise TriggerLoopbackError(
                    f"trigger line {self.url}: the loopback input reads {got} after the output"
                    f" was driven {want}: check the trigger cable"
                )

    # -- hooks ------------------------------------------------------------------------------

    @abc.abstractmethod
    def _do_open(self) -> None:
        """Take the hardware (import the optional package here: `needs()`)."""

    @abc.abstractmethod
    def _do_close(self) -> None: ...

    @abc.abstractmethod
    def _do_set(self, level: bool) -> None:
        """Drive the output high (True) or low."""

    def _do_read_back(self) -> bool:
        """Read the loopback input (only called when `has_loopback`)."""
        raise NotImplementedError

    def needs(self, package: str, module: str) -> NoReturn:
        """Raise one clear `TriggerUnavailable` line when the optional `module` is missing."""
        raise TriggerUnavailable(
            f"trigger line {self.url}: needs the Python package {package!r}"
            + (f" (pip install 'stimctl[{self.extra}]')" if self.extra else "")
            + f"; `import {module}` failed"
        )


def split_url(url: str) -> tuple[str, str, dict[str, str]]:
    """'ftdi://ftdi:232h/1?pin=0' -> ('ftdi', 'ftdi:232h/1', {'pin': '0'})."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"trigger line {url!r}: expected SCHEME://WHERE[?key=value...]")
    parts = urlsplit(url)
    params: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in params:
            raise ConfigError(f"trigger line {url!r}: key {key!r} given twice")
        params[key] = value
    return parts.scheme.lower(), parts.netloc + parts.path, params


@cache
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for ep in entry_points(group=GROUP):
        known = table.get(ep.name)
        if known is not None and known != ep.value:
            raise ConfigError(
                f"trigger scheme {ep.name!r} is registered twice: {known} and {ep.value}"
            )
        table[ep.name] = ep.value
    return table


def trigger_schemes() -> list[str]:
    """The registered URL schemes, sorted. Imports no implementation."""
    return sorted(_table())


def trigger_class(url: str) -> type[TriggerLine]:
    """The implementation registered for the URL's scheme."""
    scheme, _, _ = split_url(url)
    target = _table().get(scheme)
    if target is None:
        known = ", ".join(f"{s}://" for s in trigger_schemes()) or "none"
        raise ConfigError(f"trigger line {url!r}: unknown scheme {scheme!r}; known: {known}")
    import importlib

    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:  # a broken plug-in is "unavailable", not a crash
        raise TriggerUnavailable(
            f"trigger line {url!r}: {target} failed to load: {exc!r}"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, TriggerLine)):
        raise TriggerUnavailable(f"trigger line {url!r}: {target} is not a TriggerLine")
    return cls


def make_trigger(url: str, *, clock: Clock | None = None) -> TriggerLine:
    """A line for `url`, not yet open (URL checked, nothing touched)."""
    return trigger_class(url)(url, clock=clock)


def open_trigger(url: str, *, clock: Clock | None = None) -> TriggerLine:
    """A line for `url`, opened (driven low)."""
    return make_trigger(url, clock=clock).open()


def clear_cache() -> None:
    _table.cache_clear()
