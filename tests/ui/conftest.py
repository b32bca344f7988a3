"""Qt fixtures: private settings, and a guard that fails a test leaving a QThread running."""

from __future__ import annotations

from pathlib import Path

import filterscope.workers as workers
import pytest
from PySide6.QtCore import QSettings, QThread


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
