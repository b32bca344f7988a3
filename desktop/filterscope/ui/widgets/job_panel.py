"""A progress bar, a message and a Cancel button bound to a JobRunner; and a failure handler
for jobs whose failures go to the status bar."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import SignalInstance, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from filterscope.workers import JobRunner


def status_failure(sig_status: SignalInstance, what: str) -> Callable[[str], None]:
    """A JobRunner's ``on_failure`` that puts "<what>: <reason>" on a tab's ``sig_status``."""
    return lambda message: sig_status.emit(f"{what}: {message}")


class JobPanelWidget(QWidget):
    """Shows the state of one runner; hidden while nothing runs, the last message stays."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None, *,
                 cancelled_text: str = "Cancelled") -> None:
        super().__init__(parent)
        self._runner = runner
        self._cancelled_text = cancelled_text  # the tab's word for it (training is "Stopped")
        self._bar = QProgressBar()
        self._bar.setRange(0, 1000)
        self._bar.setTextVisible(False)
        self._bar.setMaximumWidth(260)
        self._label = QLabel()
        self._label.setMinimumWidth(120)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._bar)
        layout.addWidget(self._label, 1)
        layout.addWidget(self.cancel_button)
        runner.sig_progress.connect(self._on_runner_progress)
        runner.sig_running.connect(self._on_runner_running)
        runner.sig_failed.connect(self._on_runner_failed)
        runner.sig_cancelled.connect(self._on_runner_cancelled)
        self._on_runner_running(False)

    def message(self) -> str:
        """The text currently shown."""
        return self._label.text()

    def clear(self) -> None:
        """Forget the last message (it was about something no longer chosen)."""
        self._label.clear()

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self._runner.cancel()

    @Slot(float, str)
    def _on_runner_progress(self, fraction: float, message: str) -> None:
        self._bar.setValue(int(1000 * fraction))
        self._label.setText(message)

    @Slot(bool)
    def _on_runner_running(self, running: bool) -> None:
        if running:
            self._bar.setValue(0)
        self._bar.setVisible(running)
        self.cancel_button.setVisible(running)

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self._label.setText(f"Failed: {message}")

    @Slot()
    def _on_runner_cancelled(self) -> None:
        self._label.setText(self._cancelled_text)
