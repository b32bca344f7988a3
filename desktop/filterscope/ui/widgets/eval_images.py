"""An evaluation's images: the misclassified ones most confidently wrong first, or one confusion
cell's, in a virtualised gallery; the selected image's folder, "Label looks wrong", which
marks it in the run's review list beside the run (the dataset is never touched), and "Why?":
Grad-CAM of the predicted and the true class under the gallery (cleared by any other image,
cell or evaluation)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from filterscope.core.results.calibration import apply_temperature
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.results.review import ReviewEntry, ReviewError, load_review, mark_for_review, unmark
from filterscope.ui.widgets.flow_layout import FlowLayout
from filterscope.ui.widgets.job_panel import status_failure
from filterscope.ui.widgets.results_gallery import ResultsGalleryWidget
from filterscope.ui.widgets.why_view import WhyViewWidget


class EvalImagesWidget(QWidget):
    """The gallery of an evaluation's images, its title, and the buttons under it."""

    sig_status = Signal(str)
    """A line for the main window's status bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._evaluation: Evaluation | None = None
        self.gallery = ResultsGalleryWidget()
        self.title = QLabel("Images")
        self.title.setWordWrap(True)  # a cell's long title, in a narrow column
        self.wrong_button = QPushButton("Misclassified")
        self.open_button = QPushButton("Open folder")
        self.review_button = QPushButton("Label looks wrong")
        self.why_button = QPushButton("Why?")
        self.why_button.setToolTip("Grad-CAM: where in the photo the model found the evidence for "
                                   "the class it predicted, and for the true class")
        self.review_label = QLabel()
        self.review_label.setWordWrap(True)
        self.why = WhyViewWidget()
        buttons = FlowLayout()  # wraps at large text sizes rather than widening the tab
        for button in (self.wrong_button, self.open_button, self.review_button, self.why_button):
            buttons.addWidget(button)
        split = QSplitter(Qt.Orientation.Vertical)  # the gallery above, the explanation below
        split.addWidget(self.gallery)
        split.addWidget(self.why)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.review_label)
        self.wrong_button.clicked.connect(self.show_wrong)
        self.why_button.clicked.connect(self.explain_selected)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.review_button.clicked.connect(self._on_review_clicked)
        self.gallery.sig_row_selected.connect(self._on_row_selected)
        self.gallery.sig_failed.connect(status_failure(self.sig_status, "Thumbnails not made"))
        self.update_buttons()

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        """Show ``evaluation``'s misclassified images, or none (no row selected: no review line)."""
        self._evaluation = evaluation
        if evaluation is None:
            self.title.setText("Images")
            self.gallery.set_rows(None, [])
        else:
            self.show_wrong()
        self.update_buttons()

    @Slot()
    def update_buttons(self) -> None:
        """Buttons enabled for what is shown and selected."""
        has, row = self._evaluation is not None, self.gallery.current_row()
        self.wrong_button.setEnabled(has)
        # an image of a built-in dataset held in memory has a key, not a folder to open
        self.open_button.setEnabled(has and row is not None
                                    and Path(self._evaluation.rows.paths[row]).is_absolute())
        self.review_button.setEnabled(has and row is not None)
        self.why_button.setEnabled(has and row is not None)

    @Slot()
    def explain_selected(self) -> None:
        """Grad-CAM of the selected image: its predicted class, and its true class when that is
        another (a job; a second click replaces it)."""
        ev, row = self._evaluation, self.gallery.current_row()
        if ev is None or row is None:
            return
        predicted, true = int(ev.rows.predicted[row]), int(ev.rows.true[row])
        classes, roles = ([predicted], ["predicted and true"]) if predicted == true else \
            ([predicted, true], ["predicted", "true"])
        shown = apply_temperature(ev.rows.probabilities[row:row + 1], ev.temperature())[0]  # as the captions
        self.why.explain(Path(ev.run_dir), ev.model, ev.rows.paths[row], classes, roles,
                         data=ev.eval_set.get("source"), shown=shown)

    @Slot()
    def show_wrong(self) -> None:
        """The misclassified images, most confidently wrong first."""
        ev = self._evaluation
        if ev is not None:
            wrong = ev.rows.wrong()
            self.title.setText(f"Misclassified: {len(wrong):,} image(s), most confidently wrong first")
            self.gallery.set_rows(ev, wrong)

    @Slot(int, int)
    def show_cell(self, true: int, predicted: int) -> None:
        """The images of one confusion-matrix cell, most confident first."""
        ev = self._evaluation
        if ev is not None:
            rows = ev.rows.cell(true, predicted)
            self.title.setText(f"True {ev.classes[true]}, predicted {ev.classes[predicted]}: "
                               f"{len(rows):,} image(s), most confident first")
            self.gallery.set_rows(ev, rows)

    @Slot(int)
    def _on_row_selected(self, row: int) -> None:
        self.why.clear()  # another image, cell or evaluation: nothing of the last one stays
        self.update_buttons()
        ev, run_dir = self._evaluation, self._review_run()
        if ev is None or row < 0 or run_dir is None:
            self.review_label.clear()
            self.review_button.setText("Label looks wrong")
            return
        try:
            marked = any(e.path == ev.rows.paths[row] for e in load_review(run_dir))
        except ReviewError as exc:
            self.review_label.setText(str(exc))
            return
        self.review_button.setText("Unmark" if marked else "Label looks wrong")
        self.review_label.setText(f"{ev.rows.paths[row]}" + (" — marked for review" if marked else ""))

    def _review_run(self) -> Path | None:
        return None if self._evaluation is None else Path(self._evaluation.run_dir)

    @Slot()
    def _on_open_clicked(self) -> None:
        ev, row = self._evaluation, self.gallery.current_row()
        if ev is not None and row is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(ev.rows.paths[row]).parent)))

    @Slot()
    def _on_review_clicked(self) -> None:
        """Mark (or unmark) the selected image in the review list beside the run."""
        ev, row, run_dir = self._evaluation, self.gallery.current_row(), self._review_run()
        if ev is None or row is None or run_dir is None:
            return
        path = ev.rows.paths[row]
        try:
            if self.review_button.text() == "Unmark":
                entries = unmark(run_dir, path)
            else:
                entries = mark_for_review(run_dir, ReviewEntry(
                    path, ev.classes[ev.rows.true[row]], ev.classes[ev.rows.predicted[row]],
                    float(ev.rows.confidence[row]), ev.name))
        except (ReviewError, OSError) as exc:
            self.review_label.setText(f"Not saved: {exc}")
            return
        self._on_row_selected(row)
        self.sig_status.emit(f"Review list: {len(entries)} image(s) in {run_dir / 'review.json'}")
