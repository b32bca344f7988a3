"""The only threading code in Filterscope: run a core job in a QThread.

A job is a plain core function ``fn(..., report, cancel)`` (see ``filterscope.core.base.jobs``).
:class:`JobWorker` runs it in a QThread (``moveToThread``; ``started -> run``; ``done -> quit``)
and turns the report calls into signals. :class:`JobRunner` holds one
current job for a tab: starting a job cancels the previous one, whose later signals are dropped.
Worker signals are always connected to slots of QObjects living in the GUI thread, so they are
delivered there as queued calls.

A JobRunner is made with its handlers (``on_result``, ``on_progress``, ``on_partial``,
``on_cancelled``, ``on_running``) and cannot be made without ``on_failure``: every job's failure
is shown somewhere. The runner ends its busy state (``sig_running(False)``) before it calls the
failure handler, so what the handler writes is the last word.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from filterscope.core.base.jobs import Cancelled

log = logging.getLogger(__name__)

_PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress signals a second: more only floods the GUI

_STARTED: list[tuple[QThread, JobWorker]] = []
"""Every job's thread and worker, held here until the thread has finished, whatever becomes of its
runner: a tab closed (and its runner deleted) while a job runs must not take the job's QThread or
its worker with it, which would delete them under a running thread (a crash in that thread)."""


def _hold(thread: QThread, worker: JobWorker) -> None:
    """Hold a started job's thread and worker; let go of those whose thread has finished."""
    _STARTED[:] = [(t, w) for t, w in _STARTED if not t.isFinished()]
    _STARTED.append((thread, worker))


class JobWorker(QObject):
    """Runs one job function in its own QThread and reports through signals."""

    sig_progress = Signal(float, str)
    """Overall progress in [0, 1] and a message."""
    sig_partial = Signal(object)
    """A piece of the result, delivered before the job ends."""
    sig_finished = Signal(object)
    """The job's return value."""
    sig_failed = Signal(str)
    """A one-line message for the user; the traceback goes to the log."""
    sig_cancelled = Signal()
    """The job stopped because it was cancelled."""
    sig_done = Signal()
    """Emitted last, whatever the outcome; the thread quits on it."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._cancel = threading.Event()
        self._last_progress = 0.0

    def cancel(self) -> None:
        """Ask the job to stop at its next cancel check (thread-safe)."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        """True once cancel() was called."""
        return self._cancel.is_set()

    def progress(self, fraction: float, message: str = "") -> None:
        """Report protocol: throttled progress, always passing the start and the end."""
        now = time.monotonic()
        if 0.0 < fraction < 1.0 and now - self._last_progress < _PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        self.sig_progress.emit(float(fraction), message)

    def partial(self, payload: Any) -> None:
        """Report protocol: forward a partial result."""
        self.sig_partial.emit(payload)

    @Slot()
    def run(self) -> None:
        """Run the job in the worker thread; exactly one outcome signal, then sig_done."""
        try:
            result = self._fn(*self._args, report=self, cancel=self._cancel, **self._kwargs)
        except Cancelled:
            self.sig_cancelled.emit()
        except BaseException as exc:  # the worker boundary: every failure becomes a message
            # (even SystemExit or KeyboardInterrupt raised by a job: nothing above this thread
            # would catch it, and the runner would stay busy for ever)
            log.exception("job %s failed", getattr(self._fn, "__name__", self._fn))
            plain = isinstance(exc, Exception) and str(exc)  # "3" alone says nothing of SystemExit(3)
            self.sig_failed.emit(plain or " ".join((type(exc).__name__, str(exc))).strip())
        else:
            if self._cancel.is_set():
                self.sig_cancelled.emit()
            else:
                self.sig_finished.emit(result)
        self.sig_done.emit()


class JobRunner(QObject):
    """Holds the current job of one tab or widget and re-emits only its signals."""

    sig_progress = Signal(float, str)
    """Progress of the current job."""
    sig_partial = Signal(object)
    """A partial result of the current job."""
    sig_finished = Signal(object)
    """The current job's result."""
    sig_failed = Signal(str)
    """The current job failed with this message."""
    sig_cancelled = Signal()
    """The current job was cancelled."""
    sig_running = Signal(bool)
    """True when a job starts, False when the current job ends in any way."""
    sig_job_ended = Signal(object)
    """A job's thread has ended, the current job's or one cancelled earlier, so whatever it
    wrote is final; carries the JobWorker that start() returned."""

    def __init__(self, parent: QObject | None = None, *, on_failure: Callable[[str], Any],
                 on_result: Callable[[Any], Any] | None = None,
                 on_progress: Callable[[float, str], Any] | None = None,
                 on_partial: Callable[[Any], Any] | None = None,
                 on_cancelled: Callable[[], Any] | None = None,
                 on_running: Callable[[bool], Any] | None = None) -> None:
        """Args:
            parent: The tab or widget whose jobs these are.
            on_failure: Shows a failed job's one-line message to the user (required: a job that
                fails must never fail silently).
            on_result, on_progress, on_partial, on_cancelled, on_running: Connected to the
                runner's signals. The runner emits them in the GUI thread, so a lambda is safe.
        """
        super().__init__(parent)
        if on_failure is None:
            raise ValueError("a JobRunner needs on_failure: where its jobs' failures are shown")
        self._current: JobWorker | None = None
        self._threads: dict[JobWorker, QThread] = {}
        for signal, handler in ((self.sig_failed, on_failure), (self.sig_finished, on_result),
                                (self.sig_progress, on_progress), (self.sig_partial, on_partial),
                                (self.sig_cancelled, on_cancelled), (self.sig_running, on_running)):
            if handler is not None:
                signal.connect(handler)

    def start(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> JobWorker:
        """Cancel the current job (if any) and start ``fn(*args, report, cancel, **kwargs)``."""
        self.cancel()
        worker = JobWorker(fn, *args, **kwargs)
        thread = QThread()
        thread.setObjectName(f"job:{getattr(fn, '__name__', 'job')}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.sig_progress.connect(self._on_worker_progress)
        worker.sig_partial.connect(self._on_worker_partial)
        worker.sig_finished.connect(self._on_worker_finished)
        worker.sig_failed.connect(self._on_worker_failed)
        worker.sig_cancelled.connect(self._on_worker_cancelled)
        # QThread.quit is thread-safe; a direct call lets shutdown() wait without an event loop.
        worker.sig_done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        self._threads[worker] = thread
        self._current = worker
        _hold(thread, worker)
        thread.start()
        self.sig_running.emit(True)
        return worker

    def is_running(self) -> bool:
        """True while the current job has not ended."""
        return self._current is not None

    def cancel(self) -> None:
        """Cancel the current job; its remaining signals are ignored."""
        if self._current is not None:
            self._current.cancel()
            self._current = None
            self.sig_cancelled.emit()
            self.sig_running.emit(False)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel every job and wait for the threads (application exit). True if all ended."""
        self.cancel()
        for worker in list(self._threads):
            worker.cancel()
        ok = all(thread.wait(timeout_ms) for thread in list(self._threads.values()))
        for worker in list(self._threads):
            self._release(worker)
        return ok

    def _is_current(self) -> bool:
        return self.sender() is not None and self.sender() is self._current

    def _end_current(self) -> None:
        self._current = None
        self.sig_running.emit(False)

    @Slot(float, str)
    def _on_worker_progress(self, fraction: float, message: str) -> None:
        if self._is_current():
            self.sig_progress.emit(fraction, message)

    @Slot(object)
    def _on_worker_partial(self, payload: Any) -> None:
        if self._is_current():
            self.sig_partial.emit(payload)

    @Slot(object)
    def _on_worker_finished(self, result: Any) -> None:
        if self._is_current():
            self._end_current()
            self.sig_finished.emit(result)

    @Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        if self._is_current():
            self._end_current()
            self.sig_failed.emit(message)

    @Slot()
    def _on_worker_cancelled(self) -> None:
        if self._is_current():
            self._end_current()
            self.sig_cancelled.emit()

    @Slot()
    def _on_thread_finished(self) -> None:
        for worker, thread in list(self._threads.items()):
            if thread is self.sender():
                self._release(worker)
                self.sig_job_ended.emit(worker)

    def _release(self, worker: JobWorker) -> None:
        # Python owns both objects (no Qt parent): dropping the last reference once the thread
        # has really ended deletes them from the GUI thread, where no event of theirs can run.
        thread = self._threads.pop(worker, None)
        if thread is not None:
            thread.wait()
