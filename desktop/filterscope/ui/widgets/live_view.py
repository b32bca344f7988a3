"""The Live tab's view: the frame (or Grad-CAM over it), the top classes as bars, the chosen
layer's feature maps, the controls (Start, Stop, Freeze, Step, Save frame) and a status line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.base.formats import percent
from filterscope.ui.widgets.image_view import ImageViewWidget
from filterscope.ui.widgets.prediction_bars import PredictionBarsWidget

if TYPE_CHECKING:
    from filterscope.core.live.loop import LiveFrame

ERROR_STYLE = "color: #b00020"


class LiveViewWidget(QWidget):
    """Shows the latest frame processed; the tab wires the buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame_view = ImageViewWidget()
        self.maps_view = ImageViewWidget()
        self.maps_label = QLabel()
        self.bars = PredictionBarsWidget()
        self.status = QLabel("Choose a source and a model, then press Start.")
        self.status.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.freeze_button = QPushButton("Freeze")
        self.freeze_button.setCheckable(True)
        self.freeze_button.setToolTip("Stop reading frames; the last one stays shown")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("While frozen: read and predict one more frame")
        self.save_button = QPushButton("Save frame…")
        self.save_button.setToolTip("Save the frame shown as a PNG file (never into a dataset folder)")
        self.network_button = QPushButton("Network view")
        self.network_button.setToolTip("The frame shown through every layer of the model (the "
                                       "Visualise tab's Network page); click a map there to see "
                                       "its arithmetic in the Filters tab")
        self._build_layout()

    def _build_layout(self) -> None:
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(QLabel("<b>Top classes</b>"))
        side_layout.addWidget(self.bars)
        side_layout.addWidget(self.maps_label)
        side_layout.addWidget(self.maps_view, 1)
        pictures = QGridLayout()
        pictures.addWidget(self.frame_view, 0, 0)
        pictures.addWidget(side, 0, 1)
        pictures.setColumnStretch(0, 3)
        pictures.setColumnStretch(1, 2)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.freeze_button, self.step_button,
                       self.save_button, self.network_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(pictures, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.show_maps(None, None)

    def show_frame(self, frame: LiveFrame) -> None:
        """The frame (Grad-CAM over it when computed), its top classes (calibrated when the run
        has a temperature), the maps, a status line."""
        self.frame_view.set_image(frame.rgb if frame.heatmap is None else frame.heatmap)
        self.bars.set_top(frame.classes, frame.calibrated)
        self.show_maps(frame.maps, frame.layer)
        what = f"frame {frame.index:,}: {frame.classes[0]} {percent(frame.calibrated[0])}"
        timing = f"{1000 * frame.seconds:.0f} ms" + (f", {frame.dropped} dropped" if frame.dropped else "")
        self.set_status(f"{what} ({timing})" + (f". {frame.note}" if frame.note else ""), bool(frame.note))

    def show_maps(self, maps, layer: str | None) -> None:
        """The feature maps' mosaic, or nothing (hidden) without one."""
        self.maps_view.setVisible(maps is not None)
        self.maps_label.setVisible(maps is not None)
        if maps is not None:
            self.maps_label.setText(f"Feature maps of <b>{layer}</b>")
            self.maps_view.set_image(maps)

    def set_status(self, text: str, error: bool = False) -> None:
        """A line under the controls; an error in red."""
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def clear(self) -> None:
        """No frame shown."""
        self.frame_view.set_image(None)
        self.bars.clear()
        self.show_maps(None, None)
