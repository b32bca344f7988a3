"""The mask's controls: distance, combine rule, output mode, clean-up size and the targets."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.masking.colordist import MaskParams, Target
from filterscope.ui.widgets.target_row import TargetRowWidget

DEFAULT_THRESHOLD = {"redmean": 1600.0, "cielab": 12.0}


class MaskControlsWidget(QWidget):
    """Edits a MaskParams; emits the new value on every change."""

    sig_params_changed = Signal(object)
    """The edited MaskParams."""
    sig_status = Signal(str)
    """A short message for the status bar."""

    def __init__(self, params: MaskParams, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._params = params
        self.distance_combo = QComboBox()
        self.distance_combo.addItem("Redmean RGB (the chapter's)", "redmean")
        self.distance_combo.addItem("CIELAB ΔE (perceptual)", "cielab")
        self.combine_combo = QComboBox()
        self.combine_combo.addItem("Keep if near any target (chapter)", "any")
        self.combine_combo.addItem("Keep only if near all targets", "all")
        self.output_combo = QComboBox()
        for text, value in (("Black background (fast)", "black"),
                            ("Chapter: median over the masked image", "chapter"),
                            ("Transparent background", "alpha"), ("Mask only", "mask")):
            self.output_combo.addItem(text, value)
        self.median_slider = QSlider(Qt.Orientation.Horizontal)
        self.median_slider.setRange(0, 15)
        self.median_label = QLabel()
        self.median_label.setMinimumWidth(70)
        self.median_slider.setToolTip("Clean-up: median window 2n+1 that removes specks "
                                      "(the chapter uses a 9x9 window)")
        self.targets_box = QWidget()
        self.targets_layout = QVBoxLayout(self.targets_box)
        self.targets_layout.setContentsMargins(0, 0, 0, 0)
        self.targets_layout.addStretch(1)
        self.rows: list[TargetRowWidget] = []
        self.add_button = QPushButton("Add target")
        self.pick_button = QPushButton("Eyedropper")
        self.pick_button.setCheckable(True)
        self.pick_button.setToolTip("Click the original image to keep that colour")
        form = QFormLayout()
        form.addRow("Distance", self.distance_combo)
        form.addRow("Combine", self.combine_combo)
        form.addRow("Output", self.output_combo)
        clean_up = QHBoxLayout()
        clean_up.addWidget(self.median_slider, 1)
        clean_up.addWidget(self.median_label)
        form.addRow("Clean-up", clean_up)
        scroll = QScrollArea()
        scroll.setWidget(self.targets_box)
        scroll.setWidgetResizable(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.pick_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(QLabel("Targets (colour, largest distance kept)"))
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.set_params(params, emit=False)
        self.distance_combo.currentIndexChanged.connect(self._on_distance_changed)
        for combo in (self.combine_combo, self.output_combo):
            combo.currentIndexChanged.connect(self._on_control_changed)
        self.median_slider.valueChanged.connect(self._on_control_changed)
        self.add_button.clicked.connect(self._on_add_clicked)

    def params(self) -> MaskParams:
        """The current settings."""
        return self._params

    def set_params(self, params: MaskParams, *, emit: bool = True) -> None:
        """Show ``params`` in the controls (one change signal at most)."""
        self._params = params
        widgets = (self.distance_combo, self.combine_combo, self.output_combo, self.median_slider)
        for widget in widgets:
            widget.blockSignals(True)
        self.distance_combo.setCurrentIndex(self.distance_combo.findData(params.distance))
        self.combine_combo.setCurrentIndex(self.combine_combo.findData(params.combine))
        self.output_combo.setCurrentIndex(self.output_combo.findData(params.output))
        self.median_slider.setValue((params.median - 1) // 2)
        self._show_median(params.median)
        for widget in widgets:
            widget.blockSignals(False)
        for row in self.rows:
            row.deleteLater()
        self.rows = []
        for target in params.targets:
            self._add_row(target)
        if emit:
            self.sig_params_changed.emit(params)

    def add_target(self, rgb: tuple[int, int, int]) -> None:
        """Add a colour to keep, with the distance's default threshold."""
        self._add_row(Target(rgb, DEFAULT_THRESHOLD[self._params.distance]))
        self._on_control_changed()

    def _add_row(self, target: Target) -> None:
        row = TargetRowWidget(target, self._params.distance)
        row.sig_changed.connect(self._on_control_changed)
        row.sig_removed.connect(self._on_row_removed)
        self.targets_layout.insertWidget(len(self.rows), row)
        self.rows.append(row)

    def _show_median(self, size: int) -> None:
        self.median_label.setText("off" if size == 1 else f"{size}×{size} median")

    @Slot()
    def _on_control_changed(self) -> None:
        self._params = replace(
            self._params, targets=tuple(row.target() for row in self.rows),
            distance=self.distance_combo.currentData(), combine=self.combine_combo.currentData(),
            output=self.output_combo.currentData(), median=2 * self.median_slider.value() + 1,
            name="")
        self._show_median(self._params.median)
        self.sig_params_changed.emit(self._params)

    @Slot()
    def _on_distance_changed(self) -> None:
        # Thresholds are in the distance's own units: start each target from its default.
        distance = self.distance_combo.currentData()
        targets = tuple(Target(t.rgb, DEFAULT_THRESHOLD[distance]) for t in self._params.targets)
        self.set_params(replace(self._params, distance=distance, targets=targets, name=""))

    @Slot()
    def _on_add_clicked(self) -> None:
        self.add_target((71, 86, 38))

    @Slot()
    def _on_row_removed(self) -> None:
        row = self.sender()
        if len(self.rows) > 1 and row in self.rows:
            self.rows.remove(row)
            row.deleteLater()
            self._on_control_changed()
        else:
            self.sig_status.emit("A mask needs at least one target colour")
