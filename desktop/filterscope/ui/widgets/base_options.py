"""The settings of a model on a pretrained base: its weights, how many top blocks fine-tune
(after how many epochs of the head alone), and whether the head trains on the base's cached features.

Only a model with a base shows them. Where the weights are and which file to put where is
``core.transfer.weights``' to say; why features cannot be cached (fine-tuning, augmentation)
is ``core.training.runs.cache_refusal``'s. A picked file is checked against the architecture,
and remembered, by the core when the run loads it. The controls are bound to the Train tab's
:class:`~filterscope.core.training.settings.TrainSettings`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.base.settings import declaration
from filterscope.core.training.base_spec import WEIGHTS_CHOICES, BaseSpec, block_count
from filterscope.core.training.settings import TrainSettings
from filterscope.core.transfer.weights import imagenet_missing
from filterscope.ui.binding import bind, set_path

IMAGENET_TEXT = "ImageNet"
FILE_TEXT = "File…"
WARNING_STYLE = "color: #b00020"


class BaseOptionsWidget(QWidget):
    """Weights, fine-tuning and cached features of the settings' model, when it has a base."""

    def __init__(self, settings: TrainSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._file: str | None = None  # the weights file picked, once there is one
        self._base_name: str | None = None
        self.weights_combo = QComboBox()
        self.weights_combo.addItem(IMAGENET_TEXT, "imagenet")
        self.weights_combo.addItem("Random (untrained base: timing only)", "random")
        self.weights_combo.addItem(FILE_TEXT, "file")
        self.weights_label = QLabel()
        self.weights_label.setWordWrap(True)
        self.weights_label.setStyleSheet(WARNING_STYLE)
        self.fine_tune_spin = QSpinBox()
        self.head_epochs_spin = QSpinBox()
        self.cache_box = QCheckBox("Cache the base's features")
        self.conflict_label = QLabel()
        self.conflict_label.setWordWrap(True)
        self.conflict_label.setStyleSheet(WARNING_STYLE)
        self.uncached_button = QPushButton("Train without cached features")
        # Wrapped labels get their full height in a box layout (a form row clips them).
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        weights = QFormLayout()
        weights.addRow("Weights", self.weights_combo)
        layout.addLayout(weights)
        layout.addWidget(self.weights_label)
        fine_tune = QFormLayout()
        fine_tune.addRow("Fine-tune top N blocks", self.fine_tune_spin)
        fine_tune.addRow(declaration(BaseSpec, "head_epochs").label, self.head_epochs_spin)
        layout.addLayout(fine_tune)
        layout.addWidget(self.cache_box)
        layout.addWidget(self.conflict_label)
        layout.addWidget(self.uncached_button)
        bind(self.fine_tune_spin, settings, "model.base.fine_tune_blocks", declared_by=BaseSpec)
        bind(self.head_epochs_spin, settings, "model.base.head_epochs", declared_by=BaseSpec)
        bind(self.cache_box, settings, "cache_features")
        self.weights_combo.activated.connect(self._on_weights_activated)
        self.uncached_button.clicked.connect(self._on_uncached_clicked)
        for name in ("model", "cache_features", "use_chain"):
            getattr(settings.events, name).connect(self.refresh)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Show the base's settings (nothing for a model without one), say whether ImageNet's
        weights are on this computer, and why the features cannot be cached, if they cannot."""
        base = self.settings.model.base
        self.setVisible(base is not None)
        if base is None or base.name != self._base_name:
            self._file = None  # a file picked for one base does not fit another
            self.weights_combo.setItemText(self.weights_combo.findData("file"), FILE_TEXT)
        self._base_name = None if base is None else base.name
        message = ""
        if base is not None:
            self.fine_tune_spin.setMaximum(block_count(base.name))
            self.head_epochs_spin.setEnabled(base.fine_tune_blocks > 0)  # a frozen base: all head
            if base.weights not in WEIGHTS_CHOICES:
                self._set_file(base.weights)
            self.weights_combo.setCurrentIndex(self.weights_combo.findData(
                base.weights if base.weights in WEIGHTS_CHOICES else "file"))
            message = imagenet_missing(base.name) or ""
        imagenet = self.weights_combo.model().item(0)
        imagenet.setText(IMAGENET_TEXT + (" (not on this computer)" if message else ""))
        imagenet.setToolTip(message)
        shown = message if self.weights_combo.currentData() == "imagenet" else ""
        self.weights_label.setText(shown)
        self.weights_label.setVisible(bool(shown))
        refusal = self.settings.cache_refusal() if base is not None and self.settings.cache_features \
            else None
        self.conflict_label.setText(f"Cached features cannot be used: {refusal}." if refusal else "")
        self.conflict_label.setVisible(bool(refusal))
        self.uncached_button.setVisible(bool(refusal))
        self.updateGeometry()  # the wrapped messages change this widget's height

    def _set_file(self, path: str) -> None:
        self._file = path
        item = self.weights_combo.model().item(self.weights_combo.findData("file"))
        item.setText(f"File: {Path(path).name}")
        item.setToolTip(path)

    def _set_weights(self, weights: str) -> None:
        set_path(self.settings, "model.base.weights", weights)

    @Slot()
    def _on_uncached_clicked(self) -> None:
        self.settings.cache_features = False

    @Slot(int)
    def _on_weights_activated(self, _index: int) -> None:
        base = self.settings.model.base
        choice = self.weights_combo.currentData()
        if choice != "file":
            self._set_weights(choice)
            return
        path, _ = QFileDialog.getOpenFileName(self, f"{base.display}'s weights file (include_top=False)",
                                              "", "Keras weights (*.h5);;All files (*)")
        if path or self._file:
            self._set_weights(path or self._file)
        else:  # nothing picked, now or before: back to the base's own choice
            self.refresh()
