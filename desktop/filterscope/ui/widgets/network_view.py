"""An image through a whole model, left to right: the image as fed, then each layer's output,
feature maps as small tiles (the first few, more on request), dense layers as bars, the softmax
as probabilities with their logits and the arithmetic in words. A click on a tile reports the
layer, row, column and channel."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.filters.kernels import format_number
from filterscope.core.visualize.network import STEPPED, LayerOutput, NetworkView
from filterscope.core.visualize.render import SEQUENTIAL, colormap, signed_colours
from filterscope.ui.widgets.image_probe import pixmap
from filterscope.ui.widgets.matrix_view import MatrixPanel, MatrixViewWidget

TILES = 8  # maps shown per layer at first; "More" adds as many again
TILE_COLUMNS = 2
BARS = 32  # values drawn as bars; a longer vector says how many more it has
COLUMN_EM = 14  # a column's width, in lines of text


class BarsWidget(QWidget):
    """Values as horizontal bars with a label and a number each (negative bars go left)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, float, str]] = []
        self._vmax = 1.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.setFixedHeight(self.sizeHint().height())  # a line per bar, at the new size

    def set_bars(self, rows: list[tuple[str, float, str]]) -> None:
        """``(label, value, text)`` per bar, drawn on one scale."""
        self._rows = rows
        self._vmax = max((abs(v) for _, v, _ in rows), default=1.0) or 1.0
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        line = QFontMetricsF(self.font()).height()
        return QSize(int(line * COLUMN_EM), int(line * 1.2 * len(self._rows) + 4))

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        line = QFontMetricsF(self.font()).height() * 1.2
        label_w = self.width() * 0.3
        text_w = self.width() * 0.3
        span = self.width() - label_w - text_w
        signed = any(v < 0 for _, v, _ in self._rows)
        zero = label_w + (span / 2 if signed else 0.0)
        scale = (span / 2 if signed else span) / self._vmax
        for i, (label, value, text) in enumerate(self._rows):
            y = 2 + i * line
            painter.setPen(self.palette().windowText().color())
            painter.drawText(QRectF(0, y, label_w - 4, line), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
            left, width = (zero, value * scale) if value >= 0 else (zero + value * scale, -value * scale)
            painter.fillRect(QRectF(left, y + line * 0.15, width, line * 0.7),
                             QColor(200, 60, 40) if value >= 0 else QColor(50, 90, 200))
            painter.drawText(QRectF(label_w + span + 4, y, text_w - 4, line), Qt.AlignmentFlag.AlignVCenter, text)
        painter.end()


class NetworkViewWidget(QScrollArea):
    """The columns of one :class:`NetworkView`; emits the tile clicked."""

    sig_tile_clicked = Signal(int, int, int, int)
    """Layer index, row, column and channel of a clicked feature-map tile."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._view: NetworkView | None = None
        self._shown: dict[int, int] = {}
        self.maps_views: dict[int, MatrixViewWidget] = {}
        self.setWidgetResizable(True)
        self.clear()

    def clear(self) -> None:
        """Show nothing."""
        self._view, self._shown, self.maps_views = None, {}, {}
        self.setWidget(QWidget())

    def view(self) -> NetworkView | None:
        """The network shown."""
        return self._view

    def show_view(self, view: NetworkView) -> None:
        """Lay out ``view``: the image, then one column per layer."""
        self._view = view
        self._shown = {layer.index: TILES for layer in view.layers if layer.maps}
        self._build()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and self._view is not None:
            self._build()  # the columns are sized in lines of text

    def _build(self) -> None:
        view, self.maps_views = self._view, {}
        row = QWidget()
        columns = QHBoxLayout(row)
        columns.addWidget(self._image_column(view))
        for layer in view.layers:
            columns.addWidget(self._column(view, layer))
        columns.addStretch(1)
        self.setWidget(row)

    def shown(self, index: int) -> int:
        """How many maps of layer ``index`` are drawn."""
        return min(self._shown.get(index, 0), self._view.layers[index].values.shape[-1]) if self._view else 0

    def _column(self, view: NetworkView, layer: LayerOutput) -> QWidget:
        column = QWidget()
        column.setFixedWidth(int(QFontMetricsF(self.font()).height() * COLUMN_EM))
        box = QVBoxLayout(column)
        box.setContentsMargins(2, 2, 2, 2)
        shape = " × ".join(map(str, layer.values.shape))
        title = QLabel(f"<b>{layer.index + 1}. {layer.name}</b><br>{layer.class_name}, {shape}")
        title.setWordWrap(True)
        box.addWidget(title)
        if layer.maps:
            self._add_maps(box, layer)
        elif layer.kind == "softmax" and view.probabilities is not None:
            self._add_softmax(box, view)
        else:
            box.addWidget(_vector_bars(layer.values))
            if layer.values.size > BARS:
                box.addWidget(_wrapped(f"The first {BARS} of {layer.values.size} values."))
        box.addStretch(1)
        return column

    def _add_maps(self, box: QVBoxLayout, layer: LayerOutput) -> None:
        maps = MatrixViewWidget(columns=TILE_COLUMNS)
        maps.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        maps.sig_cell_clicked.connect(lambda channel, r, c, i=layer.index: self.sig_tile_clicked.emit(i, r, c, channel))
        self.maps_views[layer.index] = maps
        more = QPushButton()
        more.clicked.connect(lambda _=False, i=layer.index, b=more: self._on_more_clicked(i, b))
        box.addWidget(maps)
        box.addWidget(more)
        hint = "Click a tile to work it out in the Filters tab." if layer.kind in STEPPED and not layer.blocker \
            else "Blue negative, red positive." if (layer.values < 0).any() else ""
        if hint:
            box.addWidget(_wrapped(hint))
        self._fill_maps(layer.index, more)

    def _fill_maps(self, index: int, more: QPushButton) -> None:
        layer = self._view.layers[index]
        count, total = self.shown(index), layer.values.shape[-1]
        vmax = float(np.abs(layer.values).max()) or 1.0
        signed = bool((layer.values < 0).any())
        panels = []
        for c in range(count):
            values = layer.values[..., c]
            colours = signed_colours(values, vmax) if signed else colormap(values, SEQUENTIAL, 0.0, vmax)
            panels.append(MatrixPanel(values, colours, str(c + 1), numbers=False))
        maps = self.maps_views[index]
        maps.set_panels(panels)
        width = int(QFontMetricsF(self.font()).height() * COLUMN_EM) - 4
        line = QFontMetricsF(self.font()).height() * 1.3
        rows = -(-count // TILE_COLUMNS)
        tile = width / TILE_COLUMNS * layer.values.shape[0] / max(layer.values.shape[1], 1)
        maps.setFixedHeight(int(rows * (tile + line)))
        more.setText(f"More maps ({count} of {total} shown)")
        more.setVisible(count < total)

    def _on_more_clicked(self, index: int, button: QPushButton) -> None:
        self._shown[index] = self._shown.get(index, TILES) + TILES
        self._fill_maps(index, button)

    def _image_column(self, view: NetworkView) -> QWidget:
        column = QWidget()
        box = QVBoxLayout(column)
        box.setContentsMargins(2, 2, 2, 2)
        shape = " × ".join(map(str, view.image.batch.shape[1:]))
        box.addWidget(_wrapped(f"<b>{view.model}</b><br>The image as fed, {shape}"))
        picture = QLabel()
        picture.setPixmap(pixmap(view.image.fed, int(QFontMetricsF(self.font()).height() * 8)))
        box.addWidget(picture)
        box.addStretch(1)
        return column

    def _add_softmax(self, box: QVBoxLayout, view: NetworkView) -> None:
        names = view.class_names or [f"class {i}" for i in range(len(view.probabilities))]
        order = np.argsort(-view.probabilities)[:BARS]
        bars = BarsWidget()
        bars.set_bars([(names[i], float(view.probabilities[i]),
                        f"{format_number(100 * float(view.probabilities[i]), 1)} % (logit "
                        f"{format_number(float(view.logits[i]), 2)})") for i in order])
        box.addWidget(bars)
        box.addWidget(_wrapped("<br>".join(view.softmax_sentences())))


def _vector_bars(values: np.ndarray) -> BarsWidget:
    bars = BarsWidget()
    bars.set_bars([(str(i + 1), float(v), format_number(float(v), 3)) for i, v in enumerate(values[:BARS])])
    return bars


def _wrapped(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label
