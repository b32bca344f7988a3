"""The augmented versions of a preview, as a grid of pictures that scrolls and wraps to the
column's width (at most four to a row) and shrinks them until two rows show, so that the
Augment tab fits a projector's window."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QWidget

from filterscope.ui.widgets.model_view import picture

PREVIEW_SIDE, PREVIEW_COLUMNS = 170, 4  # the preview grid's pictures (at most), and most to a row
MIN_SIDE = 72  # the least a picture shrinks to so that two rows show
ROWS = 2  # rows of pictures in view, so the versions compare at a glance


class PreviewGridWidget(QScrollArea):
    """Shows a preview's pictures (see :meth:`show_images`), rearranged when its size changes:
    as many to a row as fit the width (at most four), each small enough for two rows to show in
    the height it has (presentation mode's large text leaves a projector's window little)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images: list[np.ndarray] = []
        self._pictures: list[QLabel] = []
        self._side = 0  # the pictures' side as made
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
        self._images = list(images)
        self._make_pictures()

    def clear(self) -> None:
        """Show no pictures."""
        self._images = []
        self._make_pictures()

    def side(self) -> int:
        """The pictures' side for the current height: two rows in view, at most PREVIEW_SIDE."""
        spacing = max(self.grid.verticalSpacing(), 0)
        margins = self.grid.contentsMargins()
        height = self.viewport().height() - margins.top() - margins.bottom() - spacing * (ROWS - 1)
        return max(MIN_SIDE, min(PREVIEW_SIDE, height // ROWS))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        spacing = max(self.grid.verticalSpacing(), 0)
        margins = self.grid.contentsMargins()
        return QSize(MIN_SIDE, ROWS * MIN_SIDE + spacing * (ROWS - 1) + margins.top() + margins.bottom())

    def columns(self) -> int:
        """Pictures per row: as many as fit the column's width, at most four."""
        spacing = max(self.grid.horizontalSpacing(), 0)
        margins = self.grid.contentsMargins()
        width = self.viewport().width() - margins.left() - margins.right()
        fit = (width + spacing) // (self.side() + spacing)
        return min(max(fit, 1), PREVIEW_COLUMNS)

    def _make_pictures(self) -> None:
        for label in self._pictures:
            self.grid.removeWidget(label)
            label.deleteLater()
        self._side = self.side()
        self._pictures = [picture(image, self._side) for image in self._images]
        self._arrange()

    def _arrange(self) -> None:
        for label in self._pictures:  # no layout items handed to Python (their wrappers outlived them)
            self.grid.removeWidget(label)
        columns = self.columns()
        for i, label in enumerate(self._pictures):
            self.grid.addWidget(label, i // columns, i % columns)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.viewport() and event.type() == QEvent.Type.Resize and self._pictures:
            if self.side() != self._side:
                self._make_pictures()
            else:
                self._arrange()
        return super().eventFilter(watched, event)
