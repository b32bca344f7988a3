"""Qt fixtures: private settings, a guard that fails a test leaving a QThread running, and two
copies of the shared run."""

from __future__ import annotations

from pathlib import Path

import filterscope.workers as workers
import pytest
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
def two_runs(results_run: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of the shared run in one runs folder."""
    runs = tmp_path / "runs"
    return copy_run(results_run, runs / "run-a"), copy_run(results_run, runs / "run-b")
