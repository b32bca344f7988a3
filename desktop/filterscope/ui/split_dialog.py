"""The validation-split dialog: choose N per class or a fraction, see the counts, choose where to save.

The dialog only decides; the Dataset tab makes (and saves) the split as a job, since the first
split of a session imports scikit-learn (0.4-1.3 s).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Slot
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
from filterscope.core.data.split_settings import FRACTION, PER_CLASS, SplitSettings
from filterscope.core.data.splits import split_counts
from filterscope.ui.binding import bind, control_for, setting_of


class SplitDialog(QDialog):
    """Shows the per-class train/validation counts of the split as the settings change."""

    def __init__(self, dataset: Dataset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Validation split: {dataset.name}")
        self._dataset = dataset
        self.save_path: Path | None = None
        self.split = split = SplitSettings()
        labels = dict(setting_of(split, "method").choices)
        self.per_class = QRadioButton(labels[PER_CLASS])
        self.fraction = QRadioButton(labels[FRACTION])
        self.per_class.setChecked(split.method == PER_CLASS)
        self.fraction.setChecked(split.method == FRACTION)
        self.n_spin = QSpinBox()
        self.f_spin = QDoubleSpinBox()
        self.seed_spin = control_for(setting_of(split, "seed"))
        for widget, name in ((self.n_spin, "val_per_class"), (self.f_spin, "val_fraction"),
                             (self.seed_spin, "seed")):
            bind(widget, split, name)
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
        self.per_class.toggled.connect(self._on_method_toggled)
        split.events.connect(self._on_settings_changed)
        self.resize(640, 520)
        self._on_settings_changed()

    def settings(self) -> dict:
        """``make_split`` keyword arguments for the choice shown."""
        return self.split.split_arguments()

    @Slot(bool)
    def _on_method_toggled(self, per_class: bool) -> None:
        self.split.method = PER_CLASS if per_class else FRACTION

    @Slot()
    def _on_settings_changed(self) -> None:
        per_class = self.split.method == PER_CLASS
        for radio, on in ((self.per_class, per_class), (self.fraction, not per_class)):
            with QSignalBlocker(radio):
                radio.setChecked(on)
        self.n_spin.setEnabled(per_class)
        self.f_spin.setEnabled(not per_class)
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
        suggested = f"{self._dataset.name}-split-seed{self.split.seed}.json"
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
