"""The Results tab's "Suspect labels" page: the run's images whose label looks wrong.

"Find suspect labels" runs the cross-validated label check on the run's dataset (a job with
progress and Cancel; the result is kept with the run, so it opens again without computing).
"Label looks wrong" adds the selected photo to the run's review list; the dataset is never changed.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from filterscope.core.quality.labels import SuspectLabels
from filterscope.core.quality.suspects_store import SuspectsError, check_run_labels, load_suspects
from filterscope.core.results.review import ReviewEntry, ReviewError, mark_for_review
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.workers import JobRunner

SHOWN = 200  # rows listed, most suspect first (thumbnails read as rows are filled)
THUMB = 48
COLUMNS = ("Photo", "Given label", "Suggested", "Score")


class SuspectLabelsWidget(QWidget):
    """A list of suspect labels with its job and the "Label looks wrong" button."""

    sig_status = Signal(str)
    """A line for the main window's status bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run: Path | None = None
        self._result: SuspectLabels | None = None
        self.find_button = QPushButton("Find suspect labels")
        self.wrong_button = QPushButton("Label looks wrong")
        self.summary = QLabel("Choose a run, then find the photos whose label looks wrong.")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setIconSize(QSize(THUMB, THUMB))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(THUMB + 4)
        self.runner = JobRunner(self, on_result=self._on_checked, on_failure=self._on_failed,
                                on_running=self._update_buttons)
        self.job_panel = JobPanelWidget(self.runner)
        buttons = QHBoxLayout()
        buttons.addWidget(self.find_button)
        buttons.addStretch(1)
        buttons.addWidget(self.wrong_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.job_panel)
        self.find_button.clicked.connect(self.find)
        self.wrong_button.clicked.connect(self.mark_selected)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def set_run(self, run_dir: Path | None) -> None:
        """Another run: the list is cleared (and a result kept with that run is shown)."""
        if run_dir == self._run:
            return
        self.runner.cancel()
        self._run = run_dir
        self._show(None)
        if run_dir is not None:
            try:
                saved = load_suspects(run_dir)
            except SuspectsError as exc:
                self.summary.setText(str(exc))
                saved = None
            if saved is not None:
                self._show(saved)
        self._update_buttons()

    def result(self) -> SuspectLabels | None:
        """The result listed, or None."""
        return self._result

    @Slot()
    def find(self) -> None:
        """Check the labels of the run's dataset (a job)."""
        if self._run is None:
            return
        self._show(None)
        self.summary.setText(f"Checking the labels of {self._run.name}'s dataset…")
        self.runner.start(check_run_labels, self._run)

    @Slot(object)
    def _on_checked(self, result: SuspectLabels) -> None:
        self._show(result)
        self.sig_status.emit(f"Suspect labels: {result.n_issues:,} label issue(s) among "
                             f"{len(result.images):,} images")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.summary.setText(f"Suspect labels not found: {message}")

    def _show(self, result: SuspectLabels | None) -> None:
        self._result = result
        self.table.setRowCount(0)
        if result is None:
            self.summary.setText("Find the photos whose label looks wrong: cross-validated on the "
                                 "pretrained base's features, ranked by cleanlab.")
            return
        shown = result.top(SHOWN)
        self.summary.setText(f"{result.n_issues:,} label issue(s) among {len(result.images):,} images "
                             f"(out-of-sample accuracy {result.accuracy:.0%}); the {len(shown)} most "
                             "suspect, lowest score first. The dataset is never changed.")
        self.table.setRowCount(len(shown))
        for row, s in enumerate(shown):
            photo = QTableWidgetItem(QIcon(QPixmap(s.path).scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio)), Path(s.path).name)
            photo.setToolTip(s.path)
            cells = (photo, QTableWidgetItem(s.given), QTableWidgetItem(s.suggested),
                     QTableWidgetItem(f"{s.score:.3f}" + (" (issue)" if s.issue else "")))
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()

    @Slot()
    def mark_selected(self) -> None:
        """Add the selected photo to the run's review list (``review.json``)."""
        rows = self.table.selectionModel().selectedRows()
        if self._run is None or self._result is None or not rows:
            return
        s = self._result.images[rows[0].row()]
        try:
            entries = mark_for_review(self._run, ReviewEntry(s.path, s.given, s.suggested,
                                                             s.suggested_probability, "suspect labels"))
        except (ReviewError, OSError) as exc:
            self.sig_status.emit(f"Not saved: {exc}")
            return
        self.sig_status.emit(f"Review list: {len(entries)} image(s) in {self._run / 'review.json'}")

    @Slot()
    def _update_buttons(self, *_args) -> None:
        running = self.runner.is_running()
        self.find_button.setEnabled(self._run is not None and not running)
        self.wrong_button.setEnabled(self._result is not None and bool(self.table.selectedItems()))
