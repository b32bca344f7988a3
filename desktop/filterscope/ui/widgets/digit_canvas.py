"""A square to draw a digit on with the mouse or a pen: white ink on black, as MNIST's digits
are. The drawing is kept at a fixed resolution (independent of the widget's size on screen) and
sent while drawing (at most every THROTTLE_MS) and when a stroke ends."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

RESOLUTION = 280  # pixels a side of the drawing (ten times MNIST's 28)
PEN = 22  # the pen's width at that resolution: strokes as thick as MNIST's after shrinking
THROTTLE_MS = 250


class DigitCanvasWidget(QWidget):
    """Draw with the left button or a pen; :meth:`clear` starts again."""

    sig_drawn = Signal(object)
    """The drawing so far, (RESOLUTION, RESOLUTION) uint8 ink."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage(RESOLUTION, RESOLUTION, QImage.Format.Format_Grayscale8)
        self._last: QPointF | None = None
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(THROTTLE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.clear()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(RESOLUTION, RESOLUTION)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        return width

    def clear(self) -> None:
        """Wipe the drawing (nothing is sent)."""
        self._image.fill(QColor(0, 0, 0))
        self._last, self._dirty = None, False
        self.update()

    def ink(self) -> np.ndarray:
        """The drawing as (RESOLUTION, RESOLUTION) uint8, 0 where nothing is drawn."""
        pointer = self._image.constBits()
        rows = np.frombuffer(pointer, np.uint8).reshape(RESOLUTION, self._image.bytesPerLine())
        return rows[:, :RESOLUTION].copy()

    def draw_line(self, points: list[tuple[float, float]]) -> None:
        """Draw one stroke through ``points`` (x, y in the drawing's pixels) and send it, as a
        pen or the mouse does."""
        self._stroke_to(QPointF(*points[0]), start=True)
        for x, y in points[1:]:
            self._stroke_to(QPointF(x, y))
        self._end_stroke()

    # --- drawing ------------------------------------------------------------------------------

    def _side(self) -> float:
        return float(min(self.width(), self.height()))

    def _to_drawing(self, point: QPointF) -> QPointF:
        return point * (RESOLUTION / max(self._side(), 1.0))

    def _stroke_to(self, point: QPointF, *, start: bool = False) -> None:
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(255, 255, 255), PEN, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        painter.drawLine(point if start or self._last is None else self._last, point)
        painter.end()
        self._last, self._dirty = point, True
        if not self._timer.isActive():
            self._timer.start()
        self.update()

    def _end_stroke(self) -> None:
        self._last = None
        self._timer.stop()
        self._send()

    def _send(self) -> None:
        if self._dirty:
            self._dirty = False
            self.sig_drawn.emit(self.ink())

    def _on_timer_timeout(self) -> None:
        self._send()

    # --- Qt events ----------------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            self._stroke_to(self._to_drawing(event.position()), start=True)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.buttons() & Qt.MouseButton.LeftButton and self._last is not None:
            self._stroke_to(self._to_drawing(event.position()))

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton and self._last is not None:
            self._end_stroke()

    def tabletEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """A pen draws as the mouse does (its pressure is not used: MNIST's strokes are even)."""
        kind = event.type()
        point = self._to_drawing(event.position())
        if kind == event.Type.TabletPress:
            self._stroke_to(point, start=True)
        elif kind == event.Type.TabletMove and self._last is not None:
            self._stroke_to(point)
        elif kind == event.Type.TabletRelease and self._last is not None:
            self._end_stroke()
        event.accept()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        side = self._side()
        painter.drawImage(QPointF(0, 0), self._image.scaled(int(side), int(side),
                                                             Qt.AspectRatioMode.IgnoreAspectRatio,
                                                             Qt.TransformationMode.SmoothTransformation))
        painter.setPen(QPen(QColor(120, 120, 120), 1))
        painter.drawRect(0, 0, int(side) - 1, int(side) - 1)
        painter.end()
