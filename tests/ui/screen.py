"""How the UI tests put a tab or the window on screen, and wait for it: one home for these set-ups,
so a test file says only what it builds and what it checks.

``shown`` hands a widget to qtbot (closed after the test), sizes and shows it, waiting for the
first job that showing starts; ``results_tab`` and ``train_tab`` build those tabs on a runs folder
(and a dataset); ``show_window`` starts the app's window; ``idle`` and ``settle`` tell and wait
until no job of a widget runs; ``evaluate`` clicks the Results tab's Evaluate and waits for it;
``larger_text`` is View ▸ Larger text for a block. Timeouts default to ``WAIT_MS``; a test file
with waits of its own length passes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from filterscope.core.data.datasets import Dataset
from filterscope.core.results.evaluate import Evaluation
from filterscope.ui.main_window import MainWindow
from filterscope.ui.state import AppState
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.tabs.train_tab import TrainTab
from filterscope.workers import JobRunner
from PySide6.QtCore import SignalInstance
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

WAIT_MS = 120_000  # a tab's first job may load TensorFlow and a model on a busy machine

W = TypeVar("W", bound=QWidget)


def shown(qtbot, widget: W, size: tuple[int, int] | None = None, *, until: SignalInstance | None = None,
          timeout: int = WAIT_MS) -> W:
    """``widget`` handed to qtbot, resized to ``size`` (when given) and shown; with ``until``, shown
    inside a wait for that signal (a tab starts its first job when shown)."""
    qtbot.addWidget(widget)
    if size is not None:
        widget.resize(*size)
    if until is None:
        widget.show()
    else:
        with qtbot.waitSignal(until, timeout=timeout):
            widget.show()
    return widget


def results_tab(qtbot, runs_dir: Path, size: tuple[int, int] | None = None, *,
                timeout: int = WAIT_MS) -> ResultsTab:
    """The Results tab on the runs folder ``runs_dir``, shown once it has listed the runs."""
    state = AppState()
    state.set_runs_dir(runs_dir)
    tab = ResultsTab(state)
    return shown(qtbot, tab, size, until=tab.list_runner.sig_finished, timeout=timeout)


def train_tab(qtbot, dataset: Dataset, runs_dir: Path, size: tuple[int, int] = (1200, 800)) -> TrainTab:
    """The Train tab on ``dataset``, training into ``runs_dir``: sized, not yet shown (showing
    starts its jobs, so the test chooses when)."""
    state = AppState()
    tab = TrainTab(state)
    qtbot.addWidget(tab)
    tab.resize(*size)
    state.set_dataset(dataset)
    state.set_runs_dir(runs_dir)
    return tab


def evaluate(qtbot, tab: ResultsTab, *, timeout: int = WAIT_MS) -> Evaluation:
    """Click the Results tab's Evaluate and wait for the job; the evaluation it shows."""
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=timeout):
        tab.evaluate_button.click()
    return tab.evaluation()


def show_window(qtbot, window: MainWindow, *, before_close: Callable[[MainWindow], None] | None = None,
                timeout: int = WAIT_MS) -> MainWindow:
    """The app's ``window`` handed to qtbot (``before_close`` runs before pytest-qt closes it) and
    shown, once the dataset its start opens (in a job) is open."""
    qtbot.addWidget(window, before_close_func=before_close)
    window.show()
    qtbot.waitUntil(lambda: window.state.dataset is not None, timeout=timeout)
    return window


def idle(widget: QWidget) -> bool:
    """No job of ``widget`` (a tab, or the window and all its tabs) is running."""
    return not any(runner.is_running() for runner in widget.findChildren(JobRunner))


def settle(qtbot, widget: QWidget, timeout: int = WAIT_MS) -> None:
    """Wait until the jobs ``widget`` started have ended (no thread outlives the test)."""
    qtbot.waitUntil(lambda: idle(widget), timeout=timeout)


@contextlib.contextmanager
def larger_text(factor: float = 2.0) -> Iterator[QFont]:
    """The application's font ``factor`` times larger for the block (what View ▸ Larger text does),
    the old one back after it; yields the larger font."""
    old = QFont(QApplication.font())
    bigger = QFont(old)
    bigger.setPointSizeF(old.pointSizeF() * factor)
    QApplication.setFont(bigger)
    try:
        yield bigger
    finally:
        QApplication.setFont(old)
