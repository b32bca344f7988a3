"""Qt fixtures: private settings, a guard that fails a test leaving a QThread running, copies of
the shared run, and the built-in digits opened."""

from __future__ import annotations

import threading
from pathlib import Path

import filterscope.workers as workers
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.source import BuiltinSource
from filterscope.core.data.sources import open_source
from PySide6.QtCore import QSettings, QThread

from tests.results_runs import copy_run


@pytest.fixture(autouse=True)
def _no_dangling_qthreads(monkeypatch: pytest.MonkeyPatch, qtbot):
    """Record every QThread the worker module starts; each must have ended after the test."""
    started: list[QThread] = []

    class TrackedThread(QThread):
        def start(self, *args):  # type: ignore[no-untyped-def]
            started.append(self)
            super().start(*args)

    monkeypatch.setattr(workers, "QThread", TrackedThread)
    yield
    try:
        qtbot.waitUntil(lambda: not any(t.isRunning() for t in started), timeout=10_000)
    except AssertionError:
        pytest.fail(f"{sum(t.isRunning() for t in started)} QThread(s) still running after the test")


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """INI settings in the test's own folder."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def run(results_run: Path, tmp_path: Path) -> Path:
    """A copy of the shared run, alone in its runs folder (the tab may save into it)."""
    return copy_run(results_run, tmp_path / "runs" / results_run.name)


@pytest.fixture
def two_runs(results_run: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of the shared run in one runs folder."""
    runs = tmp_path / "runs"
    return copy_run(results_run, runs / "run-a"), copy_run(results_run, runs / "run-b")


@pytest.fixture
def mnist(data_dir: Path) -> Dataset:
    """The built-in MNIST digits, opened with the test's own data folder (``data_dir``)."""
    return open_source(BuiltinSource("mnist"), report=NullReport(), cancel=threading.Event())
