"""The one worker pattern: a core job in a QThread, signals in the GUI thread, cancel, restart."""

from __future__ import annotations

import threading
import time

import pytest
from filterscope.core.base.jobs import Cancelled, check_cancel
from filterscope.workers import JobRunner
from PySide6.QtCore import QCoreApplication, QObject, QThread, Slot


def counting_job(n: int, *, report, cancel, delay: float = 0.0) -> int:
    for i in range(n):
        check_cancel(cancel)
        report.partial(i)
        report.progress((i + 1) / n, f"step {i + 1}")
        time.sleep(delay)
    return n * 10


def failing_job(*, report, cancel) -> None:
    raise ValueError("the file x.png is not an image")


def endless_job(started: threading.Event, *, report, cancel) -> None:
    started.set()
    while True:
        check_cancel(cancel)
        time.sleep(0.001)


class Recorder(QObject):
    """Slots living in the GUI thread, recording which thread delivered each signal."""

    def __init__(self, runner: JobRunner) -> None:
        super().__init__()
        self.events: list[tuple[str, object]] = []
        self.threads: set[QThread] = set()
        runner.sig_partial.connect(self.on_partial)
        runner.sig_finished.connect(self.on_finished)
        runner.sig_failed.connect(self.on_failed)
        runner.sig_cancelled.connect(self.on_cancelled)
        runner.sig_running.connect(self.on_running)

    def _log(self, name: str, value: object) -> None:
        self.threads.add(QThread.currentThread())
        self.events.append((name, value))

    @Slot(object)
    def on_partial(self, value: object) -> None:
        self._log("partial", value)

    @Slot(object)
    def on_finished(self, value: object) -> None:
        self._log("finished", value)

    @Slot(str)
    def on_failed(self, message: str) -> None:
        self._log("failed", message)

    @Slot()
    def on_cancelled(self) -> None:
        self._log("cancelled", None)

    @Slot(bool)
    def on_running(self, running: bool) -> None:
        self._log("running", running)


@pytest.fixture
def runner(qtbot) -> JobRunner:
    """A runner whose failures the tests read from its signal."""
    runner = JobRunner(on_failure=lambda _message: None)
    yield runner
    runner.shutdown()


def test_a_runner_cannot_be_made_without_a_failure_handler(qtbot) -> None:
    with pytest.raises(TypeError, match="on_failure"):
        JobRunner()  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="needs on_failure"):
        JobRunner(on_failure=None)  # type: ignore[arg-type]


def test_the_handlers_run_in_the_gui_thread_and_a_failure_ends_the_busy_state_first(qtbot) -> None:
    events: list[tuple[str, object]] = []
    threads: set[QThread] = set()

    def note(name: str):
        def handler(*args) -> None:  # a plain function (a lambda would do as well)
            threads.add(QThread.currentThread())
            events.append((name, args[0] if args else None))
        return handler

    runner = JobRunner(on_failure=note("failure"), on_result=note("result"), on_partial=note("partial"),
                       on_progress=note("progress"), on_running=note("running"),
                       on_cancelled=note("cancelled"))
    with qtbot.waitSignal(runner.sig_finished, timeout=5000):
        runner.start(counting_job, 2)
    assert [e for e in events if e[0] != "progress"] == \
        [("running", True), ("partial", 0), ("partial", 1), ("running", False), ("result", 20)]
    assert ("progress", 1.0) in events
    events.clear()
    with qtbot.waitSignal(runner.sig_failed, timeout=5000):
        runner.start(failing_job)
    assert events == [("running", True), ("running", False),
                      ("failure", "the file x.png is not an image")]
    assert threads == {QCoreApplication.instance().thread()}
    runner.shutdown()


def test_result_partials_and_running_state_arrive_in_gui_thread(qtbot, runner) -> None:
    recorder = Recorder(runner)
    with qtbot.waitSignal(runner.sig_finished, timeout=5000) as blocker:
        runner.start(counting_job, 5)
    assert blocker.args == [50]
    assert [v for name, v in recorder.events if name == "partial"] == [0, 1, 2, 3, 4]
    assert recorder.events[0] == ("running", True)
    assert ("running", False) in recorder.events
    assert recorder.threads == {QCoreApplication.instance().thread()}
    assert not runner.is_running()


def test_failure_becomes_one_line_message(qtbot, runner) -> None:
    with qtbot.waitSignal(runner.sig_failed, timeout=5000) as blocker:
        runner.start(failing_job)
    assert blocker.args == ["the file x.png is not an image"]
    assert not runner.is_running()


@pytest.mark.parametrize("error", [SystemExit(3), KeyboardInterrupt()])
def test_a_job_raising_a_base_exception_still_ends_with_a_failure(qtbot, runner, error) -> None:
    def job(*, report, cancel):
        raise error

    with qtbot.waitSignal(runner.sig_failed, timeout=5000) as blocker:
        runner.start(job)
    assert blocker.args == [{SystemExit: "SystemExit 3", KeyboardInterrupt: "KeyboardInterrupt"}[type(error)]]
    assert not runner.is_running()
    with qtbot.waitSignal(runner.sig_finished, timeout=5000):
        runner.start(counting_job, 1)  # and the runner works on


def test_cancel_stops_the_job_and_the_runner_is_usable_again(qtbot, runner) -> None:
    started = threading.Event()
    worker = runner.start(endless_job, started)
    assert started.wait(5)
    with qtbot.waitSignal(runner.sig_cancelled, timeout=5000):
        runner.cancel()
    assert worker.is_cancelled()
    with qtbot.waitSignal(runner.sig_finished, timeout=5000) as blocker:
        runner.start(counting_job, 2)
    assert blocker.args == [20]


def test_starting_a_job_cancels_the_old_one_and_drops_its_signals(qtbot, runner) -> None:
    recorder = Recorder(runner)
    started = threading.Event()
    old = runner.start(endless_job, started)
    assert started.wait(5)
    with qtbot.waitSignal(runner.sig_finished, timeout=5000) as blocker:
        runner.start(counting_job, 3)
    assert old.is_cancelled()
    assert blocker.args == [30]
    finished = [v for name, v in recorder.events if name == "finished"]
    assert finished == [30]


def test_cancelled_exception_raised_directly_counts_as_cancel(qtbot, runner) -> None:
    def job(*, report, cancel):
        raise Cancelled()

    with qtbot.waitSignal(runner.sig_cancelled, timeout=5000):
        runner.start(job)


def test_shutdown_waits_for_threads(qtbot) -> None:
    runner = JobRunner(on_failure=lambda _message: None)
    started = threading.Event()
    runner.start(endless_job, started)
    assert started.wait(5)
    assert runner.shutdown(5000)
    assert not runner.is_running()


def test_the_end_of_a_cancelled_job_is_reported_once_it_has_returned(qtbot, runner) -> None:
    """A job keeps running after cancel() until its next check (a training run saves its
    history then): sig_job_ended says when whatever it wrote is final."""
    started, returned = threading.Event(), threading.Event()

    def job(*, report, cancel) -> None:
        started.set()
        while not cancel.is_set():
            time.sleep(0.001)
        time.sleep(0.05)  # still writing after the cancel
        returned.set()
        raise Cancelled()

    worker = runner.start(job)
    assert started.wait(5)
    with qtbot.waitSignal(runner.sig_job_ended, timeout=5000) as blocker:
        runner.cancel()
    assert blocker.args == [worker] and returned.is_set()
    with qtbot.waitSignal(runner.sig_job_ended, timeout=5000) as blocker:
        finished = runner.start(counting_job, 2)
    assert blocker.args == [finished]


def test_a_job_outlives_its_runner_deleted_while_it_runs(qtbot) -> None:
    """A tab closed while its job runs deletes its runner: the job's thread and worker must stay
    alive until the thread has finished, or Qt deletes them under the running thread."""
    import gc

    from filterscope import workers
    from PySide6.QtWidgets import QWidget

    parent = QWidget()
    runner = JobRunner(parent, on_failure=lambda _message: None)
    release, returned = threading.Event(), threading.Event()

    def job(*, report, cancel) -> int:
        release.wait(5)
        returned.set()
        return 1

    worker = runner.start(job)
    thread = next(t for t, w in workers._STARTED if w is worker)
    del worker, runner
    parent.deleteLater()
    del parent
    QCoreApplication.processEvents()
    gc.collect()
    release.set()
    qtbot.waitUntil(thread.isFinished, timeout=5000)
    assert returned.is_set()
    QCoreApplication.processEvents()
    JobRunner(on_failure=lambda _m: None).start(counting_job, 1)  # the next start lets the ended one go
    assert all(t is not thread for t, _ in workers._STARTED)
