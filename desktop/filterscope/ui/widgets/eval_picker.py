"""Choose what to evaluate: a run, its best or last model, the images; and the run's earlier
evaluations, to open one without computing it again."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.base.formats import percent
from filterscope.core.results.store import SavedEvaluations
from filterscope.core.training.runs import RunResult

# (label, subset) of the evaluation sets offered; "another folder" asks for the folder.
SETS = [("Default: test/ if any, else validation", None),  # as the core decides
        ("The run's validation images", "val"), ("The dataset's test/ folder", "test")]
ANOTHER = "Another folder…"
PATH_ROLE = Qt.ItemDataRole.UserRole


class EvalPickerWidget(QWidget):
    """Run, model and images, the Evaluate button, and the run's saved evaluations."""

    sig_run_changed = Signal()
    """Another run or model was chosen."""
    sig_saved_chosen = Signal(str)
    """A saved evaluation (its JSON file) was clicked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._other_folder: str | None = None
        self.run_combo = QComboBox()
        self.run_combo.setMinimumContentsLength(24)
        self.model_combo = QComboBox()
        self.model_combo.addItems(["best", "last"])
        self.set_combo = QComboBox()
        self.set_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.set_combo.setMinimumContentsLength(20)
        for label, subset in SETS:
            self.set_combo.addItem(label, subset)
        self.set_combo.addItem(ANOTHER, None)
        self.evaluate_button = QPushButton("Evaluate")
        self.saved_list = QListWidget()
        box = QGroupBox("Evaluate")
        form = QFormLayout(box)
        form.addRow("Run", self.run_combo)
        form.addRow("Model", self.model_combo)
        form.addRow("Images", self.set_combo)
        form.addRow(self.evaluate_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        earlier = QLabel("Earlier evaluations of this run (click to open)")
        earlier.setWordWrap(True)
        layout.addWidget(earlier)
        layout.addWidget(self.saved_list, 1)
        self.run_combo.currentIndexChanged.connect(self.sig_run_changed)
        self.model_combo.currentIndexChanged.connect(self.sig_run_changed)
        self.set_combo.activated.connect(self._on_set_activated)
        self.saved_list.itemClicked.connect(self._on_saved_clicked)

    def set_runs(self, runs: list[RunResult], prefer: Path | None = None) -> None:
        """Offer ``runs`` (newest first); choose ``prefer`` if listed, else keep the choice."""
        current = self.run_combo.currentData()
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for run in reversed(runs):
            self.run_combo.addItem(run.run_dir.name, str(run.run_dir))
            self.run_combo.setItemData(self.run_combo.count() - 1, str(run.run_dir),
                                       Qt.ItemDataRole.ToolTipRole)
        if not runs:
            self.run_combo.addItem("No runs in the runs folder: train one in the Train tab", None)
        index = self.run_combo.findData(str(prefer) if prefer is not None else current)
        self.run_combo.setCurrentIndex(max(index, 0))
        self.run_combo.blockSignals(False)
        self.sig_run_changed.emit()

    def run_dir(self) -> Path | None:
        """The run chosen, or None."""
        data = self.run_combo.currentData()
        return None if data is None else Path(data)

    def which(self) -> str:
        """``best`` or ``last``."""
        return self.model_combo.currentText()

    def chosen_set(self) -> tuple[str | None, str | None]:
        """The ``(data, subset)`` to evaluate on, as the core's evaluate takes them."""
        if self.set_combo.currentIndex() == len(SETS):
            return self._other_folder, None
        return None, self.set_combo.currentData()

    def set_other_folder(self, folder: str) -> None:
        """Evaluate on ``folder`` (class folders, or a dataset split into folders)."""
        self._other_folder = folder
        self.set_combo.setItemText(len(SETS), f"{ANOTHER[:-1]}: {Path(folder).name}")
        self.set_combo.setItemData(len(SETS), folder, Qt.ItemDataRole.ToolTipRole)
        self.set_combo.setCurrentIndex(len(SETS))

    def set_saved(self, saved: SavedEvaluations) -> None:
        """List a run's saved evaluations, newest first, and the files that could not be read."""
        self.saved_list.clear()
        for ev in reversed(saved.evaluations):
            item = QListWidgetItem(f"{ev.name}\n{percent(ev.accuracy)} vs. baseline {percent(ev.baseline)}, "
                                   f"{ev.n_images:,} images" + (f", {ev.n_warnings} warning(s)"
                                                                if ev.n_warnings else ""))
            item.setData(PATH_ROLE, str(ev.path))
            item.setToolTip(ev.description)
            self.saved_list.addItem(item)
        for problem in saved.problems:
            self.saved_list.addItem(QListWidgetItem(problem))

    @Slot(int)
    def _on_set_activated(self, index: int) -> None:
        if index != len(SETS):
            return
        folder = QFileDialog.getExistingDirectory(self, "Evaluate on the images of a folder "
                                                  "(one sub-folder per class, or split into train/val/test)")
        if folder:
            self.set_other_folder(folder)
        elif self._other_folder is None:
            self.set_combo.setCurrentIndex(0)

    @Slot(QListWidgetItem)
    def _on_saved_clicked(self, item: QListWidgetItem) -> None:
        path = item.data(PATH_ROLE)
        if path:
            self.sig_saved_chosen.emit(str(path))
