"""Results tab: evaluate a run on held-out images, see where it goes wrong, predict new images.

A run is chosen from the runs folder (the run just trained is offered when the tab is next
shown), with its best or last model and the images to evaluate on: by default its dataset's
``test/`` folder when there is one, else its validation images; or another folder or manifest.
These choices and the saved evaluation open are the AppState's ``evaluate`` model
(:class:`EvaluateSettings`, bound to the controls and read when evaluating); a project's are
put back through it, and its run and evaluation are opened once the runs are listed. Evaluating
is a job (progress, Cancel) whose result is saved beside the run, and earlier evaluations open
without recomputing. The result shows accuracy next to the majority baseline, the warnings, the
per-class table and the confusion matrix; a cell's images, or the misclassified ones most
confidently wrong first, fill a virtualised gallery. An image can be marked "label looks wrong"
into the run's review list (the dataset is never touched). The Predict page predicts one image
or a folder. "Export report…" writes the run's report (HTML, and PDF); "Export model…" its model
(ONNX, TFLite, SavedModel), verified. A hidden tab starts no work.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget

from filterscope.core.base.formats import percent
from filterscope.core.results.code import results_code
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.results.jobs import evaluate_and_save, saved_evaluations
from filterscope.core.results.settings import EVALUATIONS
from filterscope.core.results.store import SavedEvaluations, load_evaluation
from filterscope.core.training.runs import SavedRuns
from filterscope.ui.saved_runs import SavedRunsLister
from filterscope.ui.state import AppState
from filterscope.ui.widgets.code_view import CodeViewWidget
from filterscope.ui.widgets.decision_panel import DecisionPanelWidget
from filterscope.ui.widgets.eval_images import EvalImagesWidget
from filterscope.ui.widgets.evaluation_map import EvaluationMapWidget
from filterscope.ui.widgets.eval_picker import EvalPickerWidget
from filterscope.ui.widgets.eval_summary import EvalSummaryWidget
from filterscope.ui.widgets.fitting import SidePanelWidget
from filterscope.ui.widgets.job_panel import JobPanelWidget, status_failure
from filterscope.ui.widgets.model_export import ModelExportWidget
from filterscope.ui.widgets.predict_panel import PredictPanelWidget
from filterscope.ui.widgets.reliability_view import ReliabilityViewWidget
from filterscope.ui.widgets.report_export import ReportExportWidget
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from filterscope.ui.widgets.suspect_labels import SuspectLabelsWidget
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
        self._listed = False
        settings = state.evaluate  # a project's run and evaluation (set before this tab), until listed
        self._wanted: tuple[str, str] | None = (settings.run, settings.evaluation) if settings.run else None
        self._restore_timer = QTimer(self, singleShot=True, interval=0)  # once per restore
        self.picker = EvalPickerWidget(settings)
        self.report_export, self.model_export = ReportExportWidget(state.evaluate), ModelExportWidget()
        self.evaluate_button, self.saved_list = self.picker.evaluate_button, self.picker.saved_list
        self.summary = EvalSummaryWidget()
        self.calibration, self.decisions = ReliabilityViewWidget(), DecisionPanelWidget()
        self.images = EvalImagesWidget()
        self.gallery, self.gallery_title = self.images.gallery, self.images.title
        self.wrong_button, self.review_button = self.images.wrong_button, self.images.review_button
        self.predict = PredictPanelWidget(state.evaluate)
        self.suspects = SuspectLabelsWidget()  # the run's dataset: labels that look wrong
        self.code = CodeViewWidget("The evaluation as Keras, OpenCV and scikit-learn code: the run's "
                                   "model, its images prepared as in training, the same scores.")
        self.code.setPlainText(NO_CODE)
        self.pages = QTabWidget()
        self.runs = SavedRunsLister(self, state, status_failure(self.sig_status, "The runs folder could not be read"))
        self.runs.sig_listed.connect(self._on_runs_listed)
        self.runs_runner = self.runs.runner
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
        result = QSplitter(Qt.Orientation.Horizontal)
        self.result_pages = QTabWidget()  # the scores; the calibration; which photos need review
        # The scores scroll up and down rather than cut their wrapped lines when large text leaves
        # them little height (1280 x 720 at 250 %).
        for page, title in ((SidePanelWidget(self.summary), "Scores"), (self.calibration, "Calibration"),
                            (self.decisions, "Needs review && costs")):
            self.result_pages.addTab(page, title)
        self.result_pages.addTab(data_map := EvaluationMapWidget(self.images), "Map")  # the photos as points
        self.data_map = data_map
        result.addWidget(self.result_pages)
        result.addWidget(self.images)
        result.setSizes([560, 520])  # the matrix of a dozen classes, and three thumbnails a row
        self.pages.addTab(result, "Evaluation")
        self.pages.addTab(self.code, "Python code")
        self.pages.addTab(self.predict, "Predict")
        self.pages.addTab(self.suspects, "Suspect labels")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.picker, 1)
        left_layout.addWidget(self.report_export)
        left_layout.addWidget(self.model_export)
        self.drawer = SideDrawerWidget(SidePanelWidget(left), self.pages)  # scrolls on a projector
        layout = QVBoxLayout(self)
        layout.addWidget(self.drawer, 1)
        layout.addWidget(self.job_panel)

    def _connect(self) -> None:
        settings = self._state.evaluate
        settings.events.run.connect(self._on_choice_changed)
        settings.events.model.connect(self._on_choice_changed)
        settings.events.evaluation.connect(self._want)
        self._restore_timer.timeout.connect(self._take_wanted)
        self.picker.sig_run_activated.connect(self._forget_wanted)
        self.picker.sig_saved_chosen.connect(self.open_saved)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.summary.sig_cell_clicked.connect(self.images.show_cell)
        self.decisions.sig_judged.connect(self._on_evaluated)  # judged again with the saved policy
        self.decisions.sig_status.connect(self.sig_status)
        self.images.sig_status.connect(self.sig_status)
        self.code.sig_status.connect(self.sig_status)
        self.suspects.sig_status.connect(self.sig_status)

    def shortcut_buttons(self) -> dict[str, QPushButton]:
        """The buttons the main window's Start and Stop shortcuts press: evaluate, cancel."""
        return {"start": self.evaluate_button, "stop": self.job_panel.cancel_button}

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self.runs.list_if_stale() and self._wanted is not None:
            self._restore_timer.start()

    # --- the run ------------------------------------------------------------------------------

    def run_dir(self) -> Path | None:
        """The run chosen, or None."""
        return self.picker.run_dir()

    @Slot(object, object)
    def _on_runs_listed(self, found: SavedRuns, fresh: Path | None) -> None:
        self._listed = True
        with self._state.choosing_default():  # the newest run, when none is chosen: not a change
            self.picker.set_runs(found.runs, None if self._wanted is None else self._wanted[0], fresh)
        if self._wanted is not None and self.picker.lists(self._wanted[0]):
            self._take_wanted()

    def _on_choice_changed(self) -> None:
        """Another run or model: a project's (see :meth:`_want`) or the user's."""
        if self._state.evaluate.updating:
            self._want()
        else:
            self._on_run_changed()

    def _want(self) -> None:
        """A project's run and evaluation are opened once the runs are listed and the tab is
        shown (an evaluation opened by the user sets the field itself)."""
        settings = self._state.evaluate
        if settings.updating:
            self._wanted = (settings.run, settings.evaluation)
            self._restore_timer.start()  # after every field of the restore is set

    @Slot()
    def _take_wanted(self) -> None:
        """Choose the wanted run and open its saved evaluation (read, not computed again)."""
        if self._wanted is None or not self._listed or not self.isVisible():
            return
        run, name = self._wanted
        if not name and self._shown_for is not None:  # the project has no evaluation open
            self.runner.cancel()
            self._show_result_of(None, self._idle_text())
        if run and not self.picker.lists(run):
            self.runs.refresh()  # listed anew (a new run, another folder)
            return
        self._wanted = None  # a run listed, or none (a new project: the user chooses one)
        self._on_run_changed()
        if run and name:
            self.open_saved(str(Path(run) / EVALUATIONS / f"{name}.json"))

    @Slot()
    def _forget_wanted(self) -> None:
        self._wanted = None  # the user chose a run

    def _idle_text(self) -> str:
        run_dir = self.run_dir()
        return "Evaluate a run, or open an earlier evaluation." if run_dir is None else \
            f"{run_dir.name} ({self.picker.which()} model): evaluate it, or open an earlier evaluation."

    def _on_run_changed(self) -> None:
        run_dir, which = self.run_dir(), self.picker.which()
        self.predict.set_model(run_dir, which)
        self.report_export.set_run(run_dir, which)
        self.suspects.set_run(run_dir)
        self.model_export.set_run(run_dir, which)
        if self._shown_for is not None and self._shown_for != (run_dir, which):
            self.runner.cancel()  # a result of another run or model must not arrive here
            self._show_result_of(None, self._idle_text())
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
        settings = self._state.evaluate  # what to evaluate is the model's, not the controls'
        self._opened = None
        self._show_result_of((run_dir, settings.model), f"Evaluating {run_dir.name}…")
        self.runner.start(evaluate_and_save, run_dir, data=settings.data or None, subset=settings.subset,
                          which=settings.model, tta=settings.tta)

    @Slot(str)
    def open_saved(self, path: str) -> None:
        """Open a saved evaluation (a job: its per-image CSV is read)."""
        self._show_result_of((self.run_dir(), self.picker.which()), f"Opening {Path(path).name}…")
        self._opened = Path(path)
        self._state.evaluate.evaluation = self._opened.stem
        self.runner.start(load_evaluation, path)

    @Slot(object)
    def _on_evaluated(self, evaluation: Evaluation) -> None:
        self._evaluation = evaluation
        self._state.evaluate.evaluation = evaluation.name  # saved: a project reopens it
        self.summary.show_evaluation(evaluation)
        self.calibration.set_evaluation(evaluation)
        self.decisions.set_evaluation(evaluation)
        self.code.setPlainText(results_code(evaluation, None if self._opened is None
                                            else self._opened.with_suffix(".csv")))
        self.images.set_evaluation(evaluation)
        self.data_map.set_evaluation(evaluation)
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
        self._state.evaluate.evaluation = ""  # until a result comes (open_saved names its file)
        self.summary.clear(message)
        self.calibration.set_evaluation(None)
        self.decisions.set_evaluation(None)
        self.images.set_evaluation(None)
        self.code.setPlainText(NO_CODE)
        self._update_buttons()

    @Slot()
    def _update_buttons(self) -> None:
        running = self.runner.is_running()
        self.evaluate_button.setEnabled(self.run_dir() is not None and not running)

    @Slot(int, int)
    def show_cell(self, true: int, predicted: int) -> None:
        """The images of one confusion-matrix cell, most confident first."""
        self.images.show_cell(true, predicted)
