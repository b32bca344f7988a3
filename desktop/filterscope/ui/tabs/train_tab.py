"""Training tab: configure the chapter's models, train in a worker with live curves, compare runs.

TensorFlow is loaded in the background the first time this tab is shown, never at start-up.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.data_plan import DataSpec
from filterscope.core.datasets import Dataset
from filterscope.core.model_build import plan_rows
from filterscope.core.models import ModelSpec, ModelSpecError
from filterscope.core.paths import data_dir
from filterscope.core.runs import RunResult, RunSpec
from filterscope.core.splits import save_manifest
from filterscope.core.tf_runtime import load_tensorflow
from filterscope.core.training import train
from filterscope.ui.state import AppState
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.ui.widgets.run_options import RunOptionsWidget
from filterscope.ui.widgets.training_curves import TrainingCurvesWidget
from filterscope.workers import JobRunner


def input_shape(dataset: Dataset, masked: bool = False) -> tuple[int, int, int]:
    """What the pipeline will feed: MNIST-like arrays stay one channel (three once masked, since
    the mask makes colour images), photos are RGB."""
    if dataset.pixels is not None:
        gray = dataset.pixels.ndim == 3 and not masked
        return (*dataset.pixels.shape[1:3], 1 if gray else 3)
    common = dataset.size_summary().get("most_common", [150, 150])
    return common[1], common[0], 3


class TrainTab(QWidget):
    """Start/Stop training on the current dataset, watch the curves, overlay earlier runs."""

    title = "Train"
    sig_status = Signal(str)
    """A line for the main window's status bar."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._results: dict[str, RunResult] = {}
        self.runner = JobRunner(self)
        self.tf_runner = JobRunner(self)
        self.options = RunOptionsWidget()
        self.mask_box = QCheckBox("Apply the mask from the Mask tab")
        self.chain_box = QCheckBox("Augment training images with the Augment tab's chain")
        self.runs_edit = QLineEdit(str(data_dir() / "runs"))
        self.browse_button = QPushButton("…")
        self.start_button = QPushButton("Start training")
        self.stop_button = QPushButton("Stop")
        self.tf_label = QLabel("TensorFlow loads when this tab is first shown.")
        self.summary = QTableWidget(0, 4)
        self.summary.setHorizontalHeaderLabels(["Layer", "Output shape", "Parameters", "Trainable parameters"])
        self.summary.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.summary.verticalHeader().setVisible(False)
        self.summary.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.total_label = QLabel()
        self.curves = TrainingCurvesWidget()
        self.runs_list = QListWidget()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.job_panel = JobPanelWidget(self.runner)
        self._build_layout()
        self.options.sig_model_changed.connect(self._show_summary)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.runner.cancel)
        self.runner.sig_running.connect(self._on_runner_running)
        self.runner.sig_partial.connect(self._on_runner_partial)
        self.runner.sig_finished.connect(self._on_runner_finished)
        self.tf_runner.sig_finished.connect(self.tf_label.setText)
        self.tf_runner.sig_progress.connect(lambda _f, message: self.tf_label.setText(message))
        self.runs_list.itemChanged.connect(self._on_runs_changed)
        self.mask_box.toggled.connect(lambda: self._show_summary(self.options.model()))
        state.sig_dataset_changed.connect(self._on_state_changed)
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
        middle_layout = QVBoxLayout(middle)
        middle_layout.addWidget(self.curves, 3)
        middle_layout.addWidget(self.result_label)
        bottom = QHBoxLayout()
        summary_box = QVBoxLayout()
        summary_box.addWidget(QLabel("Model summary"))
        summary_box.addWidget(self.summary, 1)
        summary_box.addWidget(self.total_label)
        runs_box = QVBoxLayout()
        runs_box.addWidget(QLabel("Runs (tick to overlay their validation curves)"))
        runs_box.addWidget(self.runs_list, 1)
        bottom.addLayout(summary_box, 3)
        bottom.addLayout(runs_box, 2)
        middle_layout.addLayout(bottom, 2)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(middle)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.job_panel)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self.tf_runner.is_running() and self.tf_label.text().startswith("TensorFlow loads"):
            self.tf_runner.start(load_tensorflow)

    # --- settings --------------------------------------------------------------------------

    @Slot()
    def _on_state_changed(self) -> None:
        self.mask_box.setEnabled(self._state.mask is not None)
        self.chain_box.setEnabled(self._state.chain is not None)
        self.mask_box.setChecked(self._state.mask is not None)
        self.chain_box.setChecked(self._state.chain is not None)
        self._show_summary(self.options.model())

    @Slot(object)
    def _show_summary(self, spec: ModelSpec) -> None:
        dataset = self._state.dataset
        if dataset is None:
            return
        try:
            shape = input_shape(dataset, self.mask_box.isChecked())
            rows = plan_rows(spec, shape, len(dataset.classes))
        except ModelSpecError as exc:
            self.summary.setRowCount(0)
            self.total_label.setText(f"<span style='color:#b00020'>{exc}</span>")
            self.start_button.setEnabled(False)
            return
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

    def run_spec(self) -> RunSpec:
        """The run the controls describe, on the current dataset and split."""
        state, options = self._state, self.options
        manifest = None
        if state.manifest is not None and state.manifest.source == state.dataset.source:
            digest = hashlib.sha1(state.dataset.source.encode()).hexdigest()[:12]
            folder = data_dir() / "manifests"
            folder.mkdir(parents=True, exist_ok=True)
            manifest = str(save_manifest(state.manifest, folder / f"split-{digest}.json"))
        data = DataSpec(source=state.dataset.source, manifest=manifest,
                        val_fraction=options.val_spin.value(), seed=options.seed_spin.value(),
                        mask=state.mask.to_json() if self.mask_box.isChecked() and state.mask else None,
                        chain=state.chain.to_json() if self.chain_box.isChecked() and state.chain else None)
        return RunSpec(data, options.model(), options.optimizer(), options.epochs_spin.value(),
                       options.batch_spin.value(), options.seed_spin.value())

    # --- training --------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Start training (an earlier run still going is stopped first)."""
        if self._state.dataset is None:
            return
        self.curves.start_run()
        self.result_label.clear()
        self.runner.start(train, self.run_spec(), Path(self.runs_edit.text()))

    @Slot(bool)
    def _on_runner_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    @Slot(object)
    def _on_runner_partial(self, payload: object) -> None:
        if isinstance(payload, dict):
            self.curves.add_point(payload)
            if payload.get("kind") == "diverged":
                self.result_label.setText(f"<b>Stopped:</b> {payload.get('message', '')}")

    @Slot(object)
    def _on_runner_finished(self, result: RunResult) -> None:
        name = result.run_dir.name if result.run_dir else f"run {len(self._results) + 1}"
        self._results[name] = result
        best = result.best()
        summary = (f"best validation accuracy {best['val_accuracy']:.3f} (epoch {result.best_epoch})"
                   if best and best.get("val_accuracy") is not None else "no validation metrics")
        item = QListWidgetItem(f"{name}: {summary}")
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        self.runs_list.addItem(item)
        text = result.diverged or f"Finished {result.epochs_run} epochs: {summary}."
        if result.run_dir:
            text += f" Saved in {result.run_dir}."
        self.result_label.setText(text)
        self.sig_status.emit(text)

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

