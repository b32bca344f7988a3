"""A convolution's learned kernels drawn as small pictures (in the background, once per layer),
with what the colours mean."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from filterscope.core.visualize.jobs import WeightsPicture, draw_weights
from filterscope.core.visualize.layers import LayerInfo
from filterscope.core.visualize.session import VisualSession
from filterscope.ui.widgets.image_view import ImageViewWidget
from filterscope.workers import JobRunner


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
        self.runner = JobRunner(self, on_result=self.show_weights, on_failure=self.caption.setText)
        self._drawn: tuple[str | None] | None = None  # the convolution drawn (None: the first)

    def refresh(self, session: VisualSession, layer: LayerInfo) -> None:
        """Draw the kernels of ``layer`` (a job), or of the first convolution when ``layer`` is
        none, unless they are drawn already."""
        conv = layer.name if layer.conv else None
        if self._drawn != (conv,):
            self._drawn = (conv,)
            self.runner.start(draw_weights, session, conv)

    def forget(self) -> None:
        """Another model is in use: what is being drawn is dropped, and the next refresh draws."""
        self.runner.cancel()
        self._drawn = None

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
