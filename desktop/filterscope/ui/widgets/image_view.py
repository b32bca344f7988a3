"""A zoomable image viewer that can print pixel values over small grayscale images.

The chapter opens with "what the computer sees": an MNIST seven as a grid of numbers. With
``show_values`` on, every pixel of a grayscale image is labelled with its value once it is drawn
large enough to read.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

MIN_CELL_FOR_VALUES = 18.0  # screen pixels per image pixel before numbers are readable
MAX_ZOOM = 64.0


def to_qimage(rgb: np.ndarray) -> QImage:
    """Copy an (H, W, 3) uint8 RGB array, or a grayscale (H, W) or (H, W, 1) one, into a QImage
    that owns its memory."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    if rgb.ndim == 2 or rgb.shape[2] == 1:
        return QImage(rgb.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()


class ImageViewWidget(QGraphicsView):
    """Shows one image; wheel zooms about the cursor, double-click fits to the window."""

    sig_zoom_changed = Signal(float)
    """The scale factor (screen pixels per image pixel) after a zoom."""
    sig_pixel_clicked = Signal(int, int)
    """Image column and row clicked while picking is on (the eyedropper)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.scene().addItem(self._item)
        self._gray: np.ndarray | None = None
        self._show_values = False
        self._picking = False
        self._user_zoomed = False
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setBackgroundBrush(QColor(40, 40, 40))
        self.setMinimumSize(120, 120)  # three side by side fit a projector beside large text

    def set_image(self, rgb: np.ndarray | None) -> None:
        """Show an RGB uint8 image (None clears); a new size is fitted to the view, an image of
        the same size keeps the user's zoom and scroll (live previews)."""
        if rgb is None:
            self._item.setPixmap(QPixmap())
            self._gray = None
            return
        same_size = self._item.pixmap().size() == QSize(rgb.shape[1], rgb.shape[0])
        self._item.setPixmap(QPixmap.fromImage(to_qimage(rgb)))
        is_gray = bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and
                       np.array_equal(rgb[..., 1], rgb[..., 2]))
        self._gray = rgb[..., 0].copy() if is_gray else None
        if not same_size:
            self.scene().setSceneRect(QRectF(self._item.pixmap().rect()))
            self.fit()

    def set_picking(self, on: bool) -> None:
        """Eyedropper mode: a click reports the pixel under the cursor instead of panning."""
        self._picking = on
        self.setDragMode(QGraphicsView.DragMode.NoDrag if on else QGraphicsView.DragMode.ScrollHandDrag)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._picking and event.button() == Qt.MouseButton.LeftButton:
            point = self.mapToScene(event.position().toPoint())
            rect = self._item.pixmap().rect()
            x, y = int(point.x()), int(point.y())
            if 0 <= x < rect.width() and 0 <= y < rect.height():
                self.sig_pixel_clicked.emit(x, y)
            return
        super().mousePressEvent(event)

    def is_grayscale(self) -> bool:
        """True when the shown image has equal R, G and B everywhere."""
        return self._gray is not None

    def set_show_values(self, on: bool) -> None:
        """Print pixel values over grayscale images once the cells are big enough."""
        self._show_values = on
        self.viewport().update()

    def values_visible(self) -> bool:
        """True when numbers are being drawn right now."""
        return self._show_values and self._gray is not None and self.zoom() >= MIN_CELL_FOR_VALUES

    def zoom(self) -> float:
        """Current scale factor."""
        return self.transform().m11()

    def fit(self) -> None:
        """Scale the image to fill the view, keeping its aspect ratio."""
        if not self._item.pixmap().isNull():
            self._user_zoomed = False
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)
            self.sig_zoom_changed.emit(self.zoom())
            self.viewport().update()

    def zoom_by(self, factor: float) -> None:
        """Multiply the zoom by ``factor`` (clamped); the view then stops following resizes."""
        self._user_zoomed = True
        target = min(max(self.zoom() * factor, 0.02), MAX_ZOOM)
        self.scale(target / self.zoom(), target / self.zoom())
        self.sig_zoom_changed.emit(self.zoom())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        self.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if not self._user_zoomed:
            self.fit()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        if not self.values_visible():
            return
        gray = self._gray
        height, width = gray.shape
        x0, y0 = max(int(rect.left()), 0), max(int(rect.top()), 0)
        x1, y1 = min(int(rect.right()) + 1, width), min(int(rect.bottom()) + 1, height)
        cell = self.zoom()
        font = QFont(self.font())
        font.setPixelSize(max(int(cell * 0.36), 6))
        painter.save()
        painter.resetTransform()  # draw in viewport pixels so the text is crisp at any zoom
        painter.setFont(font)
        for y in range(y0, y1):
            for x in range(x0, x1):
                value = int(gray[y, x])
                corner = self.mapFromScene(QPointF(x, y))
                painter.setPen(QColor(0, 0, 0) if value > 127 else QColor(235, 235, 235))
                painter.drawText(QRectF(corner.x(), corner.y(), cell, cell),
                                 Qt.AlignmentFlag.AlignCenter, str(value))
        painter.restore()
