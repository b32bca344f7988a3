"""TensorFlow's state for a tab that needs it: waiting, loading, the versions, or why it failed.

TensorFlow takes 3-6 s to import, so a tab asks for it (``ensure_loaded``) when it is first
shown. A failure (TensorFlow missing or broken) is said in the label, with a button to try
again; nothing stays "loading".
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from filterscope.core.training.tf_runtime import load_tensorflow
from filterscope.workers import JobRunner

ERROR_STYLE = "color: #b00020"


class TensorFlowStatusWidget(QWidget):
    """A label with TensorFlow's state and a Try again button shown after a failure."""

    sig_loaded = Signal(str)
    """TensorFlow is loaded; carries its and Keras's versions."""
    sig_failed = Signal(str)
    """TensorFlow could not be loaded; carries the reason."""

    def __init__(self, parent: QWidget | None = None, *, hide_when_loaded: bool = False) -> None:
        super().__init__(parent)
        self._hide_when_loaded = hide_when_loaded
        self._versions: str | None = None
        self._failure: str | None = None
        self.label = QLabel("TensorFlow loads when this tab is first shown.")
        self.label.setWordWrap(True)
        self.retry_button = QPushButton("Try again")
        self.retry_button.setToolTip("Load TensorFlow again (after installing or repairing it)")
        self.retry_button.hide()
        self.retry_button.clicked.connect(self.load)
        self.runner = JobRunner(self, on_result=self._on_loaded, on_failure=self._on_failed,
                                on_progress=self._on_progress)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button)

    def ensure_loaded(self) -> None:
        """Load TensorFlow unless it is loaded, loading, or its last attempt failed (the user
        retries that with the button)."""
        if self._versions is None and self._failure is None and not self.runner.is_running():
            self.load()

    def is_loaded(self) -> bool:
        """True once TensorFlow has loaded."""
        return self._versions is not None

    def failure(self) -> str | None:
        """Why the last attempt failed, or None."""
        return self._failure

    @Slot()
    def load(self) -> None:
        """Load TensorFlow in the background (again, after a failure)."""
        self._failure = None
        self.retry_button.hide()
        self.label.setStyleSheet("")
        self.runner.start(load_tensorflow)

    @Slot(float, str)
    def _on_progress(self, _fraction: float, message: str) -> None:
        self.label.setText(message)

    @Slot(object)
    def _on_loaded(self, versions: str) -> None:
        self._versions = versions
        self.label.setText(versions)
        self.setVisible(not self._hide_when_loaded)
        self.sig_loaded.emit(versions)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._failure = message
        self.label.setStyleSheet(ERROR_STYLE)
        self.label.setText(f"TensorFlow could not be loaded: {message}")
        self.retry_button.show()
        self.show()
        self.sig_failed.emit(message)
