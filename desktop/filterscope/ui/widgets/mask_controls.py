"""The mask's controls: distance, combine rule, output mode, clean-up size and the targets, bound
to the Mask tab's :class:`~filterscope.core.masking.settings.MaskSettings`."""

from __future__ import annotations

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
from filterscope.core.masking.settings import MaskSettings
from filterscope.ui.binding import bind
from filterscope.ui.widgets.target_row import TargetRowWidget

class MaskControlsWidget(QWidget):
    """Shows and edits the MaskSettings it is given (see ``core.masking.settings``)."""

    sig_status = Signal(str)
    """A short message for the status bar."""

    def __init__(self, settings: MaskSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._shown: tuple | None = None  # (distance, colours) the target rows were made for
        self.distance_combo = QComboBox()
        self.combine_combo = QComboBox()
        self.output_combo = QComboBox()
        self.median_slider = QSlider(Qt.Orientation.Horizontal)  # a position per odd window: 1, 3, 5...
        self.median_label = QLabel()
        self.median_label.setMinimumWidth(70)
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
        for combo, name in ((self.distance_combo, "distance"), (self.combine_combo, "combine"),
                            (self.output_combo, "output")):
            bind(combo, settings, f"params.{name}", lambda _path, message: self.sig_status.emit(message))
        bind(self.median_slider, settings, "params.median", lambda _path, message: self.sig_status.emit(message))
        self.add_button.clicked.connect(self._on_add_clicked)
        settings.events.params.connect(self._show)
        self._show()

    def params(self) -> MaskParams:
        """The current settings."""
        return self.settings.params

    def add_target(self, rgb: tuple[int, int, int]) -> None:
        """Add a colour to keep, with the distance's default threshold."""
        self.settings.add_target(rgb)

    @Slot()
    def _show(self) -> None:
        """The clean-up and the targets of the settings: rows made again only when the targets'
        colours or the distance changed, so a slider being dragged stays under the mouse."""
        params = self.settings.params
        self.median_label.setText("off" if params.median == 1 else f"{params.median}×{params.median} median")
        shown = (params.distance, tuple(t.rgb for t in params.targets))
        if shown != self._shown:
            self._shown = shown
            for row in self.rows:
                row.deleteLater()
            self.rows = []
            for target in params.targets:
                self._add_row(target, params.distance)
        for row, target in zip(self.rows, params.targets):
            row.show_threshold(target.threshold)

    def _add_row(self, target: Target, distance: str) -> None:
        row = TargetRowWidget(target, distance)
        row.sig_threshold_changed.connect(self._on_row_threshold_changed)
        row.sig_colour_changed.connect(self._on_row_colour_changed)
        row.sig_removed.connect(self._on_row_removed)
        self.targets_layout.insertWidget(len(self.rows), row)
        self.rows.append(row)

    @Slot(float)
    def _on_row_threshold_changed(self, threshold: float) -> None:
        if self.sender() in self.rows:
            self.settings.set_target(self.rows.index(self.sender()), threshold=threshold)

    @Slot(object)
    def _on_row_colour_changed(self, rgb: tuple[int, int, int]) -> None:
        if self.sender() in self.rows:
            self.settings.set_target(self.rows.index(self.sender()), rgb=rgb)

    @Slot()
    def _on_add_clicked(self) -> None:
        self.add_target((71, 86, 38))

    @Slot()
    def _on_row_removed(self) -> None:
        row = self.sender()
        if row not in self.rows or not self.settings.remove_target(self.rows.index(row)):
            self.sig_status.emit("A mask needs at least one target colour")
