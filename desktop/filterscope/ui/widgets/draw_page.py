"""The Visualise tab's drawing page: draw a digit and watch the model read it, live: the 28 × 28
digit it sees (made as MNIST's were), its probabilities, Grad-CAM of its best class, and the
digit through every layer, whose tiles open the Filters tab as on the network page."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from filterscope.core.base.formats import percent
from filterscope.core.filters.kernels import format_number
from filterscope.core.visualize.jobs import DrawnDigit, look_at_drawing
from filterscope.core.visualize.session import VisualSession
from filterscope.ui.widgets.digit_canvas import DigitCanvasWidget
from filterscope.ui.widgets.image_probe import SIDE, pixmap
from filterscope.ui.widgets.network_page import clicked_step
from filterscope.ui.widgets.network_view import BarsWidget, NetworkViewWidget
from filterscope.workers import JobRunner

CANVAS_SIDE = 220  # screen pixels
HINT = ("Draw a digit in the black square (mouse or pen). The model reads it as you draw; click a "
        "tile of a convolution, a ReLU or a max pooling to see the Filters tab work it out.")


class DrawPageWidget(QWidget):
    """A canvas and what the model makes of the drawing (:meth:`refresh` gives the model)."""

    sig_step = Signal(object)
    """A clicked tile's :class:`~filterscope.core.filters.model_step.ModelStep`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session: VisualSession | None = None
        self._ink: np.ndarray | None = None
        self._computed: tuple | None = None  # (session, drawing) shown
        self.runner = JobRunner(self, on_result=self._on_drawing_read, on_failure=self._on_failed)
        self.canvas = DigitCanvasWidget()
        self.clear_button = QPushButton("Clear")
        self.fed = QLabel()
        self.fed.setFixedSize(SIDE // 2, SIDE // 2)
        self.cam = QLabel()
        self.cam.setFixedSize(SIDE // 2, SIDE // 2)
        self.answer = QLabel()
        self.answer.setWordWrap(True)
        self.bars = BarsWidget()
        self.view = NetworkViewWidget()
        self.note = QLabel(HINT)
        self.note.setWordWrap(True)
        self._build_layout()
        self.canvas.sig_drawn.connect(self._on_canvas_drawn)
        self.clear_button.clicked.connect(self._on_clear_clicked)
        self.view.sig_tile_clicked.connect(self._on_view_tile_clicked)

    def _build_layout(self) -> None:
        top = QWidget()
        grid = QGridLayout(top)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.canvas, 0, 0, 3, 1)
        grid.addWidget(self.clear_button, 3, 0)
        grid.addWidget(QLabel("What the model sees"), 0, 1)
        grid.addWidget(self.fed, 1, 1)
        grid.addWidget(QLabel("Grad-CAM"), 0, 2)
        grid.addWidget(self.cam, 1, 2)
        grid.addWidget(self.answer, 2, 1, 1, 2)
        grid.addWidget(self.bars, 0, 3, 4, 1)
        grid.setColumnStretch(3, 1)
        grid.setRowStretch(2, 1)
        # The canvas large enough to draw on with a mouse, and no larger: the layers need the room.
        self.canvas.setFixedSize(CANVAS_SIDE, CANVAS_SIDE)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.view)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.note)

    def forget(self) -> None:
        """Another model: the drawing is read again by it."""
        self.runner.cancel()
        self._session, self._computed = None, None
        self.view.clear()

    def refresh(self, session: VisualSession) -> None:
        """Read the drawing with ``session``'s model unless it is read already."""
        self._session = session
        if self._ink is not None and self._computed != (session, id(self._ink)):
            self._computed = (session, id(self._ink))
            self.runner.start(look_at_drawing, session, self._ink)

    def _on_canvas_drawn(self, ink: np.ndarray) -> None:
        self._ink = ink
        if self._session is not None:
            self.refresh(self._session)

    def _on_clear_clicked(self) -> None:
        self.runner.cancel()
        self.canvas.clear()
        self._ink, self._computed = None, None
        for label in (self.fed, self.cam, self.answer):
            label.clear()
        self.bars.set_bars([])
        self.view.clear()
        self.note.setText(HINT)

    def _on_drawing_read(self, drawn: DrawnDigit) -> None:
        network = drawn.network
        self.fed.setPixmap(pixmap(network.image.fed, SIDE // 2))
        if drawn.overlay is not None:
            self.cam.setPixmap(pixmap(drawn.overlay, SIDE // 2))
        if network.probabilities is not None:
            names = network.class_names or [str(i) for i in range(len(network.probabilities))]
            best = int(np.argmax(network.probabilities))
            self.answer.setText(f"The model reads <b>{html.escape(names[best])}</b> "
                                f"({percent(float(network.probabilities[best]))}).")
            self.bars.set_bars([(names[i], float(p), f"{format_number(100 * float(p), 1)} %")
                                for i, p in enumerate(network.probabilities)])
        self.view.show_view(network)
        self.note.setText(drawn.note or HINT)

    def _on_failed(self, message: str) -> None:
        self.note.setText(message)

    def _on_view_tile_clicked(self, index: int, row: int, col: int, channel: int) -> None:
        step = clicked_step(self.view, self.note, HINT, (index, row, col, channel))
        if step is not None:
            self.sig_step.emit(step)
