"""The long-job protocol shared by the CLI, the GUI workers and the tests.

A long job is a plain function ``fn(..., report: Report, cancel: Cancel) -> Result``. It reports
progress and partial results through ``report`` and polls ``cancel`` between units of work, raising
:class:`Cancelled` when asked to stop. It knows nothing of Qt: ``filterscope.workers`` runs it in a
QThread, the CLI runs it with a tqdm reporter, tests run it with :class:`RecordingReport`.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol


class Report(Protocol):
    """Where a job sends what it has done so far."""

    def progress(self, fraction: float, message: str = "") -> None:
        """Report overall progress in [0, 1] with a short human-readable message."""

    def partial(self, payload: Any) -> None:
        """Hand over a piece of the result before the job ends (thumbnails, batch metrics)."""


class Cancel(Protocol):
    """Polled by a job; ``threading.Event`` is the canonical implementation."""

    def is_set(self) -> bool:
        """True once the job has been asked to stop."""


class Cancelled(Exception):
    """Raised inside a job when its cancel token is set."""


def check_cancel(cancel: Cancel) -> None:
    """Raise :class:`Cancelled` if ``cancel`` is set.

    Args:
        cancel: The job's cancel token.
    """
    if cancel.is_set():
        raise Cancelled()


class NullReport:
    """A report that discards everything (for callers that need only the result)."""

    def progress(self, fraction: float, message: str = "") -> None:
        """Ignore progress."""

    def partial(self, payload: Any) -> None:
        """Ignore partial results."""


class RecordingReport:
    """A report that keeps every call, for tests and for headless callers that want the log."""

    def __init__(self) -> None:
        self.progress_calls: list[tuple[float, str]] = []
        self.partials: list[Any] = []

    def progress(self, fraction: float, message: str = "") -> None:
        """Record a progress call."""
        self.progress_calls.append((fraction, message))

    def partial(self, payload: Any) -> None:
        """Record a partial result."""
        self.partials.append(payload)


def never_cancel() -> threading.Event:
    """A fresh cancel token that nobody sets."""
    return threading.Event()


class SubReport:
    """A report for one step of a larger job: its progress [0, 1] lands in [start, start + span]
    of the parent's, partial results pass through unchanged."""

    def __init__(self, report: Report, start: float, span: float) -> None:
        self._report, self._start, self._span = report, start, span

    def progress(self, fraction: float, message: str = "") -> None:
        """Forward progress, scaled into this step's share."""
        self._report.progress(self._start + self._span * fraction, message)

    def partial(self, payload: Any) -> None:
        """Forward a partial result."""
        self._report.partial(payload)
