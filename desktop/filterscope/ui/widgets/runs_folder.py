"""The folder training runs are saved in and listed from: typed, or chosen with a folder dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget


class RunsFolderWidget(QWidget):
    """"Runs folder" with its path and a "…" button that browses for another."""

    sig_chosen = Signal()
    """A folder was typed (editing finished) or picked in the dialog: list the runs there."""

    def __init__(self, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(str(folder))
        self.browse_button = QPushButton("…")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Runs folder"))
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.browse_button)
        self.edit.editingFinished.connect(self.sig_chosen)
        self.browse_button.clicked.connect(self._on_browse_clicked)

    def folder(self) -> Path:
        """The folder shown."""
        return Path(self.edit.text())

    def set_folder(self, folder: Path) -> None:
        """Show ``folder`` (without announcing it: the caller lists it)."""
        self.edit.setText(str(folder))

    @Slot()
    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for training runs")
        if folder:
            self.edit.setText(folder)
            self.sig_chosen.emit()
