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
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.augment.chain import builtin_chain
from filterscope.core.data.splits import SplitManifest, split_to_json
from filterscope.core.training.frames import BatchFrame, DivergedFrame, EpochFrame, StartFrame, StoppedEarlyFrame
from filterscope.core.training.model_build import plan_rows
from filterscope.core.training.model_code import keras_code
from filterscope.core.training.model_input import input_shape, preprocessing
from filterscope.core.training.model_spec import ModelSpecError
from filterscope.core.training.recipes import Recipe
from filterscope.core.training.runs import RunResult, RunSpec, read_run
from filterscope.core.transfer.run import train_run
from filterscope.ui.binding import bind
from filterscope.ui.state import AppState
from filterscope.ui.widgets.code_view import CodeViewWidget
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.ui.widgets.prediction_strip import PredictionStripWidget
from filterscope.ui.widgets.run_options import RunOptionsWidget
from filterscope.ui.widgets.runs_list import RunsListWidget
from filterscope.ui.widgets.fitting import HeaderFit, SidePanelWidget, stacked_direction
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
        self.settings_error = QLabel()
        self.settings_error.setWordWrap(True)
        self.settings_error.setStyleSheet("color: #b00020")
        self.settings_error.hide()
        self.mask_box = QCheckBox()
        self.chain_box = QCheckBox()
        bind(self.mask_box, state.train, "use_mask")
        bind(self.chain_box, state.train, "use_chain")
        self.runs_edit = QLineEdit(str(state.runs_dir))
        self.browse_button = QPushButton("…")
        self.start_button = QPushButton("Start training")
        self.stop_button = QPushButton("Stop")
        self.tf_status = TensorFlowStatusWidget()
        self.summary = QTableWidget(0, 4)
        self.summary.setHorizontalHeaderLabels(["Layer", "Output shape", "Parameters", "Trainable"])
        header = self.summary.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # A narrow table (large text on a projector) puts a layer's type under its name.
        self.summary.setWordWrap(True)
        self.summary.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.summary.verticalHeader().setVisible(False)
        self.summary.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        HeaderFit(self.summary, words=True)
        self.total_label = QLabel()
        self.total_label.setWordWrap(True)
        self.code = CodeViewWidget("The model, compile and fit as Keras code:")
        self.details = QTabWidget()
        self.curves = TrainingCurvesWidget()
        self.runs_list = RunsListWidget()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.runner = JobRunner(self, on_partial=self._on_runner_partial, on_result=self._on_runner_finished,
                                on_failure=self._on_runner_failed, on_running=self._on_runner_running)
        self.runs_runner = self.runs_list.runner
        self.read_runner = JobRunner(self, on_result=self._on_run_read, on_failure=self.result_label.setText)
        self.examples_runner = self.examples.runner
        self.job_panel = JobPanelWidget(self.runner, cancelled_text="Stopped")
        self._build_layout()
        self._runs_listed = False
        state.train.events.connect(self._on_settings_changed)
        self.code.sig_status.connect(self.sig_status)
        self.options.sig_recipe_chosen.connect(self._on_recipe_chosen)
        self.options.sig_errors.connect(self.show_settings_errors)
        self.runs_edit.editingFinished.connect(self._list_saved_runs)
        self.browse_button.clicked.connect(self._on_browse_clicked)
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
        left_layout.addWidget(self.options)
        left_layout.addWidget(self.settings_error)
        left_layout.addWidget(self.mask_box)
        left_layout.addWidget(self.chain_box)
        runs = QHBoxLayout()
        runs.addWidget(QLabel("Runs folder"))
        runs.addWidget(self.runs_edit, 1)
        runs.addWidget(self.browse_button)
        left_layout.addLayout(runs)
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
        layers = QWidget()
        layers_layout = QVBoxLayout(layers)
        layers_layout.setContentsMargins(0, 0, 0, 0)
        layers_layout.addWidget(self.summary, 1)
        layers_layout.addWidget(self.total_label)
        self.details.addTab(layers, "Model summary")
        self.details.addTab(self.code, "Keras code")
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
        for page, title, home in ((self.runs_page, "Runs", lambda w: self.bottom.addWidget(w, 2)),
                                  (self.examples_page, "Examples",
                                   lambda w: self.middle_layout.insertWidget(2, w))):
            index = self.details.indexOf(page)
            if large and index < 0:
                self.details.addTab(page, title)
            elif not large and index >= 0:
                self.details.removeTab(index)
                home(page)
                page.show()
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
        manifest, dataset = self._split(), self._state.dataset
        if manifest is None and dataset is not None and dataset.counts("val").any():
            # Split folders: training validates on the dataset's own val folder (see data_plan).
            self.options.set_split(f"its {dataset.split_folders['val']}/ folder, "
                                   f"{int(dataset.counts('val').sum()):,} images")
        else:
            self.options.set_split(None if manifest is None else
                                   f"{sum(c['val'] for c in manifest.counts().values()):,} validation images")
        self._show_summary()

    @Slot()
    def _on_settings_changed(self) -> None:
        self._show_summary()

    @Slot(str)
    def show_settings_errors(self, text: str) -> None:
        """Say which settings were refused or cannot be shown as they are (field, value,
        range); nothing once they can."""
        self.settings_error.setText(text)
        self.settings_error.setVisible(bool(text))
        if text:
            self.sig_status.emit(text.splitlines()[-1])

    def _split(self) -> SplitManifest | None:
        """The Dataset tab's split when it belongs to the current dataset, else None."""
        state = self._state
        if state.manifest is None or state.dataset is None \
                or state.manifest.source != state.dataset.source:
            return None
        return state.manifest

    @Slot(object)
    def _on_recipe_chosen(self, recipe: Recipe) -> None:
        """A recipe trains with its augmentation chain: it becomes the Augment tab's."""
        if recipe.chain is not None:
            self._state.set_chain(builtin_chain(recipe.chain))

    @Slot()
    def _show_summary(self) -> None:
        """The layer table and the Keras code of the settings shown, on the current dataset."""
        dataset, train = self._state.dataset, self._state.train
        if dataset is None:
            return
        spec = train.model
        try:
            shape = input_shape(dataset, image_size=train.image_size, longest=train.longest_side,
                                masked=self._state.training_mask() is not None, mode=preprocessing(spec))
            rows = plan_rows(spec, shape, len(dataset.classes))
        except ModelSpecError as exc:
            self.summary.setRowCount(0)
            self.total_label.setText(f"<span style='color:#b00020'>{exc}</span>")
            self.code.setPlainText(f"# {exc}")
            self.start_button.setEnabled(False)
            return
        self.code.setPlainText(keras_code(spec, train.optimizer, shape, dataset.classes,
                                          epochs=train.epochs, batch_size=train.batch_size, fit=train.fit))
        self.summary.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (f"{row['layer']} ({row['type']})", str(tuple(row["output_shape"])),
                     f"{row['params']:,}", f"{row['trainable_params']:,}")
            for c, text in enumerate(cells):
                self.summary.setItem(r, c, QTableWidgetItem(text))
        self.total_label.setText(f"{sum(row['params'] for row in rows):,} parameters on "
                                 f"{shape} inputs, {len(dataset.classes)} classes")
        self.start_button.setEnabled(not self.runner.is_running())

    @Slot()
    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for training runs")
        if folder:
            self.runs_edit.setText(folder)
            self._list_saved_runs()

    def run_spec(self) -> RunSpec:
        """The run the settings describe, on the current dataset and split (its file lists
        recorded in the run, so that the run trains again without the Dataset tab).

        Raises:
            ModelSpecError: Settings that cannot train together, naming the field.
        """
        state = self._state
        split = split_to_json(self._split()) if self.options.uses_split() and self._split() else None
        mask, chain = state.training_mask(), state.training_chain()
        return state.train.run_spec(state.train.data_spec(
            state.dataset, split=split, mask=None if mask is None else mask.to_json(),
            chain=None if chain is None else chain.to_json()))

    def set_runs_folder(self, folder: Path) -> None:
        """Save runs in ``folder`` and list the runs already there."""
        self.runs_edit.setText(str(folder))
        self._list_saved_runs()

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
        self._job = self.runner.start(train_run, run, Path(self.runs_edit.text()))

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
        summary = self.runs_list.add_run(result)
        text = result.diverged or f"Finished {result.epochs_run} epochs: {summary}."
        if result.run_dir:
            text += f" Saved in {result.run_dir}."
            self._state.run_saved(result.run_dir)
            self.examples.show_run(result)
        if result.skipped:
            text += (f" {len(result.skipped)} unreadable file(s) were left out, e.g. "
                     f"{result.skipped[0]['path']}: {result.skipped[0]['reason']}"
                     + (" (all listed in run.json)." if result.run_dir else "."))
        self.result_label.setToolTip("\n".join(f"{x['path']}: {x['reason']}" for x in result.skipped))
        self.result_label.setText(text)
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
            self.result_label.setText(f"{summary[0].upper()}{summary[1:]}. Saved in {result.run_dir}.")

    @Slot()
    def _list_saved_runs(self) -> None:
        """List the runs already saved in the runs folder (read in the background)."""
        self._runs_listed = True
        self._state.set_runs_dir(Path(self.runs_edit.text()))
        self.runs_list.list_folder(Path(self.runs_edit.text()))

    @Slot(object)
    def _on_run_picked(self, result: RunResult) -> None:
        """A run picked in the list shows its whole curves, while nothing is training."""
        if not self.runner.is_running():
            self.curves.show_history(result.history)
            self.examples.show_run(result)
