"""What to paint and how: a filter of the chosen layer or an output class, one picture or a
mosaic, the recipe (preset, steps, learning rate, seed), and Start, Stop, Save PNG."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from filterscope.core.visualize.layers import LayerInfo
from filterscope.core.visualize.settings import CLASS, FILTER, PRESETS, AscentSettings, Target, preset

PRESET_TEXT = {"chapter": "chapter: the chapter's recipe",
               "clean": "clean: jitter, blur, decay, total variation, octaves"}


class AscentControlsWidget(QWidget):
    """The controls of a gradient ascent; sig_changed when what Start would do changes."""

    sig_changed = Signal()
    """A setting changed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layer: LayerInfo | None = None
        self._classes: list[str] | None = None
        self._classes_note = "Load a model first."
        self.kind_combo = QComboBox()
        self.kind_combo.addItem("A filter of the chosen layer", FILTER)
        self.kind_combo.addItem("An output class", CLASS)
        self.filter_spin = QSpinBox(minimum=0, maximum=0)
        self.class_combo = QComboBox(editable=True)
        self.class_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.class_combo.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.class_combo.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.mosaic_box = QCheckBox("Mosaic of")
        self.mosaic_spin = QSpinBox(minimum=2, maximum=256, value=16, suffix=" pictures")
        self.mosaic_spin.setToolTip("The next filters (or classes) from the one chosen, optimised "
                                    "together as one batch")
        self.preset_combo = QComboBox()
        for name in PRESETS:
            self.preset_combo.addItem(PRESET_TEXT.get(name, name), name)
        self.steps_spin = QSpinBox(minimum=1, maximum=100_000, value=PRESETS["chapter"].steps)
        self.lr_spin = QDoubleSpinBox(decimals=4, minimum=0.0, maximum=1000.0, singleStep=0.01)
        self.lr_spin.setSpecialValueText("the preset's")
        self.lr_spin.setToolTip("Step size in the model's input units; the chapter's is 0.1 for "
                                "filters and 0.01 for classes")
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Paint a new picture (one being painted is stopped)")
        self.stop_button = QPushButton("Stop")
        self.save_button = QPushButton("Save PNG…")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self._build_layout()
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        self.preset_combo.currentIndexChanged.connect(self._on_preset_changed)
        for spin in (self.filter_spin, self.mosaic_spin, self.steps_spin, self.seed_spin):
            spin.valueChanged.connect(self.sig_changed)
        self.lr_spin.valueChanged.connect(self.sig_changed)
        self.class_combo.currentIndexChanged.connect(self.sig_changed)
        self.mosaic_box.toggled.connect(self.sig_changed)
        self._on_kind_changed()

    def _build_layout(self) -> None:
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Paint", self.kind_combo)
        form.addRow("Filter", self.filter_spin)
        form.addRow("Class", self.class_combo)
        mosaic = QHBoxLayout()
        mosaic.addWidget(self.mosaic_box)
        mosaic.addWidget(self.mosaic_spin, 1)
        form.addRow("", mosaic)
        form.addRow("Preset", self.preset_combo)
        form.addRow("Steps", self.steps_spin)
        form.addRow("Learning rate", self.lr_spin)
        form.addRow("Seed", self.seed_spin)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.save_button):
            buttons.addWidget(button)
        form.addRow(buttons)
        form.addRow(self.hint)
        self._form = form

    def kind(self) -> str:
        """``filter`` or ``class``."""
        return self.kind_combo.currentData()

    def set_layer(self, layer: LayerInfo | None) -> None:
        """The layer whose filters Start paints (its filter count bounds the filter index)."""
        self._layer = layer
        self.filter_spin.setMaximum(max((layer.channels or 1) - 1, 0) if layer else 0)
        self.filter_spin.setSuffix(f" of 0 to {layer.channels - 1}" if layer and layer.conv else "")
        self.sig_changed.emit()

    def set_classes(self, names: list[str] | None, note: str | None = None) -> None:
        """The model's class names (None: it has none, ``note`` says why)."""
        self._classes, self._classes_note = names, note or "The model has no classes."
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItems([f"{i}: {name}" for i, name in enumerate(names or [])])
        self.class_combo.blockSignals(False)
        self.kind_combo.model().item(1).setEnabled(bool(names))
        if not names and self.kind() == CLASS:
            self.kind_combo.setCurrentIndex(0)
        self.sig_changed.emit()

    def problem(self) -> str | None:
        """Why Start cannot paint with these settings, or None."""
        if self.kind() == CLASS:
            return None if self._classes else self._classes_note
        if self._layer is None:
            return "Load a model and choose a layer."
        if not self._layer.conv:
            return (f"{self._layer.name} ({self._layer.kind}) is not a convolution: choose one (in "
                    "bold) to paint its filters.")
        return None

    def target(self) -> Target:
        """What Start paints: the filter (or class) chosen, or a mosaic from it on."""
        if self.kind() == CLASS:
            first, count = max(self.class_combo.currentIndex(), 0), len(self._classes or [])
        else:
            first, count = self.filter_spin.value(), self._layer.channels or 0
        last = min(first + self.mosaic_spin.value(), count) if self.mosaic_box.isChecked() else first + 1
        indices = range(first, max(last, first + 1))
        return Target.classes(list(indices)) if self.kind() == CLASS else \
            Target.filters(self._layer.name, indices)

    def settings(self) -> AscentSettings:
        """The recipe shown.

        Raises:
            VisualizeError: A value the recipe refuses.
        """
        lr = self.lr_spin.value() or None
        return preset(self.preset_combo.currentData(), steps=self.steps_spin.value(), lr=lr,
                      seed=self.seed_spin.value())

    def set_running(self, running: bool) -> None:
        """Start while idle (and the settings can paint), Stop while painting."""
        problem = self.problem()
        self.start_button.setEnabled(problem is None)
        self.stop_button.setEnabled(running)
        self.hint.setText(problem or "")

    @Slot()
    def _on_kind_changed(self) -> None:
        filters = self.kind() == FILTER
        self._form.setRowVisible(self.filter_spin, filters)
        self._form.setRowVisible(self.class_combo, not filters)
        self.mosaic_spin.setSuffix(" filters" if filters else " classes")
        self.sig_changed.emit()

    @Slot()
    def _on_preset_changed(self) -> None:
        self.steps_spin.setValue(PRESETS[self.preset_combo.currentData()].steps)
        self.lr_spin.setValue(0.0)
        self.sig_changed.emit()
