"""What the Visualise tab shows of a model, as pages: the gradient ascent, an image's feature
maps and Grad-CAM, the image through every layer (the network), a digit drawn by hand, a convolution's weights and the ascent as TensorFlow code. Only the page in
view is computed, when it is shown."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget

from filterscope.core.visualize.layers import LayerInfo
from filterscope.core.visualize.session import VisualSession
from filterscope.ui.widgets.ascent_view import AscentViewWidget
from filterscope.ui.widgets.code_view import CodeViewWidget
from filterscope.ui.widgets.draw_page import DrawPageWidget
from filterscope.ui.widgets.image_probe import ImageProbeWidget
from filterscope.ui.widgets.network_page import NetworkPageWidget
from filterscope.ui.widgets.weights_view import WeightsViewWidget


class VisualPagesWidget(QTabWidget):
    """The six pages; the tab paints the ascent and writes the code (they follow its controls)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ascent = AscentViewWidget()
        self.probe = ImageProbeWidget()
        self.network = NetworkPageWidget()
        self.draw = DrawPageWidget()
        self.weights = WeightsViewWidget()
        self.code = CodeViewWidget("The gradient ascent Start would run, as TensorFlow 2 code "
                                   "(GradientTape): it loads the same model and paints the same pictures.")
        # Short titles: six of them, whole (presentation mode never elides a tab's title), fit a
        # 1280 px projector at 250 % text; each tab's tooltip says what its page shows. "&&" is
        # one "&" (a lone one marks a shortcut).
        for page, title, tip in (
                (self.ascent, "Gradient ascent", "Paint what a filter or a class responds to"),
                (self.probe, "Maps && Grad-CAM", "An image's feature maps and Grad-CAM"),
                (self.network, "Network", "An image through every layer of the model"),
                (self.draw, "Draw", "Draw a digit and watch the model read it"),
                (self.weights, "Weights", "A convolution's weights"),
                (self.code, "Code", "The gradient ascent as TensorFlow 2 code")):
            self.setTabToolTip(self.addTab(page, title), tip)

    def show_model(self, name: str) -> None:
        """Model ``name`` is in use: nothing of the previous one is shown or still computed."""
        self.probe.forget()
        self.weights.forget()
        self.network.forget()
        self.draw.forget()
        self.ascent.clear(f"{name} loaded: choose a layer, then Start.")
        self.probe.show_message(f"{name} loaded.")
        self.weights.show_message(f"{name} loaded.")
        self.network.show_message(f"{name} loaded.")

    def refresh(self, session: VisualSession, layer: LayerInfo) -> None:
        """Compute what the image or the weights page shows of ``layer``, if it is in view."""
        if self.currentWidget() is self.probe:
            self.probe.refresh(session, layer)
        elif self.currentWidget() is self.network:
            self.network.refresh(session)
        elif self.currentWidget() is self.draw:
            self.draw.refresh(session)
        elif self.currentWidget() is self.weights:
            self.weights.refresh(session, layer)
