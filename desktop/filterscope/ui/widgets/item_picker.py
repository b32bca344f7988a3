"""Pick one image of the current dataset: a class, then the n-th image of that class."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from filterscope.core.data.datasets import Dataset


CLASS_CHARACTERS = 8  # the class box's width, in characters


class ItemPickerWidget(QWidget):
    """Emits sig_item_changed with the dataset index whenever the choice changes."""

    sig_item_changed = Signal(int)
    """Dataset index of the chosen image."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self.class_combo = QComboBox()
        # A width set by the text size alone, not by the names it happened to hold when first
        # shown (long class names would widen the column; the open list shows them whole).
        self.class_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.class_combo.setMinimumContentsLength(CLASS_CHARACTERS)
        self.item_spin = QSpinBox()  # not a setting: its range is the chosen class's images
        self._image_range()  # none yet: 0 alone
        self.class_combo.setPlaceholderText("–")  # no image of the dataset chosen (clear_choice)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (QLabel("Class"), self.class_combo, QLabel("Image"), self.item_spin):
            layout.addWidget(widget)
        self.class_combo.currentIndexChanged.connect(self._on_class_changed)
        self.item_spin.valueChanged.connect(self._on_item_changed)

    def set_dataset(self, dataset: Dataset) -> None:
        """Offer the classes of ``dataset`` and choose the first image of the first class."""
        self._dataset = dataset
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItems(dataset.classes)
        self.class_combo.blockSignals(False)
        self._on_class_changed(0)

    def select(self, index: int) -> None:
        """Show dataset item ``index`` as chosen (its class, its place in the class), silently."""
        if self._dataset is None or not 0 <= index < len(self._dataset.labels):
            return
        for widget in (self.class_combo, self.item_spin):
            widget.blockSignals(True)
        self.class_combo.setCurrentIndex(int(self._dataset.labels[index]))
        members = self._members()
        self._image_range()
        self.item_spin.setValue(int(np.searchsorted(members, index)))
        for widget in (self.class_combo, self.item_spin):
            widget.blockSignals(False)

    def clear_choice(self) -> None:
        """Show no image of the dataset as chosen (another image is looked at), silently;
        choosing a class or an image chooses again."""
        for widget in (self.class_combo, self.item_spin):
            widget.blockSignals(True)
        self.class_combo.setCurrentIndex(-1)
        self.item_spin.setMinimum(-1)
        self.item_spin.setSpecialValueText("–")  # shown at the minimum: -1 here, never an image
        self.item_spin.setValue(-1)
        for widget in (self.class_combo, self.item_spin):
            widget.blockSignals(False)

    def current_item(self) -> int | None:
        """The chosen dataset index, or None when the class is empty or none is chosen."""
        if self.class_combo.currentIndex() < 0:
            return None
        members = self._members()
        if not len(members):
            return None
        return int(members[min(self.item_spin.value(), len(members) - 1)])

    def _image_range(self) -> None:
        """The class's images to choose from, from 0 (no "–" any more)."""
        self.item_spin.setSpecialValueText("")
        self.item_spin.setRange(0, max(len(self._members()) - 1, 0))

    def _members(self) -> np.ndarray:
        if self._dataset is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self._dataset.labels == max(self.class_combo.currentIndex(), 0))

    @Slot(int)
    def _on_class_changed(self, _index: int) -> None:
        self.item_spin.blockSignals(True)
        self._image_range()
        self.item_spin.setValue(0)
        self.item_spin.blockSignals(False)
        self._on_item_changed(0)

    @Slot(int)
    def _on_item_changed(self, _value: int) -> None:
        if self.class_combo.currentIndex() < 0:  # stepped from "–": that image of the first class
            value = max(self.item_spin.value(), 0)
            for widget in (self.class_combo, self.item_spin):
                widget.blockSignals(True)
            self.class_combo.setCurrentIndex(0)
            self._image_range()
            self.item_spin.setValue(value)
            for widget in (self.class_combo, self.item_spin):
                widget.blockSignals(False)
        item = self.current_item()
        if item is not None:
            self.sig_item_changed.emit(item)
