"""What to paint and how: a filter of the chosen layer or an output class, one picture or a
mosaic, the recipe (preset, steps, learning rate, seed), and Start, Stop, Save PNG. The controls
are bound to the Visualise tab's :class:`~filterscope.core.visualize.settings.VisualizeSettings`."""

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
from filterscope.core.visualize.settings import CLASS, FILTER, Target, VisualizeSettings
from filterscope.ui.binding import bind, control_for, setting_of


class AscentControlsWidget(QWidget):
    """The controls of a gradient ascent, bound to a VisualizeSettings; sig_changed when what
    Start would do changes."""

    sig_changed = Signal()
    """A setting changed (or the layer, or the classes)."""

    def __init__(self, settings: VisualizeSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._layer: LayerInfo | None = None
        self._classes: list[str] | None = None
        self._classes_note = "Load a model first."
        self.kind_combo = QComboBox()
        self.filter_spin = QSpinBox()
        self.class_combo = QComboBox(editable=True)
        self.class_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.class_combo.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.class_combo.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.mosaic_box = QCheckBox()
        self.mosaic_spin = QSpinBox()
        self.preset_combo = QComboBox()
        self.steps_spin = QSpinBox()
        self.lr_spin = QDoubleSpinBox()
        self.seed_spin = control_for(setting_of(settings, "seed"))
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Paint a new picture (one being painted is stopped)")
        self.stop_button = QPushButton("Stop")
        self.save_button = QPushButton("Save PNG…")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self._build_layout()
        for widget, name in ((self.kind_combo, "kind"), (self.filter_spin, "filter"),
                             (self.class_combo, "class_index"), (self.mosaic_box, "mosaic"),
                             (self.mosaic_spin, "mosaic_count"), (self.preset_combo, "preset"),
                             (self.steps_spin, "steps"), (self.lr_spin, "lr"), (self.seed_spin, "seed")):
            bind(widget, settings, name, self._on_binding_error)
        settings.events.connect(self._on_settings_changed)
        self._on_settings_changed()

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
        return self.settings.kind

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
        for i, name in enumerate(names or []):
            self.class_combo.addItem(f"{i}: {name}", i)
        self.class_combo.setCurrentIndex(self.class_combo.findData(self.settings.class_index))
        self.class_combo.blockSignals(False)
        self.kind_combo.model().item(1).setEnabled(bool(names))
        if not names and self.kind() == CLASS:
            self.settings.kind = FILTER
        self.sig_changed.emit()

    def problem(self) -> str | None:
        """Why Start cannot paint with these settings, or None."""
        if self.kind() == CLASS:
            if not self._classes:
                return self._classes_note
            return None if self.settings.class_index < len(self._classes) else \
                f"The model has {len(self._classes)} classes: choose one of them."
        if self._layer is None:
            return "Load a model and choose a layer."
        if not self._layer.conv:
            return (f"{self._layer.name} ({self._layer.kind}) is not a convolution: choose one (in "
                    "bold) to paint its filters.")
        if self.settings.filter >= (self._layer.channels or 0):
            return f"{self._layer.name} has {self._layer.channels} filters: choose one of them."
        return None

    def target(self) -> Target:
        """What Start paints: the filter (or class) chosen, or a mosaic from it on."""
        settings = self.settings
        if self.kind() == CLASS:
            first, count = settings.class_index, len(self._classes or [])
        else:
            first, count = settings.filter, self._layer.channels or 0
        last = min(first + settings.mosaic_count, count) if settings.mosaic else first + 1
        indices = range(first, max(last, first + 1))
        return Target.classes(list(indices)) if self.kind() == CLASS else \
            Target.filters(self._layer.name, indices)

    def set_running(self, running: bool) -> None:
        """Start while idle (and the settings can paint), Stop while painting."""
        problem = self.problem()
        self.start_button.setEnabled(problem is None)
        self.stop_button.setEnabled(running)
        self.hint.setText(problem or "")

    def _on_binding_error(self, _path: str, message: str) -> None:
        if message:
            self.hint.setText(message)

    @Slot()
    def _on_settings_changed(self) -> None:
        filters = self.kind() == FILTER
        self._form.setRowVisible(self.filter_spin, filters)
        self._form.setRowVisible(self.class_combo, not filters)
        self.mosaic_spin.setSuffix(" filters" if filters else " classes")
        self.sig_changed.emit()
