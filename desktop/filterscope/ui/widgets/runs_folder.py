"""The folder training runs are saved in and listed from (``AppState.runs_dir``): typed, or chosen
with a folder dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from filterscope.ui.state import AppState


class RunsFolderWidget(QWidget):
    """"Runs folder" with its path and a "…" button that browses for another, bound to the
    state's runs folder."""

    sig_chosen = Signal()
    """A folder was typed (editing finished), picked in the dialog or given: list the runs there
    (the same folder again too: it lists afresh)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.edit = QLineEdit(str(state.runs_dir))
        self.browse_button = QPushButton("…")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Runs folder"))
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.browse_button)
        self.edit.editingFinished.connect(lambda: self.choose(Path(self.edit.text())))
        self.browse_button.clicked.connect(self._on_browse_clicked)
        state.sig_runs_dir_changed.connect(lambda folder: self.edit.setText(str(folder)))

    def choose(self, folder: Path) -> None:
        """Save runs in ``folder`` from now on, and announce it."""
        self._state.set_runs_dir(Path(folder))
        self.sig_chosen.emit()

    @Slot()
    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for training runs")
        if folder:
            self.choose(Path(folder))
