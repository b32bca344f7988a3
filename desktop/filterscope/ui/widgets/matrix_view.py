"""Matrices drawn as coloured cells, with each value printed in its cell once the cells are large
enough to read, and outlined cells (the filter's window, the current output value).

One widget shows one or more panels (an image and its padding, a filter's output maps, the
nine products of a step) side by side at one cell size, so equal sizes look equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontInfo, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from filterscope.core.filters.kernels import format_number
from filterscope.ui.widgets.image_view import to_qimage

MIN_TEXT_PIXELS = 8  # smaller digits are not worth printing
DIGITS_PER_CELL = 0.5  # the digits' height, as a share of the cell's, when they fit its width
GAP_CELLS = 1.0  # space between panels, in cells
MIN_CELL = 4  # pixels: the least a cell is given before the widget asks for more height
NOT_YET = QColor(185, 185, 185)  # a cell the step-through has not reached
# Captions wrap rather than lose letters: large text on a projector leaves panels narrow.
CAPTION_FLAGS = (Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom
                 | Qt.TextFlag.TextWordWrap)


@dataclass
class MatrixPanel:
    """One matrix to draw.

    Attributes:
        values: (H, W) the numbers.
        colours: (H, W, 3) uint8 the cells' colours.
        caption: Drawn above the panel.
        padding: (H, W) bool, cells that are zeros added by padding (hatched), or None.
        shown: How many cells, in row-major order, are computed so far (None: all).
        decimals: Decimals printed for values that are not whole.
        numbers: Print the values (off for a colour image, whose cells hold three).
    """

    values: np.ndarray
    colours: np.ndarray
    caption: str = ""
    padding: np.ndarray | None = None
    shown: int | None = None
    decimals: int = 1
    numbers: bool = True


@dataclass(frozen=True)
class Highlight:
    """An outlined block of cells: ``panel``'s rows top..top+height, columns left..left+width."""

    panel: int
    top: int
    left: int
    height: int = 1
    width: int = 1
    colour: str = "#ff8c00"


class MatrixViewWidget(QWidget):
    """Draws panels of coloured cells; a click reports the panel and cell under the mouse."""

    sig_cell_clicked = Signal(int, int, int)
    """Panel index, row and column of a clicked cell."""

    def __init__(self, parent: QWidget | None = None, *, columns: int | None = None,
                 readable: float = 0.0) -> None:
        """With ``readable`` (a share of the text's size) the widget asks for cells large
        enough to print its numbers at that size, so they grow with Larger text and
        presentation mode; with 0 it makes do with a few pixels a cell (a whole image's)."""
        super().__init__(parent)
        self._panels: list[MatrixPanel] = []
        self._highlights: list[Highlight] = []
        self._columns = columns
        self._readable = readable
        self._rects: list[QRectF] = []
        self._captions: list[QRectF] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_panels(self, panels: list[MatrixPanel], highlights: list[Highlight] | None = None) -> None:
        """Show ``panels`` with ``highlights`` outlined."""
        self._panels = panels
        self._highlights = list(highlights or [])
        self.updateGeometry()  # the captions' height may differ
        self.update()

    def set_readable(self, share: float) -> None:
        """Ask for cells that print the numbers at ``share`` of the text's size (0: any)."""
        self._readable = share
        self.updateGeometry()

    def set_columns(self, columns: int | None) -> None:
        """Lay the panels out in rows of ``columns`` (None: all in one row)."""
        self._columns = columns
        self.updateGeometry()
        self.update()

    def panels(self) -> list[MatrixPanel]:
        """The panels shown."""
        return list(self._panels)

    def highlights(self) -> list[Highlight]:
        """The outlined blocks."""
        return list(self._highlights)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(200, 150)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        # Tall enough for the captions, wrapped to the current width, and cells a few pixels
        # high: large text must not squeeze the panels away.
        least = QSize(120, 90)
        if not self._panels:
            return least
        columns, rows = self._grid()
        widths, heights = self._extents()
        cell = self.least_cell()
        width = self._least_width(cell, widths)
        slots = self._slots(cell, widths, width)
        captions = sum(self._caption_height(r, columns, slots) for r in range(rows))
        down = sum(heights) + GAP_CELLS * (rows - 1)
        return QSize(max(least.width(), math.ceil(width)),
                     max(least.height(), round(captions + down * cell + 4)))

    def least_cell(self) -> float:
        """The smallest cell the widget asks for: a few pixels, or room for digits at the
        readable share of the text's size."""
        return max(MIN_CELL, self._readable * QFontInfo(self.font()).pixelSize() / DIGITS_PER_CELL)

    def _least_width(self, cell: float, widths: list[int]) -> float:
        """The width at which the panels get ``cell`` and every caption its longest word (a
        word wider than its room loses letters: wrapping cannot help)."""
        metrics = QFontMetricsF(self.font())
        columns, _rows = self._grid()
        spare = 0.0  # what each column needs beyond its panels
        for index, panel in enumerate(self._panels):
            word = max((metrics.horizontalAdvance(w) for w in panel.caption.split()), default=0.0)
            spare = max(spare, word + 5 - widths[index % columns] * cell)
        return 4 + max(sum(widths) * cell + spare * columns,
                       (sum(widths) + GAP_CELLS * (columns - 1)) * cell)

    def cell_size(self) -> float:
        """Screen pixels per cell at the widget's current size."""
        self._layout()
        return self._cell

    def numbers_visible(self, panel: int = 0) -> bool:
        """True when the values of ``panel`` are printed in their cells."""
        return self.text_font(panel) is not None

    def panel_rect(self, index: int) -> QRectF:
        """Where panel ``index``'s cells are drawn, in the widget's coordinates."""
        self._layout()
        return QRectF(self._rects[index])

    def caption_rect(self, index: int) -> QRectF:
        """The room of panel ``index``'s caption, in the widget's coordinates."""
        self._layout()
        return QRectF(self._captions[index])

    # --- geometry ----------------------------------------------------------------------------

    def _grid(self) -> tuple[int, int]:
        count = len(self._panels)
        columns = min(self._columns or count, count) or 1
        return columns, -(-count // columns)

    def _extents(self) -> tuple[list[int], list[int]]:
        """The width of each column and the height of each row of panels, in cells."""
        columns, rows = self._grid()
        # An empty matrix (no output: the kernel does not fit) keeps one cell's room.
        widths = [max(max(p.values.shape[1], 1) for p in self._panels[c::columns])
                  for c in range(columns)]
        heights = [max(max(p.values.shape[0], 1) for p in self._panels[r * columns:(r + 1) * columns])
                   for r in range(rows)]
        return widths, heights

    def _layout(self) -> None:
        """Place every panel: one cell size for all, each panel under its caption."""
        self._rects, self._captions, self._cell = [], [], 0.0
        if not self._panels:
            return
        columns, rows = self._grid()
        widths, heights = self._extents()
        across = sum(widths) + GAP_CELLS * (columns - 1)
        down = sum(heights) + GAP_CELLS * (rows - 1)
        captions = [QFontMetricsF(self.font()).height() * 1.3] * rows
        words = self._word_limit(widths)
        for _ in range(3):  # captions wrap to the room the cells leave, which their height sets
            cell = max(min((self.width() - 4) / across, (self.height() - 4 - sum(captions)) / down,
                           words), 1.0)
            slots = self._slots(cell, widths)
            captions = [self._caption_height(r, columns, slots) for r in range(rows)]
        self._cell = cell
        y = 2.0
        for r in range(rows):
            y += captions[r]
            for c, (left, right) in enumerate(slots):
                index = r * columns + c
                if index < len(self._panels):
                    h, w = self._panels[index].values.shape
                    x = (left + right - w * cell) / 2
                    self._rects.append(QRectF(x, y, w * cell, h * cell))
                    self._captions.append(QRectF(left, y - captions[r], right - left, captions[r]))
            y += (heights[r] + GAP_CELLS) * cell

    def _word_limit(self, widths: list[int]) -> float:
        """The largest cell that leaves every caption its longest word: a narrow column's slot
        is its panels and a share of the width the cells leave, which larger cells eat."""
        metrics = QFontMetricsF(self.font())
        columns, _rows = self._grid()
        share, limit = sum(widths) / columns, math.inf
        for index, panel in enumerate(self._panels):
            word = max((metrics.horizontalAdvance(w) for w in panel.caption.split()), default=0.0)
            narrow = share - widths[index % columns]
            if narrow > 0:
                limit = min(limit, ((self.width() - 4) / columns - word - 5) / narrow)
        return limit

    def _slots(self, cell: float, widths: list[int], width: float | None = None
               ) -> list[tuple[float, float]]:
        """Each column's share of the width (the widget's, or ``width``), left and right: its
        panels' width and an equal part of what is left, so panels spread out when the height
        limits them and their captions get the room to stay on few lines."""
        spare = ((self.width() if width is None else width) - 4 - sum(widths) * cell) / len(widths)
        slots, x = [], 2.0
        for width in widths:
            slots.append((x, x + width * cell + spare))
            x += width * cell + spare
        return slots

    def _caption_height(self, row: int, columns: int, slots: list[tuple[float, float]]) -> float:
        """The height of a row's captions, each wrapped to its column's room."""
        metrics = QFontMetricsF(self.font())
        tallest = metrics.height()
        for c, (left, right) in enumerate(slots):
            index = row * columns + c
            if index < len(self._panels) and self._panels[index].caption:
                box = QRectF(0, 0, max(right - left - 4, 1.0), 1e6)
                text = metrics.boundingRect(box, CAPTION_FLAGS, self._panels[index].caption)
                tallest = max(tallest, text.height())
        return tallest + metrics.height() * 0.3

    def text_font(self, index: int) -> QFont | None:
        """A font whose widest value fits a cell, or None when it would be too small to read."""
        self._layout()
        if not 0 <= index < len(self._panels) or self._cell < MIN_TEXT_PIXELS:
            return None
        panel = self._panels[index]
        if not panel.numbers:
            return None
        longest = max((format_number(float(v), panel.decimals) for v in panel.values.ravel()),
                      key=len, default="0")
        font = QFont(self.font())
        pixels = int(self._cell * DIGITS_PER_CELL)
        while pixels >= MIN_TEXT_PIXELS:
            font.setPixelSize(pixels)
            if QFontMetricsF(font).horizontalAdvance(longest) <= self._cell * 0.92:
                return font
            pixels -= 1
        return None

    # --- painting ----------------------------------------------------------------------------

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._layout()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for index, (panel, rect) in enumerate(zip(self._panels, self._rects)):
            box = self._captions[index]
            painter.setPen(self.palette().windowText().color())
            painter.setFont(self.font())
            painter.drawText(box.adjusted(2, 0, -2, 0), CAPTION_FLAGS, panel.caption)
            self._paint_panel(painter, index, panel, rect)
        for mark in self._highlights:
            if mark.panel < len(self._rects):
                rect = self._rects[mark.panel]
                box = QRectF(rect.left() + mark.left * self._cell, rect.top() + mark.top * self._cell,
                             mark.width * self._cell, mark.height * self._cell)
                painter.setPen(QPen(QColor(mark.colour), max(2.0, self._cell / 6)))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(box)
        painter.end()

    def _paint_panel(self, painter: QPainter, index: int, panel: MatrixPanel, rect: QRectF) -> None:
        if panel.values.size == 0:
            return
        colours = panel.colours.copy()
        height, width = panel.values.shape
        hidden = np.zeros(height * width, bool)
        if panel.shown is not None:
            hidden[panel.shown:] = True
        colours.reshape(-1, 3)[hidden] = NOT_YET.getRgb()[:3]
        painter.drawImage(rect, to_qimage(colours))
        if panel.padding is not None and panel.padding.any():
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(QColor(120, 120, 120), Qt.BrushStyle.BDiagPattern))
            for r, c in zip(*np.nonzero(panel.padding)):
                painter.drawRect(self._cell_rect(rect, r, c))
        font = self.text_font(index)
        if font is None:
            return
        painter.setFont(font)
        for r in range(height):
            for c in range(width):
                if hidden[r * width + c]:
                    continue
                red, green, blue = (int(v) for v in colours[r, c])
                light = 0.299 * red + 0.587 * green + 0.114 * blue > 140
                painter.setPen(QColor(0, 0, 0) if light else QColor(255, 255, 255))
                painter.drawText(self._cell_rect(rect, r, c), Qt.AlignmentFlag.AlignCenter,
                                 format_number(float(panel.values[r, c]), panel.decimals))

    def _cell_rect(self, rect: QRectF, row: int, col: int) -> QRectF:
        return QRectF(rect.left() + col * self._cell, rect.top() + row * self._cell, self._cell,
                      self._cell)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._layout()
        point: QPointF = event.position()
        for index, rect in enumerate(self._rects):
            if rect.contains(point):
                row = int((point.y() - rect.top()) / self._cell)
                col = int((point.x() - rect.left()) / self._cell)
                self.sig_cell_clicked.emit(index, row, col)
                return
        super().mousePressEvent(event)
