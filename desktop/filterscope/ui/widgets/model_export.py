""""Export model…": the chosen run's model as ONNX, TFLite or a SavedModel, written and verified
by the core job ``export_model`` (a job of its own runner: progress, Cancel; nothing is written
when verification fails or the job is cancelled)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from filterscope.core.export.export import ExportResult, default_suffix, export_model
from filterscope.core.export.manifest import MODEL_FORMATS
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.workers import JobRunner

FORMAT_TEXT = {"onnx": "ONNX", "tflite": "TFLite", "savedmodel": "SavedModel"}
FORMAT_TIPS = {"onnx": "ONNX Runtime: any language, a small install", "tflite": "phones and small devices",
               "savedmodel": "TensorFlow Serving, TensorFlow itself"}
FILTERS = {"onnx": "ONNX model (*.onnx)", "tflite": "TFLite model (*.tflite)", "savedmodel": "SavedModel folder (*)"}


class ModelExportWidget(QWidget):
    """A format and "Export model…" on one row (the side panel is full), the job's progress and
    what was written (hidden until there is something to say)."""

    sig_exported = Signal(object)
    """The ExportResult of an export written and verified."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run: Path | None = None
        self._which = "best"
        self.format_box = QComboBox()
        for name in MODEL_FORMATS:
            self.format_box.addItem(FORMAT_TEXT[name], name)
            self.format_box.setItemData(self.format_box.count() - 1, FORMAT_TIPS[name], Qt.ItemDataRole.ToolTipRole)
        self.export_button = QPushButton("Export model…")
        self.export_button.setToolTip("Write the model for use outside Filterscope, with a "
                                      ".filterscope.json beside it (input size, scaling, mask, classes, "
                                      "calibration); it is checked on the run's validation images in its "
                                      "own runtime first, and not written if it answers differently")
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.runner = JobRunner(self, on_result=self._on_exported, on_running=self._update_button,
                                on_failure=self._on_failed)
        self.job_panel = JobPanelWidget(self.runner)
        self.result_label.hide()
        row = QHBoxLayout()
        row.addWidget(self.format_box)
        row.addWidget(self.export_button, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.job_panel)
        layout.addWidget(self.result_label)
        self.export_button.clicked.connect(self._on_export_clicked)
        self._update_button()

    def set_run(self, run_dir: Path | None, which: str = "best") -> None:
        """The run (and its ``best`` or ``last`` model) the next export writes; an export of
        another one still running is cancelled (it writes nothing)."""
        if (run_dir, which) != (self._run, self._which):
            if self.runner.is_running():
                self.runner.cancel()
            self._say("")
        self._run, self._which = run_dir, which
        self._update_button()

    def model_format(self) -> str:
        """The format chosen."""
        return self.format_box.currentData()

    def export(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Export the chosen run's model to ``path`` in the chosen format (a job)."""
        if self._run is not None:
            self._say(f"Exporting {Path(path).name}…")
            self.runner.start(export_model, self._run, self.model_format(), Path(path), which=self._which,
                              overwrite=overwrite)

    @Slot()
    def _on_export_clicked(self) -> None:
        if self._run is None:
            return
        fmt = self.model_format()
        suggested = self._run.parent / f"{self._run.name}-{self._which}{default_suffix(fmt)}"
        path, _ = QFileDialog.getSaveFileName(self, f"Export the model as {fmt.upper()}", str(suggested),
                                              FILTERS[fmt])
        if path:
            suffix = default_suffix(fmt)
            if suffix and not path.lower().endswith(suffix):
                path += suffix
            self.export(path, overwrite=True)  # the dialog asked; a folder not an export is refused

    @Slot(object)
    def _on_exported(self, result: ExportResult) -> None:
        check = result.manifest.verification
        self._say(f"Wrote {result.path.name} ({result.size_bytes / 1e6:.1f} MB) and "
                                  f"{result.sidecar.name}: verified in {check.runtime} on {check.images}, "
                                  f"largest difference {check.max_abs_diff:.1g}")
        self.sig_exported.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._say(f"Nothing written: {message}")

    def _say(self, text: str) -> None:
        self.result_label.setText(text)
        self.result_label.setVisible(bool(text))

    @Slot()
    def _update_button(self) -> None:
        self.export_button.setEnabled(self._run is not None and not self.runner.is_running())
