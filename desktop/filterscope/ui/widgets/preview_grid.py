"""The augmented versions of a preview, as a grid of pictures that scrolls and wraps to the
column's width (at most four to a row), so that the Augment tab fits a projector's window."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QWidget

from filterscope.ui.widgets.model_view import picture

PREVIEW_SIDE, PREVIEW_COLUMNS = 170, 4  # the preview grid's pictures, and most to a row


class PreviewGridWidget(QScrollArea):
    """Shows a preview's pictures (see :meth:`show_images`), rearranged when its width changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pictures: list[QLabel] = []
        self.grid = QGridLayout()
        grid_box = QWidget()
        grid_box.setLayout(self.grid)
        self.setWidget(grid_box)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().installEventFilter(self)

    def show_images(self, images: list[np.ndarray]) -> None:
        """Show these pictures instead of the current ones."""
        self.clear()
        self._pictures = [picture(image, PREVIEW_SIDE) for image in images]
        self._arrange()

    def clear(self) -> None:
        """Show no pictures."""
        for label in self._pictures:
            self.grid.removeWidget(label)
            label.deleteLater()
        self._pictures = []

    def columns(self) -> int:
        """Pictures per row: as many as fit the column's width, at most four."""
        spacing = max(self.grid.horizontalSpacing(), 0)
        margins = self.grid.contentsMargins()
        width = self.viewport().width() - margins.left() - margins.right()
        fit = (width + spacing) // (PREVIEW_SIDE + spacing)
        return min(max(fit, 1), PREVIEW_COLUMNS)

    def _arrange(self) -> None:
        for label in self._pictures:  # no layout items handed to Python (their wrappers outlived them)
            self.grid.removeWidget(label)
        columns = self.columns()
        for i, label in enumerate(self._pictures):
            self.grid.addWidget(label, i // columns, i % columns)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.viewport() and event.type() == QEvent.Type.Resize and self._pictures:
            self._arrange()
        return super().eventFilter(watched, event)
