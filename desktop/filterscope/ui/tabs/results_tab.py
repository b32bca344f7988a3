"""Results tab: evaluate a run on held-out images, see where it goes wrong, predict new images.

A run is chosen from the runs folder (the run just trained is offered when the tab is next
shown), with its best or last model and the images to evaluate on: by default its dataset's
``test/`` folder when there is one, else its validation images; or another folder. Evaluating
is a job (progress, Cancel) whose result is saved beside the run, and earlier evaluations open
without recomputing. The result shows accuracy next to the majority baseline, the warnings, the
per-class table and the confusion matrix; a cell's images, or the misclassified ones most
confidently wrong first, fill a virtualised gallery. An image can be marked "label looks wrong"
into the run's review list (the dataset is never touched). The Predict page predicts one image
or a folder. "Export report…" writes the run's report (HTML, and PDF). A hidden tab starts no work.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget

from filterscope.core.base.formats import percent
from filterscope.core.results.code import results_code
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.results.jobs import evaluate_and_save, saved_evaluations
from filterscope.core.results.review import ReviewEntry, ReviewError, load_review, mark_for_review, unmark
from filterscope.core.results.store import SavedEvaluations, load_evaluation
from filterscope.core.training.runs import SavedRuns, saved_runs
from filterscope.ui.state import AppState
from filterscope.ui.widgets.code_view import CodeViewWidget
from filterscope.ui.widgets.eval_picker import EvalPickerWidget
from filterscope.ui.widgets.eval_summary import EvalSummaryWidget
from filterscope.ui.widgets.fitting import SidePanelWidget
from filterscope.ui.widgets.job_panel import JobPanelWidget, status_failure
from filterscope.ui.widgets.predict_panel import PredictPanelWidget
from filterscope.ui.widgets.report_export import ReportExportWidget
from filterscope.ui.widgets.results_gallery import ResultsGalleryWidget
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from filterscope.workers import JobRunner

NO_CODE = "# Evaluate a run, or open a saved evaluation, to see its code."


class ResultsTab(QWidget):
    """Run, model and images on the left; the result and its images, or prediction, at the right."""

    title = "Results"
    sig_status = Signal(str)
    """A line for the main window's status bar."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._evaluation: Evaluation | None = None
        self._opened: Path | None = None  # the saved evaluation being opened, if one is
        self._shown_for: tuple[Path | None, str] | None = None  # (run, model) of the result or job
        self._runs_stale, self._just_trained = True, None
        self.picker = EvalPickerWidget()
        self.report_export = ReportExportWidget()
        self.evaluate_button, self.saved_list = self.picker.evaluate_button, self.picker.saved_list
        self.summary = EvalSummaryWidget()
        self.gallery = ResultsGalleryWidget()
        self.gallery_title = QLabel("Images")
        self.gallery_title.setWordWrap(True)  # a cell's long title, in a narrow column
        self.wrong_button = QPushButton("Misclassified")
        self.open_button = QPushButton("Open folder")
        self.review_button = QPushButton("Label looks wrong")
        self.review_label = QLabel()
        self.review_label.setWordWrap(True)
        self.predict = PredictPanelWidget()
        self.code = CodeViewWidget("The evaluation as Keras, OpenCV and scikit-learn code: the run's "
                                   "model, its images prepared as in training, the same scores.")
        self.code.setPlainText(NO_CODE)
        self.pages = QTabWidget()
        self.runs_runner = JobRunner(self, on_result=self._on_runs_listed, on_failure=status_failure(
            self.sig_status, "The runs folder could not be read"))
        self.list_runner = JobRunner(self, on_result=self._on_saved_listed, on_failure=status_failure(
            self.sig_status, "Saved evaluations not listed"))
        # Evaluating, or opening a saved evaluation; the job panel says "Failed: ..." too.
        self.runner = JobRunner(self, on_result=self._on_evaluated, on_failure=self.summary.clear,
                                on_running=self._update_buttons)
        self.job_panel = JobPanelWidget(self.runner)
        self._build_layout()
        self._connect()
        self._update_buttons()

    def _build_layout(self) -> None:
        images = QWidget()
        buttons = QHBoxLayout()
        for button in (self.wrong_button, self.open_button, self.review_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        images_layout = QVBoxLayout(images)
        images_layout.setContentsMargins(0, 0, 0, 0)
        images_layout.addWidget(self.gallery_title)
        images_layout.addWidget(self.gallery, 1)
        images_layout.addLayout(buttons)
        images_layout.addWidget(self.review_label)
        result = QSplitter(Qt.Orientation.Horizontal)
        result.addWidget(self.summary)
        result.addWidget(images)
        result.setSizes([560, 520])  # the matrix of a dozen classes, and three thumbnails a row
        self.pages.addTab(result, "Evaluation")
        self.pages.addTab(self.code, "Python code")
        self.pages.addTab(self.predict, "Predict")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.picker, 1)
        left_layout.addWidget(self.report_export)
        self.drawer = SideDrawerWidget(SidePanelWidget(left), self.pages)  # scrolls on a projector
        layout = QVBoxLayout(self)
        layout.addWidget(self.drawer, 1)
        layout.addWidget(self.job_panel)

    def _connect(self) -> None:
        self.picker.sig_run_changed.connect(self._on_run_changed)
        self.picker.sig_saved_chosen.connect(self.open_saved)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.summary.sig_cell_clicked.connect(self.show_cell)
        self.wrong_button.clicked.connect(self.show_wrong)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.review_button.clicked.connect(self._on_review_clicked)
        self.gallery.sig_row_selected.connect(self._on_row_selected)
        self.gallery.sig_failed.connect(status_failure(self.sig_status, "Thumbnails not made"))
        self.code.sig_status.connect(self.sig_status)
        self._state.sig_runs_dir_changed.connect(self._on_runs_changed)
        self._state.sig_run_saved.connect(self._on_run_saved)

    def shortcut_buttons(self) -> dict[str, QPushButton]:
        """The buttons the main window's Start and Stop shortcuts press: evaluate, cancel."""
        return {"start": self.evaluate_button, "stop": self.job_panel.cancel_button}

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._runs_stale:
            self._runs_stale = False
            self.runs_runner.start(saved_runs, self._state.runs_dir)

    # --- the run ------------------------------------------------------------------------------

    def run_dir(self) -> Path | None:
        """The run chosen, or None."""
        return self.picker.run_dir()

    @Slot(object)
    def _on_runs_listed(self, found: SavedRuns) -> None:
        fresh, self._just_trained = self._just_trained, None
        self.picker.set_runs(found.runs, fresh)

    @Slot(object)
    def _on_runs_changed(self, _folder: Path) -> None:
        self._runs_stale = True
        if self.isVisible():
            self._runs_stale = False
            self.runs_runner.start(saved_runs, self._state.runs_dir)

    @Slot(object)
    def _on_run_saved(self, run_dir: Path) -> None:
        self._just_trained = run_dir
        self._on_runs_changed(run_dir.parent)

    @Slot()
    def _on_run_changed(self) -> None:
        run_dir, which = self.run_dir(), self.picker.which()
        self.predict.set_model(run_dir, which)
        self.report_export.set_run(run_dir, which)
        if self._shown_for is not None and self._shown_for != (run_dir, which):
            self.runner.cancel()  # a result of another run or model must not arrive here
            self._show_result_of(None, "Evaluate a run, or open an earlier evaluation." if run_dir
                                 is None else f"{run_dir.name} ({which} model): evaluate it, or "
                                 "open an earlier evaluation.")
        self.saved_list.clear()
        if run_dir is not None:
            self.list_runner.start(saved_evaluations, run_dir)
        self._update_buttons()

    @Slot(object)
    def _on_saved_listed(self, saved: SavedEvaluations) -> None:
        self.picker.set_saved(saved)

    # --- evaluating ---------------------------------------------------------------------------

    @Slot()
    def evaluate(self) -> None:
        """Evaluate the chosen run's model on the chosen images (a job)."""
        run_dir = self.run_dir()
        if run_dir is None:
            return
        data, subset = self.picker.chosen_set()
        self._opened = None
        self._show_result_of((run_dir, self.picker.which()), f"Evaluating {run_dir.name}…")
        self.runner.start(evaluate_and_save, run_dir, data=data, subset=subset,
                          which=self.picker.which())

    @Slot(str)
    def open_saved(self, path: str) -> None:
        """Open a saved evaluation (a job: its per-image CSV is read)."""
        self._show_result_of((self.run_dir(), self.picker.which()), f"Opening {Path(path).name}…")
        self._opened = Path(path)
        self.runner.start(load_evaluation, path)

    @Slot(object)
    def _on_evaluated(self, evaluation: Evaluation) -> None:
        self._evaluation = evaluation
        self.summary.show_evaluation(evaluation)
        self.code.setPlainText(results_code(evaluation, None if self._opened is None
                                            else self._opened.with_suffix(".csv")))
        self.show_wrong()
        run_dir = self.run_dir()
        if run_dir is not None:
            self.list_runner.start(saved_evaluations, run_dir)
        self.sig_status.emit(f"Results: accuracy {percent(evaluation.scores.accuracy)} "
                             f"(baseline {percent(evaluation.baseline.accuracy)})")

    def evaluation(self) -> Evaluation | None:
        """The result shown, or None."""
        return self._evaluation

    def _show_result_of(self, choice: tuple[Path | None, str] | None, message: str) -> None:
        """Forget the result shown: ``message`` instead, until ``choice``'s (run, model) comes."""
        self._shown_for, self._evaluation = choice, None
        self.summary.clear(message)
        self.gallery_title.setText("Images")
        self.gallery.set_rows(None, [])  # and no row selected: no review line
        self.code.setPlainText(NO_CODE)
        self._update_buttons()

    @Slot()
    def _update_buttons(self) -> None:
        running = self.runner.is_running()
        self.evaluate_button.setEnabled(self.run_dir() is not None and not running)
        has = self._evaluation is not None
        self.wrong_button.setEnabled(has)
        row = self.gallery.current_row()
        self.open_button.setEnabled(has and row is not None)
        self.review_button.setEnabled(has and row is not None)

    # --- images -------------------------------------------------------------------------------

    @Slot()
    def show_wrong(self) -> None:
        """The misclassified images, most confidently wrong first."""
        ev = self._evaluation
        if ev is not None:
            wrong = ev.rows.wrong()
            self.gallery_title.setText(f"Misclassified: {len(wrong):,} image(s), most confidently "
                                       "wrong first")
            self.gallery.set_rows(ev, wrong)

    @Slot(int, int)
    def show_cell(self, true: int, predicted: int) -> None:
        """The images of one confusion-matrix cell, most confident first."""
        ev = self._evaluation
        if ev is not None:
            rows = ev.rows.cell(true, predicted)
            self.gallery_title.setText(f"True {ev.classes[true]}, predicted {ev.classes[predicted]}: "
                                       f"{len(rows):,} image(s), most confident first")
            self.gallery.set_rows(ev, rows)

    @Slot(int)
    def _on_row_selected(self, row: int) -> None:
        self._update_buttons()
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
