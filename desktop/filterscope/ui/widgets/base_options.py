"""The settings of a model on a pretrained base: its weights, how many top blocks fine-tune,
and whether the head trains on the base's cached features.

Only a model with a base shows them. Where the weights are and which file to put where is
``core.transfer.weights``' to say; why features cannot be cached (fine-tuning, augmentation)
is ``core.training.runs.cache_refusal``'s. A picked file is checked against the architecture,
and remembered, by the core when the run loads it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Signal, Slot
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

from filterscope.core.training.base_spec import WEIGHTS_CHOICES, BaseSpec, block_count
from filterscope.core.training.model_spec import ModelSpec
from filterscope.core.training.runs import cache_refusal
from filterscope.core.transfer.weights import WeightsError, find_weights

IMAGENET_TEXT = "ImageNet"
FILE_TEXT = "File…"
WARNING_STYLE = "color: #b00020"


class BaseOptionsWidget(QWidget):
    """Weights, fine-tuning and cached features of the base given by :meth:`set_base`."""

    sig_changed = Signal()
    """A setting changed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base: BaseSpec | None = None
        self._file: str | None = None  # the weights file picked, once there is one
        self._augmenting = False
        self.weights_combo = QComboBox()
        self.weights_combo.addItem(IMAGENET_TEXT, "imagenet")
        self.weights_combo.addItem("Random (untrained base: timing only)", "random")
        self.weights_combo.addItem(FILE_TEXT, "file")
        self.weights_label = QLabel()
        self.weights_label.setWordWrap(True)
        self.weights_label.setStyleSheet(WARNING_STYLE)
        self.fine_tune_spin = QSpinBox(minimum=0)
        self.fine_tune_spin.setSpecialValueText("0 (frozen)")
        self.fine_tune_spin.setToolTip("Let the base's top blocks train with the head, at a tenth "
                                       "of the usual learning rate; 0 keeps the base frozen.")
        self.cache_box = QCheckBox("Cache the base's features")
        self.cache_box.setToolTip("Run the frozen base once over the dataset and train the head on "
                                  "its stored output: much faster epochs, no augmentation.")
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
        layout.addLayout(fine_tune)
        layout.addWidget(self.cache_box)
        layout.addWidget(self.conflict_label)
        layout.addWidget(self.uncached_button)
        self.weights_combo.activated.connect(self._on_weights_activated)
        self.fine_tune_spin.valueChanged.connect(self._on_setting_changed)
        self.cache_box.toggled.connect(self._on_setting_changed)
        self.uncached_button.clicked.connect(lambda: self.cache_box.setChecked(False))
        self.set_base(None)

    def set_base(self, base: BaseSpec | None) -> None:
        """Show ``base``'s settings (hide them all for a model without a base)."""
        if base is None or self._base is None or base.name != self._base.name:
            self._file = None  # a file picked for one base does not fit another
            self.weights_combo.setItemText(self.weights_combo.findData("file"), FILE_TEXT)
        self._base = base
        self.setVisible(base is not None)
        if base is not None:
            self.fine_tune_spin.blockSignals(True)
            self.fine_tune_spin.setMaximum(block_count(base.name))
            self.fine_tune_spin.setValue(base.fine_tune_blocks)
            self.fine_tune_spin.blockSignals(False)
            if base.weights not in WEIGHTS_CHOICES:
                self._set_file(base.weights)
            self.weights_combo.setCurrentIndex(self.weights_combo.findData(
                base.weights if base.weights in WEIGHTS_CHOICES else "file"))
        self.refresh()

    def with_settings(self, model: ModelSpec) -> ModelSpec:
        """``model`` with the weights and fine-tuning shown (unchanged without a base)."""
        if model.base is None or self._base is None:
            return model
        choice = self.weights_combo.currentData()
        weights = self._file if choice == "file" and self._file else \
            choice if choice in WEIGHTS_CHOICES else model.base.weights
        return replace(model, base=replace(model.base, weights=weights,
                                           fine_tune_blocks=self.fine_tune_spin.value()))

    def cache_features(self) -> bool:
        """True when the head trains on the base's cached features."""
        return self._base is not None and self.cache_box.isChecked()

    def set_augmenting(self, augmenting: bool) -> None:
        """Whether the training images are augmented (the Train tab's chain checkbox)."""
        self._augmenting = augmenting
        self.refresh()

    def refresh(self) -> None:
        """Say whether ImageNet's weights are on this computer, and why the features cannot be
        cached with the settings shown, if they cannot."""
        imagenet = self.weights_combo.model().item(0)
        message = ""
        if self._base is not None:
            try:
                find_weights(self._base.name, "imagenet")
            except WeightsError as exc:
                message = str(exc)
        imagenet.setText(IMAGENET_TEXT + (" (not on this computer)" if message else ""))
        imagenet.setToolTip(message)
        shown = message if self.weights_combo.currentData() == "imagenet" else ""
        self.weights_label.setText(shown)
        self.weights_label.setVisible(bool(shown))
        refusal = None
        if self._base is not None and self.cache_box.isChecked():
            base = replace(self._base, fine_tune_blocks=self.fine_tune_spin.value())
            refusal = cache_refusal(ModelSpec("pretrained", (), base=base), augmented=self._augmenting)
        self.conflict_label.setText(f"Cached features cannot be used: {refusal}." if refusal else "")
        self.conflict_label.setVisible(bool(refusal))
        self.uncached_button.setVisible(bool(refusal))
        self.updateGeometry()  # the wrapped messages change this widget's height

    def _set_file(self, path: str) -> None:
        self._file = path
        item = self.weights_combo.model().item(self.weights_combo.findData("file"))
        item.setText(f"File: {Path(path).name}")
        item.setToolTip(path)

    @Slot(int)
    def _on_weights_activated(self, _index: int) -> None:
        if self.weights_combo.currentData() == "file":
            name = self._base.display if self._base else "the base"
            path, _ = QFileDialog.getOpenFileName(self, f"{name}'s weights file (include_top=False)",
                                                  "", "Keras weights (*.h5);;All files (*)")
            if path:
                self._set_file(path)
            elif not self._file:  # nothing picked, now or before: back to the base's own choice
                fallback = self._base.weights if self._base and self._base.weights in WEIGHTS_CHOICES \
                    else "imagenet"
                self.weights_combo.setCurrentIndex(self.weights_combo.findData(fallback))
        self._on_setting_changed()

    @Slot()
    def _on_setting_changed(self) -> None:
        self.refresh()
        self.sig_changed.emit()
