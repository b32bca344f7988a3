"""A convolution's learned kernels drawn as small pictures, with what the colours mean."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from filterscope.core.visualize.jobs import WeightsPicture
from filterscope.ui.widgets.image_view import ImageViewWidget


class WeightsViewWidget(QWidget):
    """The kernels of one layer and a caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ImageViewWidget()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)

    def show_weights(self, drawn: WeightsPicture) -> None:
        """Show the kernels and say how they are drawn."""
        weights = drawn.weights
        kh, kw, channels, filters = weights.kernels.shape
        how = ("in colour (0.5 gray is a zero weight)" if weights.colour else
               "for the first input channel, blue negative, red positive")
        self.view.set_image(drawn.picture)
        self.caption.setText(
            f"{weights.layer}: {filters} filters of {kh} × {kw} × {channels}; "
            f"{'all' if drawn.shown == filters else f'the first {drawn.shown}'} drawn {how}, "
            f"on one scale (largest weight {weights.vmax:.3g}).")

    def show_message(self, text: str) -> None:
        """No kernels (another model is in use, or drawing failed): ``text`` says why."""
        self.view.set_image(None)
        self.caption.setText(text)
