"""One mask target: its colour (click to change) and its threshold as a labelled slider."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QHBoxLayout, QPushButton, QToolButton, QWidget
from superqt import QLabeledDoubleSlider

from filterscope.core.masking.colordist import MAX_THRESHOLD, Target

# Slider ranges that cover sensible thresholds; presets may go beyond (the spin box accepts it).
SLIDER_MAX = {"redmean": 10_000.0, "cielab": 60.0}


class TargetRowWidget(QWidget):
    """Shows a Target; emits what the user changed (the Mask settings model makes the Target)."""

    sig_threshold_changed = Signal(float)
    """The threshold the slider was moved to."""
    sig_colour_changed = Signal(object)
    """The (r, g, b) colour picked."""
    sig_removed = Signal()
    """The user asked to remove this target."""

    def __init__(self, target: Target, distance: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rgb = target.rgb
        self.swatch = QPushButton()
        self.swatch.setMinimumWidth(84)
        self.swatch.setToolTip("Target colour: click to change")
        self.slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0.0, max(SLIDER_MAX[distance], target.threshold))
        self.slider.setDecimals(0 if distance == "redmean" else 1)
        self.slider.setValue(target.threshold)
        self.slider.setToolTip(f"Largest {distance} distance from this colour that is still kept "
                               f"(0 to {MAX_THRESHOLD[distance]:g})")
        self.remove = QToolButton(text="✕")
        self.remove.setToolTip("Remove this target")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.swatch)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.remove)
        self._paint_swatch()
        self.swatch.clicked.connect(self._on_swatch_clicked)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.remove.clicked.connect(self.sig_removed)

    def show_threshold(self, threshold: float) -> None:
        """Show the model's threshold (not echoed back as an edit)."""
        if float(self.slider.value()) != threshold:
            with QSignalBlocker(self.slider):
                self.slider.setValue(threshold)

    def _paint_swatch(self) -> None:
        r, g, b = self._rgb
        text = "#000" if (r * 299 + g * 587 + b * 114) > 128_000 else "#fff"
        self.swatch.setStyleSheet(f"background: rgb({r},{g},{b}); color: {text}")
        self.swatch.setText(f"{r},{g},{b}")

    @Slot()
    def _on_swatch_clicked(self) -> None:
        colour = QColorDialog.getColor(QColor(*self._rgb), self, "Target colour")
        if colour.isValid():
            self.sig_colour_changed.emit((colour.red(), colour.green(), colour.blue()))

    @Slot(float)
    def _on_slider_value_changed(self, value: float) -> None:
        self.sig_threshold_changed.emit(float(value))
