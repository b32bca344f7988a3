"""The validation-split dialog: choose N per class or a fraction, see the counts, choose where to save.

The dialog only decides; the Dataset tab makes (and saves) the split as a job, since the first
split of a session imports scikit-learn (0.4-1.3 s).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.base.fileio import refuse_inside
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.splits import split_counts


class SplitDialog(QDialog):
    """Shows the per-class train/validation counts of the split as the settings change."""

    def __init__(self, dataset: Dataset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Validation split: {dataset.name}")
        self._dataset = dataset
        self.save_path: Path | None = None
        self.per_class = QRadioButton("Images per class")
        self.fraction = QRadioButton("Fraction of each class")
        self.per_class.setChecked(True)
        self.n_spin = QSpinBox(minimum=1, maximum=1_000_000, value=12)
        self.f_spin = QDoubleSpinBox(minimum=0.01, maximum=0.99, singleStep=0.05, value=0.2)
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        form = QFormLayout()
        form.addRow(self.per_class, self.n_spin)
        form.addRow(self.fraction, self.f_spin)
        form.addRow("Random seed", self.seed_spin)
        note = QLabel("Nothing is moved or copied: the split is a manifest file that lists the "
                      "images of each subset. The chapter moves 12 images per class out of the "
                      "folder instead.")
        note.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Class", "Train", "Validation"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.totals = QLabel()
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b35c00")
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("Save manifest…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.use_button = buttons.addButton("Use without saving", QDialogButtonBox.ButtonRole.ApplyRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.use_button.clicked.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addLayout(form)
        top.addWidget(note, 1)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        layout.addWidget(self.warnings)
        layout.addWidget(buttons)
        for signal in (self.per_class.toggled, self.n_spin.valueChanged, self.f_spin.valueChanged,
                       self.seed_spin.valueChanged):
            signal.connect(self._on_settings_changed)
        self.resize(640, 520)
        self._on_settings_changed()

    def settings(self) -> dict:
        """``make_split`` keyword arguments for the choice shown."""
        size = ({"val_per_class": self.n_spin.value()} if self.per_class.isChecked()
                else {"val_fraction": self.f_spin.value()})
        return {**size, "seed": self.seed_spin.value()}

    @Slot()
    def _on_settings_changed(self) -> None:
        self.n_spin.setEnabled(self.per_class.isChecked())
        self.f_spin.setEnabled(not self.per_class.isChecked())
        settings = self.settings()
        settings.pop("seed")
        counts, warnings = split_counts(self._dataset, **settings)
        self.table.setRowCount(len(counts))
        for row, (name, c) in enumerate(counts.items()):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            for col, key in ((1, "train"), (2, "val")):
                item = QTableWidgetItem(f"{c[key]:,}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        train = sum(c["train"] for c in counts.values())
        val = sum(c["val"] for c in counts.values())
        self.totals.setText(f"Training {train:,} images, validation {val:,} images")
        self.warnings.setText("\n".join(warnings))

    @Slot()
    def _on_save_clicked(self) -> None:
        suggested = f"{self._dataset.name}-split-seed{self.seed_spin.value()}.json"
        path, _ = QFileDialog.getSaveFileName(self, "Save split manifest", suggested,
                                              "Split manifest (*.json)")
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        """Accept with ``path`` as the manifest's file; refuses the dataset folder itself."""
        try:
            if self._dataset.root is not None:
                refuse_inside(path, self._dataset.root)
        except ValueError as exc:
            QMessageBox.warning(self, "Manifest not saved", str(exc))
            return False
        self.save_path = path
        self.accept()
        return True
