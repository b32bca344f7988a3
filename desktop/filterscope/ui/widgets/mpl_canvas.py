"""An embedded matplotlib figure (never pyplot: the app owns its figures)."""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtWidgets import QSizePolicy, QWidget


class MplCanvasWidget(FigureCanvasQTAgg):
    """A Figure in a Qt widget; callers draw on ``figure`` and call ``draw_idle()``."""

    def __init__(self, parent: QWidget | None = None, *, width: float = 4, height: float = 3) -> None:
        super().__init__(Figure(figsize=(width, height), layout="constrained"))
        self.setParent(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(160)
