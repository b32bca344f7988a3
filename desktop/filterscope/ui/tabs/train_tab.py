"""Training tab: configure the chapter's models, train in a worker with live curves, compare runs.

TensorFlow is loaded in the background the first time this tab is shown, never at start-up;
the runs already in the runs folder are listed then too. The layer table and the Keras code
follow every setting without TensorFlow. A run stopped after at least one epoch joins the list,
marked stopped, once its job has ended and its files are final.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Signal, Slot
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.augment.chain import builtin_chain
from filterscope.core.data.splits import split_to_json
from filterscope.core.training.data_plan import split_offered
from filterscope.core.training.frames import BatchFrame, DivergedFrame, EpochFrame, StartFrame, StoppedEarlyFrame
from filterscope.core.training.model_spec import ModelSpecError
from filterscope.core.training.recipes import MEASURED, Recipe
from filterscope.core.training.runs import RunResult, RunSpec, read_run
from filterscope.core.transfer.run import train_run
from filterscope.ui.state import AppState
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.ui.widgets.model_summary import ModelSummaryWidget
from filterscope.ui.widgets.prediction_strip import PredictionStripWidget
from filterscope.ui.widgets.recipe_proposal import RecipeProposalWidget
from filterscope.ui.widgets.run_options import RunOptionsWidget
from filterscope.ui.widgets.run_outcome import RunOutcomeWidget
from filterscope.ui.widgets.runs_folder import RunsFolderWidget
from filterscope.ui.widgets.runs_list import RunsListWidget
from filterscope.ui.widgets.fitting import SidePanelWidget, pages_at_large_text, stacked_direction
from filterscope.ui.widgets.training_curves import TrainingCurvesWidget
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from filterscope.ui.widgets.tf_status import TensorFlowStatusWidget
from filterscope.workers import JobRunner

QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's "no maximum size"


class TrainTab(QWidget):
    """Start/Stop training on the current dataset, watch the curves, overlay earlier runs."""

    title = "Train"
    sig_status = Signal(str)
    """A line for the main window's status bar."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._job = None  # the training job's worker, as runner.start returned it
        self._run_dirs: dict[object, Path] = {}  # worker -> its run folder, until it is listed
        self.examples = PredictionStripWidget()
        self.examples.setToolTip("A few validation images of each class with the best model's "
                                 "prediction: green right, red wrong")
        self.options = RunOptionsWidget(state.train)
        self.proposal = RecipeProposalWidget(state, state.train)
        self.runs_folder = RunsFolderWidget(state)
        self.start_button = QPushButton("Start training")
        self.stop_button = QPushButton("Stop")
        self.tf_status = TensorFlowStatusWidget()
        self.details = ModelSummaryWidget()
        self.curves = TrainingCurvesWidget()
        self.runs_list = RunsListWidget()
        self.result_label = RunOutcomeWidget()
        self.runner = JobRunner(self, on_partial=self._on_runner_partial, on_result=self._on_runner_finished,
                                on_failure=self._on_runner_failed, on_running=self._on_runner_running)
        self.runs_runner = self.runs_list.runner
        self.read_runner = JobRunner(self, on_result=self._on_run_read, on_failure=self.result_label.setText)
        self.examples_runner = self.examples.runner
        self.job_panel = JobPanelWidget(self.runner, cancelled_text="Stopped")
        self._build_layout()
        self._runs_listed = False
        state.train.events.connect(self._on_settings_changed)
        self.details.code.sig_status.connect(self.sig_status)
        self.options.sig_recipe_chosen.connect(self._on_recipe_chosen)
        self.proposal.sig_use.connect(self.options.choose_template)
        self.options.sig_errors.connect(self._on_settings_errors)
        self.runs_folder.sig_chosen.connect(self._list_saved_runs)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.runner.cancel)
        self.runner.sig_job_ended.connect(self._on_runner_job_ended)
        self.runs_list.sig_overlays_changed.connect(self.curves.set_overlays)
        self.runs_list.sig_run_picked.connect(self._on_run_picked)
        self.runs_list.sig_message.connect(self.result_label.setText)
        state.sig_dataset_changed.connect(self._on_state_changed)
        state.sig_manifest_changed.connect(self._on_state_changed)
        state.sig_mask_changed.connect(self._on_state_changed)
        state.sig_chain_changed.connect(self._on_state_changed)
        self._on_runner_running(False)

    def _build_layout(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.proposal)
        left_layout.addWidget(self.options)
        left_layout.addWidget(self.runs_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.tf_status)
        left_layout.addStretch(1)
        middle = QWidget()
        self.middle_layout = middle_layout = QVBoxLayout(middle)
        middle_layout.addWidget(self.curves, 3)
        middle_layout.addWidget(self.result_label)
        self.examples_page = QWidget()
        examples_layout = QVBoxLayout(self.examples_page)
        examples_layout.setContentsMargins(0, 0, 0, 0)
        examples_layout.addWidget(self.examples)
        examples_layout.addStretch(1)
        middle_layout.addWidget(self.examples_page)
        self.bottom = bottom = QHBoxLayout()
        self.runs_page = QWidget()
        runs_box = QVBoxLayout(self.runs_page)
        runs_box.setContentsMargins(0, 0, 0, 0)
        runs_title = QLabel("Runs (pick one to see its curves; tick to overlay validation)")
        runs_title.setWordWrap(True)  # the column narrows at a projector's size
        runs_box.addWidget(runs_title)
        runs_box.addWidget(self.runs_list, 1)
        bottom.addWidget(self.details, 3)
        bottom.addWidget(self.runs_page, 2)
        middle_layout.addLayout(bottom, 2)
        self.drawer = SideDrawerWidget(SidePanelWidget(left), middle)
        layout = QVBoxLayout(self)
        layout.addWidget(self.drawer, 1)
        layout.addWidget(self.job_panel)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._reflow(stacked_direction(self) == QBoxLayout.Direction.TopToBottom)

    def _reflow(self, large: bool) -> None:
        """At large text the runs and the example predictions become pages beside the summary
        and the code, and the curves take most of the height: in rows of their own they left
        the curves a sliver of a projector's 720 px."""
        pages_at_large_text(self.details, ((self.runs_page, "Runs", lambda w: self.bottom.addWidget(w, 2)),
                                           (self.examples_page, "Examples",
                                            lambda w: self.middle_layout.insertWidget(2, w))), large)
        self.middle_layout.setStretchFactor(self.bottom, 1 if large else 2)
        # A few rows of the summary (it scrolls); all the rest of the height goes to the curves.
        rows = 6 * self.fontMetrics().height()
        self.details.setMaximumHeight(rows + self.details.tabBar().sizeHint().height()
                                      if large else QWIDGETSIZE_MAX)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.tf_status.ensure_loaded()
        if not self._runs_listed:
            self._list_saved_runs()

    def shortcut_buttons(self) -> dict[str, QPushButton]:
        """The buttons the main window's Start and Stop shortcuts press."""
        return {"start": self.start_button, "stop": self.stop_button}

    # --- settings --------------------------------------------------------------------------

    @Slot()
    def _on_state_changed(self) -> None:
        self.options.set_split(split_offered(self._state.dataset, self._state.dataset_split()))
        self._show_summary()

    @Slot()
    def _on_settings_changed(self) -> None:
        self._show_summary()

    @Slot(str)
    def _on_settings_errors(self, text: str) -> None:
        if text:
            self.sig_status.emit(text.splitlines()[-1])

    @Slot(object)
    def _on_recipe_chosen(self, recipe: Recipe) -> None:
        """A recipe trains with its augmentation chain: it becomes the Augment tab's (measured
        on the dataset, for a recipe that augments as the photos suit)."""
        if recipe.chain == MEASURED:
            self.proposal.measure()
        elif recipe.chain is not None:
            self._state.set_chain(builtin_chain(recipe.chain))

    @Slot()
    def _show_summary(self) -> None:
        """The layer table and the Keras code of the settings shown, on the current dataset."""
        state = self._state
        if state.dataset is None:
            return
        buildable = self.details.show_run(state.dataset, state.train, masked=state.training_mask() is not None)
        self.start_button.setEnabled(buildable and not self.runner.is_running())

    def run_spec(self) -> RunSpec:
        """The run the settings describe, on the current dataset and split (its file lists
        recorded in the run, so that the run trains again without the Dataset tab).

        Raises:
            ModelSpecError: Settings that cannot train together, naming the field.
        """
        state = self._state
        offered = split_offered(state.dataset, state.dataset_split()) is not None
        split = state.dataset_split() if state.train.use_split and offered else None
        mask, chain = state.training_mask(), state.training_chain()
        return state.train.run_spec(state.train.data_spec(
            state.dataset, split=None if split is None else split_to_json(split),
            mask=None if mask is None else mask.to_json(), chain=None if chain is None else chain.to_json()))

    def set_runs_folder(self, folder: Path) -> None:
        """Save runs in ``folder`` (``AppState.runs_dir``) and list the runs already there."""
        self.runs_folder.choose(folder)

    # --- training --------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Start training (an earlier run still going is stopped first)."""
        if self._state.dataset is None:
            return
        try:
            run = self.run_spec()
        except ModelSpecError as exc:  # cached features with fine-tuning or augmentation
            self.result_label.setText(str(exc))
            return
        self.curves.start_run()
        self.result_label.clear()
        self.examples.clear()
        self._job = self.runner.start(train_run, run, self._state.runs_dir)

    @Slot(bool)
    def _on_runner_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    @Slot(object)
    def _on_runner_partial(self, frame: object) -> None:
        if isinstance(frame, StartFrame) and frame.run_dir is not None:
            self._run_dirs[self._job] = frame.run_dir
        elif isinstance(frame, (BatchFrame, EpochFrame)):
            self.curves.add_point(frame)
        elif isinstance(frame, (DivergedFrame, StoppedEarlyFrame)):
            self.result_label.setText(f"<b>Stopped:</b> {frame.message}")

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.result_label.setText(f"Training failed: {message}")
        self.sig_status.emit(f"Training failed: {message}")

    @Slot(object)
    def _on_runner_finished(self, result: RunResult) -> None:
        self._run_dirs.pop(self._job, None)  # listed from the result itself
        text = self.result_label.show_finished(result, self.runs_list.add_run(result))
        if result.run_dir:
            self._state.run_saved(result.run_dir)
            self.examples.show_run(result)
        self.sig_status.emit(text)

    @Slot(object)
    def _on_runner_job_ended(self, worker: object) -> None:
        """A training job that did not finish (stopped, or failed after saving epochs) has
        ended: its folder, if any is left, is read back and listed."""
        run_dir = self._run_dirs.pop(worker, None)
        if run_dir is not None:
            self.read_runner.start(read_run, run_dir)

    @Slot(object)
    def _on_run_read(self, result: RunResult | None) -> None:
        if result is None:  # stopped before its first epoch ended: nothing was kept
            return
        summary = self.runs_list.add_run(result)
        self._state.run_saved(result.run_dir)
        if not self.runner.is_running():  # a newer run's messages take precedence
            self.result_label.show_saved(result, summary)

    @Slot()
    def _list_saved_runs(self) -> None:
        """List the runs already saved in the runs folder (read in the background)."""
        self._runs_listed = True
        self.runs_list.list_folder(self._state.runs_dir)

    @Slot(object)
    def _on_run_picked(self, result: RunResult | None) -> None:
        """A run picked in the list shows its whole curves, result and examples, while nothing
        is training; none picked (another runs folder listed) shows none."""
        if self.runner.is_running():
            return
        self.curves.show_history([] if result is None else result.history)
        self.result_label.show_picked(result)
        if result is None:
            self.examples.clear()
        else:
            self.examples.show_run(result)
