"""Journal errors: subclasses of the one tree in `stimctl.errors`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stimctl.errors import ConfigError, ExitCode, RecordsError, StateError

if TYPE_CHECKING:
    from stimctl.journal.verify import VerifyResult


class InvalidRecord(ConfigError):
    """A record cannot be journaled as given: unknown event, bad actor, payload JSON
    cannot carry exactly (NaN, bytes, ...), or a closing record without a valid status.
    Nothing is written."""


class JournalClosed(StateError):
    """An append after the closing record (`session_end`) or after `Journal.close()`."""


class JournalBusy(StateError):
    """Another live process holds the journal open for writing."""


class JournalWriteError(RecordsError):
    """A write or fsync failed. The journal object refuses every later append, because
    after a failed fsync the kernel may have dropped the data (the file is left for
    `verify` and crash recovery to judge)."""


class JournalTampered(RecordsError):
    """The hash chain or the record structure is broken (exit 8, `ExitCode.TAMPERED`,
    wherever a command meets it: export, reconcile, ...)."""

    exit_code = ExitCode.TAMPERED

    def __init__(self, message: str, result: VerifyResult) -> None:
        super().__init__(message)
        self.result = result
