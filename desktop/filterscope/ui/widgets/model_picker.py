"""Choose the model to look into: a run from the runs folder, a ``.keras`` file, or an ImageNet
model (EfficientNet-Lite0 first: it works offline; then VGG16), with ImageNet or random weights."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from filterscope.core.base.formats import percent
from filterscope.core.training.base_spec import DISPLAY
from filterscope.core.training.runs import RunResult
from filterscope.core.transfer.imagenet import imagenet_model, imagenet_models
from filterscope.core.visualize.model_source import (
    RANDOM_WEIGHTS,
    VGG16_NAME,
    VGG16_SIZE,
    LoadedModel,
    imagenet_weights_missing,
)

ERROR_STYLE = "color: #b00020"
WARNING_STYLE = "color: #a35200"
TOOLTIP = Qt.ItemDataRole.ToolTipRole


def _key(source: str | Path, weights: str = "") -> str:
    """An entry's data: the run folder or file, or ``<imagenet model>:<weights>`` (a string, since
    a combo box finds Python objects by identity, not by value)."""
    name = imagenet_model(source)
    return str(source) if name is None else f"{name}:{weights or 'imagenet'}"


class ModelPickerWidget(QWidget):
    """A list of models; choosing one asks for it to be loaded (sig_chosen)."""

    sig_chosen = Signal(str, str, int)
    """Load this: a run folder, a .keras file or an ImageNet model; its weights; VGG16's size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(24)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.open_button = QPushButton("Open .keras…")
        self.size_spin = QSpinBox()  # the tab binds it to its settings' ``size``
        self.size_label = QLabel("VGG16 size")
        self.status = QLabel("No model loaded.")
        self._asked: tuple[str, str, int] | None = None  # the last request, so a size edit reloads once
        self.status.setWordWrap(True)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 0, 0, 1, 3)
        layout.addWidget(self.open_button, 1, 0)
        layout.addWidget(self.size_label, 1, 1)
        layout.addWidget(self.size_spin, 1, 2)
        layout.addWidget(self.status, 2, 0, 1, 3)
        self.set_runs([], Path())
        self.combo.activated.connect(self._on_combo_activated)
        self.combo.currentIndexChanged.connect(self._on_combo_changed)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.size_spin.editingFinished.connect(self._on_size_edited)

    def set_runs(self, runs: list[RunResult], folder: Path) -> None:
        """Offer ``runs`` (newest first), then the ImageNet models; the current choice is kept if
        still there."""
        current = self.combo.currentData()  # a key, or None for the "no runs" line
        self.combo.blockSignals(True)
        self.combo.clear()
        for run in reversed(runs):
            best = run.best() or {}
            accuracy = best.get("val_accuracy")
            detail = f"validation accuracy {percent(accuracy)}" if accuracy is not None else run.status
            self.combo.addItem(f"{run.run_dir.name} ({detail})", _key(run.run_dir))
            self.combo.setItemData(self.combo.count() - 1, str(run.run_dir), TOOLTIP)
        if not runs:
            self.combo.addItem(f"No runs in {folder.name or 'the runs folder'}: train one in the Train tab",
                               None)
        self.combo.insertSeparator(self.combo.count())
        for name in imagenet_models():
            self._add_imagenet(name)
        found = self.combo.findData(current)
        self.combo.setCurrentIndex(found if found >= 0 and current is not None else 0)
        self.combo.blockSignals(False)
        self._on_combo_changed(self.combo.currentIndex())

    def _add_imagenet(self, name: str) -> None:
        """An ImageNet model's two entries: ImageNet weights (disabled, with why, when they are not
        on this computer) and random weights."""
        missing = imagenet_weights_missing(True, name)
        self.combo.addItem(f"{DISPLAY[name]}, ImageNet weights", _key(name, "imagenet"))
        if missing:
            row = self.combo.count() - 1
            self.combo.model().item(row).setEnabled(False)
            self.combo.setItemText(row, f"{DISPLAY[name]}, ImageNet weights (not on this computer)")
            self.combo.setItemData(row, missing, TOOLTIP)
        self.combo.addItem(f"{DISPLAY[name]}, {RANDOM_WEIGHTS}", _key(name, "random"))

    def select(self, source: str | Path, weights: str = "") -> bool:
        """Make ``source`` the current choice (adding a .keras file to the list); True if listed."""
        data = _key(source, weights)
        index = self.combo.findData(data)
        if index < 0 and str(source).lower().endswith(".keras"):
            self.combo.insertItem(0, Path(source).name, data)
            self.combo.setItemData(0, str(source), TOOLTIP)
            index = 0
        if index >= 0:
            self.combo.setCurrentIndex(index)
        return index >= 0

    def choose(self, source: str | Path, weights: str = "") -> None:
        """Select ``source`` and ask for it to be loaded."""
        if self.select(source, weights):
            self._on_combo_activated(self.combo.currentIndex())

    def current(self) -> tuple[str, str] | None:
        """The (source, an ImageNet model's weights) chosen, or None."""
        data = self.combo.currentData()
        if data is None:
            return None
        source, _, weights = data.partition(":")
        return (source, weights) if imagenet_model(source) else (data, "")

    def show_loading(self) -> None:
        """Say that the chosen model is loading."""
        self.status.setStyleSheet("")
        self.status.setText("Loading the model…")

    def show_loaded(self, loaded: LoadedModel, classes: int | None) -> None:
        """Describe the model now in use; random weights are said plainly, with what to do."""
        shape = "x".join(map(str, loaded.input_shape))
        what = f"{classes} classes" if classes else "no classes"
        text = f"<b>{html.escape(loaded.name)}</b> ({html.escape(loaded.weights)}): input {shape}, {what}."
        self.status.setStyleSheet("")
        if loaded.weights == RANDOM_WEIGHTS:
            missing = loaded.imagenet and imagenet_weights_missing(loaded.input_shape[0] == VGG16_SIZE,
                                                                   loaded.kind)
            text += (f" <b>Random weights.</b> {html.escape(missing)}." if missing else
                     " <b>Random weights:</b> fine for timing and first-layer patterns, not for "
                     f"what {html.escape(loaded.name)} learned.")
            self.status.setStyleSheet(WARNING_STYLE)
        self.status.setText(text)

    def show_failed(self, message: str, kept: LoadedModel | None) -> None:
        """Say why a model was refused, and which model stays in use."""
        self.status.setStyleSheet(ERROR_STYLE)
        still = f" Still using {kept.name}." if kept is not None else ""
        self.status.setText(f"Not loaded: {html.escape(message)}.{html.escape(still)}")

    @Slot(int)
    def _on_combo_changed(self, _index: int) -> None:
        data = self.current()
        vgg = data is not None and data[0] == VGG16_NAME
        self.size_label.setVisible(vgg)
        self.size_spin.setVisible(vgg)

    @Slot(int)
    def _on_combo_activated(self, _index: int) -> None:
        data = self.current()
        if data is not None:
            self._asked = (data[0], data[1] or "imagenet", self.size_spin.value())
            self.sig_chosen.emit(*self._asked)

    @Slot()
    def _on_size_edited(self) -> None:
        data = self.current()
        if data is not None and data[0] == VGG16_NAME and self._asked is not None \
                and self._asked[0] == VGG16_NAME and self._asked[2] != self.size_spin.value():
            self._on_combo_activated(self.combo.currentIndex())

    @Slot()
    def _on_open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a Keras model", "", "Keras model (*.keras)")
        if path:
            self.choose(path)
