"""The map of the data drawn: one dot per photo, coloured by class, prediction or right/wrong, and
for a spread-out sample of the points on screen (every point, zoomed in far enough) the photo itself
in a frame of the point's colour (:mod:`.map_thumbnails`: level of detail, loading in a job).

Drawing 10,000 points stays fast because the dots are painted once per change of map, colouring,
zoom, size or selection into a cached QImage (one ``drawPoints`` call per colour), and the
thumbnails the cache holds are drawn over a copy of it when they arrive; hovering only finds the
nearest point (a k-d tree in map space, or the thumbnail under the cursor) and paints a ring over
the cached image. The wheel zooms around the cursor, a right-button drag pans, a left-button drag
draws a lasso whose points are selected (``sig_selected``).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from filterscope.core.quality.embedding import DataMap, inside
from filterscope.ui.widgets.map_thumbnails import SIZE, MapThumbnails, pick

COLOUR_MODES = ("class", "prediction", "right/wrong")
RIGHT, WRONG = QColor("#2a9d4b"), QColor("#d62728")
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#e7ba52", "#7b4173", "#3182bd"]
HOVER_PX = 8.0
MARGIN = 12.0


def class_colour(index: int) -> QColor:
    """The colour of class ``index`` (the palette repeats beyond 16 classes, darker)."""
    colour = QColor(PALETTE[index % len(PALETTE)])
    return colour.darker(100 + 40 * (index // len(PALETTE)))


class DataMapWidget(QWidget):
    """Dots of a :class:`DataMap`; hover, zoom, pan and lasso."""

    sig_hovered = Signal(int)
    """The point under the cursor (-1: none)."""
    sig_selected = Signal(object)
    """int64 array of the points a lasso enclosed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._map: DataMap | None = None
        self._tree = None
        self._mode = "class"
        self._zoom, self._centre = 1.0, np.array([0.5, 0.5])
        self._dots: QImage | None = None
        self._cache: QImage | None = None
        self.thumbnails = MapThumbnails(self)
        self.thumbnails.sig_changed.connect(self._on_thumbnails_changed)
        self._show_thumbnails = True
        self._order = np.zeros(0, np.int64)
        self._colour_of = np.zeros(0, np.int64)
        self._colours: list[QColor] = []
        self._drawn = np.zeros(0, np.int64)
        self._drawn_px = np.zeros((0, 2))
        self._hovered = -1
        self._selected = np.zeros(0, np.int64)
        self._lasso: list[QPointF] = []
        self._pan_from: QPointF | None = None

    # -- state ----------------------------------------------------------------------------------
    def set_map(self, data_map: DataMap | None, image_source: object = None) -> None:
        """Show a map (None: empty); resets zoom, hover, selection and thumbnails. ``image_source``:
        the dataset whose in-memory items the paths may name (default: the map's source)."""
        self._map = data_map
        n = 0 if data_map is None else len(data_map)
        self._order = np.random.default_rng(0).permutation(n)  # which point of a cell shows its photo
        self.thumbnails.set_points([] if data_map is None else data_map.paths,
                                   image_source if image_source is not None or data_map is None else data_map.source)
        if data_map is not None and len(data_map):
            from scipy.spatial import cKDTree  # only with a map: scipy costs the app's start-up

            self._tree = cKDTree(data_map.xy)
        else:
            self._tree = None
        self._zoom, self._centre = 1.0, np.array([0.5, 0.5])
        self._hovered, self._selected, self._lasso = -1, np.zeros(0, np.int64), []
        if data_map is None or data_map.predicted is None:
            self._mode = "class"
        self._invalidate()

    def data_map(self) -> DataMap | None:
        """The map shown."""
        return self._map

    def set_colour_mode(self, mode: str) -> None:
        """``class``, ``prediction`` or ``right/wrong`` (the last two need predictions)."""
        if mode not in COLOUR_MODES:
            raise ValueError(f"colour mode: one of {', '.join(COLOUR_MODES)} (got {mode!r})")
        if mode != "class" and (self._map is None or self._map.predicted is None):
            raise ValueError(f"colour mode {mode!r} needs an evaluation's predictions")
        self._mode = mode
        self._invalidate()

    def colour_mode(self) -> str:
        return self._mode

    def set_thumbnails(self, shown: bool) -> None:
        """Draw photos over a sample of the points on screen (True) or dots only."""
        self._show_thumbnails = bool(shown)
        self._cache = None
        self.update()

    def thumbnails_shown(self) -> bool:
        return self._show_thumbnails

    def drawn_thumbnails(self) -> dict[int, tuple[float, float]]:
        """The points whose photo the last paint drew, with its centre in widget pixels."""
        return {int(i): (float(x), float(y)) for i, (x, y) in zip(self._drawn, self._drawn_px)}

    def colour_groups(self) -> dict[str, np.ndarray]:
        """Point indices by the colour (``#rrggbb``) they are drawn in."""
        if self._map is None:
            return {}
        if self._mode == "right/wrong":
            right = self._map.predicted == self._map.labels
            return {RIGHT.name(): np.flatnonzero(right), WRONG.name(): np.flatnonzero(~right)}
        values = self._map.labels if self._mode == "class" else self._map.predicted
        groups: dict[str, list[np.ndarray]] = {}
        for value in np.unique(values):
            groups.setdefault(class_colour(int(value)).name(), []).append(np.flatnonzero(values == value))
        return {colour: np.concatenate(parts) for colour, parts in groups.items()}

    def select(self, rows: np.ndarray) -> None:
        """Mark points as selected (drawn with an outline) and announce them."""
        self._selected = np.asarray(rows, np.int64)
        self._invalidate()
        self.sig_selected.emit(self._selected)

    def selected(self) -> np.ndarray:
        return self._selected

    def hovered(self) -> int:
        return self._hovered

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Zoom in (factor > 1) or out around a widget position (default: the centre)."""
        at = at if at is not None else QPointF(self.width() / 2, self.height() / 2)
        before = self.to_map(np.array([[at.x(), at.y()]]))[0]
        self._zoom = float(np.clip(self._zoom * factor, 1.0, 200.0))
        after = self.to_map(np.array([[at.x(), at.y()]]))[0]
        self._centre = self._centre + (before - after)
        self._invalidate()

    # -- geometry -------------------------------------------------------------------------------
    def _scale(self) -> float:
        return max(1.0, min(self.width(), self.height()) - 2 * MARGIN) * self._zoom

    def to_widget(self, xy: np.ndarray) -> np.ndarray:
        """Map coordinates -> widget pixels (y grows downwards on screen, upwards on the map)."""
        s = self._scale()
        out = (np.asarray(xy, float) - self._centre) * s
        return np.column_stack([self.width() / 2 + out[:, 0], self.height() / 2 - out[:, 1]])

    def to_map(self, px: np.ndarray) -> np.ndarray:
        """Widget pixels -> map coordinates."""
        s, px = self._scale(), np.asarray(px, float)
        return np.column_stack([(px[:, 0] - self.width() / 2) / s + self._centre[0],
                                (self.height() / 2 - px[:, 1]) / s + self._centre[1]])

    def point_at(self, pos: QPointF) -> int:
        """The point within :data:`HOVER_PX` of a widget position (-1: none)."""
        if self._tree is None:
            return -1
        on = (np.abs(self._drawn_px - [pos.x(), pos.y()]) <= SIZE / 2).all(1)
        if on.any():
            return int(self._drawn[np.flatnonzero(on)[-1]])  # the one drawn last is on top
        where = self.to_map(np.array([[pos.x(), pos.y()]]))[0]
        distance, index = self._tree.query(where, distance_upper_bound=HOVER_PX / self._scale())
        return int(index) if np.isfinite(distance) else -1

    # -- painting -------------------------------------------------------------------------------
    def _invalidate(self) -> None:
        self._dots = self._cache = None
        self.update()

    @Slot()
    def _on_thumbnails_changed(self) -> None:
        self._cache = None
        self.update()

    def render_dots(self) -> QImage:
        """The dots at the current size, zoom and colouring (with a selection, the others faded)."""
        image = QImage(max(1, self.width()), max(1, self.height()), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(self.palette().base().color())
        if self._map is None or not len(self._map):
            return image
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        px = self.to_widget(self._map.xy)
        size = float(np.clip(3.0 * self._zoom ** 0.5, 4.0, 12.0) if len(self._map) > 2000 else 7.0)
        chosen = np.zeros(len(self._map), bool)
        chosen[self._selected] = True
        groups = self.colour_groups()
        self._colours = [QColor(colour) for colour in groups]
        self._colour_of = np.zeros(len(self._map), np.int64)
        for n, rows in enumerate(groups.values()):
            self._colour_of[rows] = n
        for colour, rows in groups.items():
            # with a selection the other points fade, so each point is still drawn once
            for part, alpha in ((rows[~chosen[rows]], 50 if len(self._selected) else 255), (rows[chosen[rows]], 255)):
                pen = QColor(colour)
                pen.setAlpha(alpha)
                painter.setPen(QPen(pen, size, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
                painter.drawPoints(QPolygonF([QPointF(x, y) for x, y in px[part]]))
        painter.end()
        return image

    def render_thumbnails(self, dots: QImage) -> QImage:
        """The dots with the loaded photos of the points :func:`.map_thumbnails.pick` chooses drawn
        over them (asking for the missing ones)."""
        self._drawn, self._drawn_px = np.zeros(0, np.int64), np.zeros((0, 2))
        if self._map is None or not len(self._map) or not self._show_thumbnails:
            return dots
        px = self.to_widget(self._map.xy)
        points = pick(px, self._map.xy, self._order, self._scale(), self._zoom, self.width(), self.height())
        self.thumbnails.want(points)
        loaded = np.array([p for p in points if self.thumbnails.image(int(p)) is not None], np.int64)
        if not len(loaded):
            return dots
        image = dots.copy()
        painter = QPainter(image)
        chosen = np.zeros(len(self._map), bool)
        chosen[self._selected] = True
        for point in loaded:
            thumb = self.thumbnails.image(int(point))
            x, y = px[point]
            box = QRectF(x - thumb.width() / 2, y - thumb.height() / 2, thumb.width(), thumb.height())
            painter.setOpacity(0.3 if len(self._selected) and not chosen[point] else 1.0)
            painter.drawImage(box.topLeft(), thumb)
            painter.setPen(QPen(self._colours[self._colour_of[point]], 2))
            painter.drawRect(box.adjusted(-1, -1, 1, 1))
        painter.end()
        self._drawn, self._drawn_px = loaded, px[loaded]
        return image

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        if self._dots is None or self._dots.size() != self.size():
            self._dots, self._cache = self.render_dots(), None
        if self._cache is None:
            self._cache = self.render_thumbnails(self._dots)
        painter = QPainter(self)
        painter.drawImage(0, 0, self._cache)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._map is None:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No map yet")
        if self._hovered >= 0 and self._map is not None:
            x, y = self.to_widget(self._map.xy[[self._hovered]])[0]
            painter.setPen(QPen(self.palette().text().color(), 2))
            painter.drawEllipse(QPointF(x, y), 7, 7)
        if len(self._lasso) > 1:
            painter.setPen(QPen(self.palette().highlight().color(), 1.5, Qt.PenStyle.DashLine))
            painter.drawPolyline(QPolygonF(self._lasso))
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._dots = self._cache = None

    # -- mouse ----------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            self._lasso = [event.position()]
        elif event.button() == Qt.MouseButton.RightButton:
            self._pan_from = event.position()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        pos = event.position()
        if self._lasso:
            self._lasso.append(pos)
            self.update()
        elif self._pan_from is not None:
            shift = pos - self._pan_from
            self._centre = self._centre - np.array([shift.x(), -shift.y()]) / self._scale()
            self._pan_from = pos
            self._invalidate()
        hovered = self.point_at(pos)
        if hovered != self._hovered:
            self._hovered = hovered
            self.update()
            self.sig_hovered.emit(hovered)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton and self._lasso:
            polygon = self.to_map(np.array([[p.x(), p.y()] for p in self._lasso]))
            self._lasso = []
            if self._map is not None:
                self.select(inside(self._map.xy, polygon))
            self.update()
        elif event.button() == Qt.MouseButton.RightButton:
            self._pan_from = None

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        self.zoom_by(1.25 ** (event.angleDelta().y() / 120), event.position())
