"""Training tab: configure the chapter's models, train in a worker with live curves, compare runs.

TensorFlow is loaded in the background the first time this tab is shown, never at start-up;
the runs already in the runs folder are listed then too. The layer table and the Keras code
follow every setting without TensorFlow. A run stopped after at least one epoch joins the list,
marked stopped, once its job has ended and its files are final.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.augment.chain import builtin_chain
from filterscope.core.base.formats import percent
from filterscope.core.data.splits import SplitManifest, split_to_json
from filterscope.core.project.project import TrainingSettings
from filterscope.core.results.examples import class_examples
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.model_build import plan_rows
from filterscope.core.training.model_code import keras_code
from filterscope.core.training.model_input import image_size_for, input_shape, preprocessing
from filterscope.core.training.model_spec import ModelSpecError
from filterscope.core.training.recipes import Recipe
from filterscope.core.training.runs import RunResult, RunSpec, SavedRuns, read_run, saved_runs
from filterscope.core.training.tf_runtime import load_tensorflow
from filterscope.core.transfer.run import train_run
from filterscope.ui.state import AppState
from filterscope.ui.widgets.code_view import CodeViewWidget
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.ui.widgets.prediction_strip import PredictionStripWidget
from filterscope.ui.widgets.run_options import RunOptionsWidget
from filterscope.ui.widgets.fitting import HeaderFit, SidePanelWidget, stacked_direction
from filterscope.ui.widgets.training_curves import TrainingCurvesWidget
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
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
        self._results: dict[str, RunResult] = {}
        self._job = None  # the training job's worker, as runner.start returned it
        self._run_dirs: dict[object, Path] = {}  # worker -> its run folder, until it is listed
        self.runner = JobRunner(self)
        self.tf_runner = JobRunner(self)
        self.runs_runner = JobRunner(self)
        self.read_runner = JobRunner(self)
        self.examples_runner = JobRunner(self)
        self.examples = PredictionStripWidget()
        self.examples.setToolTip("A few validation images of each class with the best model's "
                                 "prediction: green right, red wrong")
        self.options = RunOptionsWidget()
        self.mask_box = QCheckBox("Apply the mask from the Mask tab")
        self.chain_box = QCheckBox("Augment with the Augment tab's chain")
        self.chain_box.setToolTip("Training images only: validation images are never augmented")
        self.runs_edit = QLineEdit(str(state.runs_dir))
        self.browse_button = QPushButton("…")
        self.start_button = QPushButton("Start training")
        self.stop_button = QPushButton("Stop")
        self.tf_label = QLabel("TensorFlow loads when this tab is first shown.")
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
        self.runs_list = QListWidget()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.job_panel = JobPanelWidget(self.runner, cancelled_text="Stopped")
        self._build_layout()
        self._runs_listed = False
        self.options.sig_changed.connect(self._show_summary)
        self.code.sig_status.connect(self.sig_status)
        self.options.sig_recipe_chosen.connect(self._on_recipe_chosen)
        self.options.size_spin.valueChanged.connect(self._on_options_size_changed)
        self.runs_edit.editingFinished.connect(self._list_saved_runs)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.runner.cancel)
        self.runner.sig_running.connect(self._on_runner_running)
        self.runner.sig_partial.connect(self._on_runner_partial)
        self.runner.sig_finished.connect(self._on_runner_finished)
        self.runner.sig_job_ended.connect(self._on_runner_job_ended)
        self.read_runner.sig_finished.connect(self._on_run_read)
        self.examples_runner.sig_finished.connect(self.examples.set_examples)
        self.examples_runner.sig_failed.connect(lambda _message: self.examples.clear())
        self.read_runner.sig_failed.connect(self.result_label.setText)
        self.tf_runner.sig_finished.connect(self.tf_label.setText)
        self.tf_runner.sig_progress.connect(lambda _f, message: self.tf_label.setText(message))
        self.runs_list.itemChanged.connect(self._on_runs_changed)
        self.runs_list.currentItemChanged.connect(self._on_run_picked)
        self.runs_runner.sig_finished.connect(self._on_runs_listed)
        self.mask_box.toggled.connect(self._show_summary)
        self.chain_box.toggled.connect(self.options.base_options.set_augmenting)
        state.sig_dataset_changed.connect(self._on_state_changed)
        state.sig_manifest_changed.connect(self._on_state_changed)
        state.sig_mask_changed.connect(self._on_state_changed)
        state.sig_chain_changed.connect(self._on_state_changed)
        self._on_runner_running(False)

    def _build_layout(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.options)
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
        left_layout.addWidget(self.tf_label)
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
        if not self.tf_runner.is_running() and self.tf_label.text().startswith("TensorFlow loads"):
            self.tf_runner.start(load_tensorflow)
        if not self._runs_listed:
            self._list_saved_runs()

    def shortcut_buttons(self) -> dict[str, QPushButton]:
        """The buttons the main window's Start and Stop shortcuts press."""
        return {"start": self.start_button, "stop": self.stop_button}

    # --- settings --------------------------------------------------------------------------

    @Slot()
    def _on_state_changed(self) -> None:
        self.mask_box.setEnabled(self._state.mask is not None)
        self.chain_box.setEnabled(self._state.chain is not None)
        self.mask_box.setChecked(self._state.mask is not None)
        self.chain_box.setChecked(self._state.chain is not None)
        manifest, dataset = self._split(), self._state.dataset
        if manifest is None and dataset is not None and dataset.counts("val").any():
            # Split folders: training validates on the dataset's own val folder (see data_plan).
            self.options.set_split(f"its {dataset.split_folders['val']}/ folder, "
                                   f"{int(dataset.counts('val').sum()):,} images")
        else:
            self.options.set_split(None if manifest is None else
                                   f"{sum(c['val'] for c in manifest.counts().values()):,} validation images")
        self._show_summary()

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
            self.chain_box.setChecked(True)

    @Slot(int)
    def _on_options_size_changed(self, _value: int) -> None:
        self._state.set_image_side(self.options.longest_side())

    @Slot()
    def _show_summary(self) -> None:
        """The layer table and the Keras code of the settings shown, on the current dataset."""
        dataset = self._state.dataset
        if dataset is None:
            return
        spec, options = self.options.model(), self.options
        try:
            shape = input_shape(dataset, longest=options.longest_side(),
                                masked=self.mask_box.isChecked() and self._state.mask is not None,
                                mode=preprocessing(spec))
            rows = plan_rows(spec, shape, len(dataset.classes))
        except ModelSpecError as exc:
            self.summary.setRowCount(0)
            self.total_label.setText(f"<span style='color:#b00020'>{exc}</span>")
            self.code.setPlainText(f"# {exc}")
            self.start_button.setEnabled(False)
            return
        self.code.setPlainText(keras_code(spec, options.optimizer(), shape, dataset.classes,
                                          epochs=options.epochs_spin.value(),
                                          batch_size=options.batch_spin.value(),
                                          fit=options.fit_options()))
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
        """The run the controls describe, on the current dataset and split (its file lists
        recorded in the run, so that the run trains again without the Dataset tab)."""
        state, options = self._state, self.options
        split = None
        if options.use_split() and self._split() is not None:
            split = split_to_json(self._split())
        data = DataSpec(source=state.dataset.source, split=split,
                        image_size=image_size_for(state.dataset, options.longest_side()),
                        val_fraction=options.val_spin.value(), seed=options.seed_spin.value(),
                        mask=state.mask.to_json() if self.mask_box.isChecked() and state.mask else None,
                        chain=state.chain.to_json() if self.chain_box.isChecked() and state.chain else None)
        return options.run_spec(data, options.cache_features())

    def training_settings(self, source: str) -> TrainingSettings:
        """The settings shown, for a project on the dataset ``source`` (its split, mask and
        chain are the project's own: here only whether the run takes them)."""
        options = self.options
        data = DataSpec(source=source, val_fraction=options.val_spin.value(),
                        seed=options.seed_spin.value(), longest_side=options.longest_side())
        return TrainingSettings(options.run_spec(data, False), options.cache_features(),
                                options.use_split(), self.mask_box.isChecked(), self.chain_box.isChecked())

    def apply_training_settings(self, settings: TrainingSettings) -> None:
        """Show a project's settings (after its split, mask and chain are in the AppState)."""
        self.options.set_run_spec(settings.run, settings.cache_features)
        self.options.choose_split(settings.use_split)
        self.mask_box.setChecked(settings.use_mask and self.mask_box.isEnabled())
        self.chain_box.setChecked(settings.use_chain and self.chain_box.isEnabled())

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
        self.examples_runner.cancel()
        self.examples.clear()
        self._job = self.runner.start(train_run, run, Path(self.runs_edit.text()))

    @Slot(bool)
    def _on_runner_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    @Slot(object)
    def _on_runner_partial(self, payload: object) -> None:
        if isinstance(payload, dict):
            if payload.get("kind") == "start" and payload.get("run_dir"):
                self._run_dirs[self._job] = Path(payload["run_dir"])
            self.curves.add_point(payload)
            if payload.get("kind") in ("diverged", "stopped_early"):
                self.result_label.setText(f"<b>Stopped:</b> {payload.get('message', '')}")

    @Slot(object)
    def _on_runner_finished(self, result: RunResult) -> None:
        self._run_dirs.pop(self._job, None)  # listed from the result itself
        summary = self._add_run(result)
        text = result.diverged or f"Finished {result.epochs_run} epochs: {summary}."
        if result.run_dir:
            text += f" Saved in {result.run_dir}."
            self._state.run_saved(result.run_dir)
            self._show_examples(result)
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
        summary = self._add_run(result)
        self._state.run_saved(result.run_dir)
        if not self.runner.is_running():  # a newer run's messages take precedence
            self.result_label.setText(f"{summary[0].upper()}{summary[1:]}. Saved in {result.run_dir}.")

    def _add_run(self, result: RunResult) -> str:
        """List a run (replacing an entry of the same name); returns its one-line summary."""
        name = result.run_dir.name if result.run_dir else f"run {len(self._results) + 1}"
        best = result.best()
        summary = (f"best validation accuracy {percent(best['val_accuracy'])} (epoch {result.best_epoch})"
                   if best and best.get("val_accuracy") is not None else "no validation metrics")
        # The mark leads the line, where a narrow list cannot clip it.
        if result.status == "stopped":  # the partial result of a run the user stopped
            summary = (f"stopped after epoch {result.epochs_run} of {result.spec.get('epochs', '?')}: "
                       + summary)
        elif result.status not in ("finished", "diverged"):
            summary = f"{result.status}: {summary}"
        elif result.stopped_early:
            summary = f"stopped early after epoch {result.epochs_run}: " + summary
        tags = "".join(f" · {tag}" for tag in result.tags())
        if name in self._results:
            rows = [r for r in range(self.runs_list.count())
                    if self.runs_list.item(r).data(Qt.ItemDataRole.UserRole) == name]
            for row in reversed(rows):
                self.runs_list.takeItem(row)
        self._results[name] = result
        item = QListWidgetItem(f"{name}\n    {summary}{tags}")
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setToolTip(str(result.run_dir or "not saved"))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        self.runs_list.addItem(item)
        return summary

    @Slot()
    def _list_saved_runs(self) -> None:
        """List the runs already saved in the runs folder (read in the background)."""
        self._runs_listed = True
        self._state.set_runs_dir(Path(self.runs_edit.text()))
        self.runs_runner.start(saved_runs, Path(self.runs_edit.text()))

    @Slot(object)
    def _on_runs_listed(self, found: SavedRuns) -> None:
        runs, problems = found.runs, found.problems
        self.runs_list.clear()
        self._results.clear()
        self.curves.set_overlays([])
        for result in runs:
            self._add_run(result)
        if problems:
            self.result_label.setText(f"{len(problems)} run folder(s) could not be read: "
                                      + "; ".join(problems[:3]))

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_run_picked(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        """A run picked in the list shows its whole curves, while nothing is training."""
        if item is None or self.runner.is_running():
            return
        result = self._results.get(item.data(Qt.ItemDataRole.UserRole))
        if result is not None:
            self.curves.show_history(result.history)
            self._show_examples(result)

    def _show_examples(self, result: RunResult) -> None:
        """Predict a few validation images of each class with the run's best model (a job)."""
        self.examples.clear()
        if result.run_dir is not None and (result.run_dir / "best.keras").is_file() \
                and any(row.get("val_accuracy") is not None for row in result.history):
            self.examples_runner.start(class_examples, result.run_dir)

    @Slot(QListWidgetItem)
    def _on_runs_changed(self, _item: QListWidgetItem) -> None:
        overlays = []
        for row in range(self.runs_list.count()):
            item = self.runs_list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                name = item.data(Qt.ItemDataRole.UserRole)
                history = self._results[name].history
                overlays.append((name, {key: [h.get(key) for h in history]
                                        for key in ("val_loss", "val_accuracy")}))
        self.curves.set_overlays(overlays)

