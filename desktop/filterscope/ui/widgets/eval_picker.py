"""Choose what to evaluate: a run, its best or last model, the images, test-time augmentation
(for predicting too); and the run's earlier evaluations, to open one without computing it again."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.base.formats import percent
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.results.store import SavedEvaluations
from filterscope.core.training.runs import RunResult
from filterscope.ui.binding import bind

PATH_ROLE = Qt.ItemDataRole.UserRole
NO_RUNS = "No runs in the runs folder: train one in the Train tab"


class EvalPickerWidget(QWidget):
    """Run, model and images, the Evaluate button, and the run's saved evaluations; the
    controls are bound to ``settings`` (the run combo lists the runs, the model holds the one
    chosen)."""

    sig_saved_chosen = Signal(str)
    """A saved evaluation (its JSON file) was clicked."""
    sig_run_activated = Signal()
    """The user chose a run in the combo."""

    def __init__(self, settings: EvaluateSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.run_combo = QComboBox()
        self.run_combo.setMinimumContentsLength(24)
        self.run_combo.setPlaceholderText("Choose a run")
        self.model_combo = QComboBox()
        self.data_edit = QLineEdit()
        self.data_edit.setPlaceholderText("The run's own images")
        self.data_edit.setClearButtonEnabled(True)
        self.folder_button = QPushButton("Folder…")
        self.subset_combo = QComboBox()
        self.subset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.subset_combo.setMinimumContentsLength(20)
        self.tta_check = QCheckBox()  # its text and tip from the setting's declaration
        for widget, name in ((self.run_combo, "run"), (self.model_combo, "model"),
                             (self.data_edit, "data"), (self.subset_combo, "subset"),
                             (self.tta_check, "tta")):
            bind(widget, settings, name)
        self.evaluate_button = QPushButton("Evaluate")
        self.saved_list = QListWidget()
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_edit, 1)
        data_row.addWidget(self.folder_button)
        box = QGroupBox("Evaluate")
        form = QFormLayout(box)
        form.addRow("Run", self.run_combo)
        form.addRow("Model", self.model_combo)
        form.addRow("Images", data_row)
        form.addRow("Subset", self.subset_combo)
        form.addRow(self.tta_check)
        form.addRow(self.evaluate_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        earlier = QLabel("Earlier evaluations of this run (click to open)")
        earlier.setWordWrap(True)
        layout.addWidget(earlier)
        layout.addWidget(self.saved_list, 1)
        self.run_combo.activated.connect(self.sig_run_activated)
        self.folder_button.clicked.connect(self._on_folder_clicked)
        self.saved_list.itemClicked.connect(self._on_saved_clicked)

    def set_runs(self, runs: list[RunResult], *prefer: Path | str | None) -> None:
        """Offer ``runs`` (newest first) and choose one: the first of ``prefer`` listed, else
        the settings' run if listed, else the newest."""
        with QSignalBlocker(self.run_combo):
            self.run_combo.clear()
            for run in reversed(runs):
                self.run_combo.addItem(run.run_dir.name, str(run.run_dir))
                self.run_combo.setItemData(self.run_combo.count() - 1, str(run.run_dir),
                                           Qt.ItemDataRole.ToolTipRole)
            if not runs:
                self.run_combo.addItem(NO_RUNS, "")
            found = [i for want in (*prefer, self.settings.run) if want
                     and (i := self.run_combo.findData(str(want))) >= 0]
            self.run_combo.setCurrentIndex(found[0] if found else 0)
        self.settings.run = self.run_combo.currentData()

    def lists(self, run: str) -> bool:
        """True when ``run`` is one of the runs offered."""
        return bool(run) and self.run_combo.findData(run) >= 0

    def run_dir(self) -> Path | None:
        """The run chosen (when it is listed), or None."""
        run = self.settings.run
        return Path(run) if self.lists(run) else None

    def which(self) -> str:
        """``best`` or ``last``."""
        return self.settings.model

    def chosen_set(self) -> tuple[str | None, str | None]:
        """The ``(data, subset)`` to evaluate on, as the core's evaluate takes them."""
        return self.settings.data or None, self.settings.subset

    def set_other_folder(self, folder: str) -> None:
        """Evaluate on ``folder`` (class folders, or a dataset split into folders)."""
        self.settings.data = str(folder)

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
            if ev.name == self.settings.evaluation:
                self.saved_list.setCurrentItem(item)
        for problem in saved.problems:
            self.saved_list.addItem(QListWidgetItem(problem))

    @Slot()
    def _on_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Evaluate on the images of a folder "
                                                  "(one sub-folder per class, or split into train/val/test)")
        if folder:
            self.set_other_folder(folder)

    @Slot(QListWidgetItem)
    def _on_saved_clicked(self, item: QListWidgetItem) -> None:
        path = item.data(PATH_ROLE)
        if path:
            self.sig_saved_chosen.emit(str(path))
