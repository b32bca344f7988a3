"""Widgets that keep a tab inside a projector's window (1280 x 720 with presentation mode's large
text) without cutting anything off: a side column that scrolls up and down instead of making the
window taller, tables never narrower than their column titles, and rows that become pages at
large text."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QFontDatabase
from shiboken6 import isValid
from collections.abc import Callable, Sequence

from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QHeaderView,
    QScrollArea,
    QStyle,
    QTableView,
    QTabWidget,
    QWidget,
)

MIN_HEIGHT = 120  # a few rows of the column stay in view however small the window
LARGE_TEXT = 1.4  # times the system's text size: layouts stack what sits side by side


def stacked_direction(widget: QWidget) -> QBoxLayout.Direction:
    """Top to bottom at large text (presentation mode, Larger text), else left to right: for a
    row that would be wider than a projector's window."""
    system = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont).pointSizeF()
    large = widget.font().pointSizeF() >= LARGE_TEXT * system
    return QBoxLayout.Direction.TopToBottom if large else QBoxLayout.Direction.LeftToRight


def pages_at_large_text(tabs: QTabWidget, rows: Sequence[tuple[QWidget, str, Callable[[QWidget], None]]],
                        large: bool) -> None:
    """At large text each row's widget becomes a page of ``tabs`` under its title; at normal
    text ``home`` puts it back in its own row: in rows of their own at large text they left the
    tab's main view a sliver of a projector's 720 px.

    Args:
        tabs: Where the pages go.
        rows: (widget, page title, home) for each row; ``home(widget)`` adds it to its layout.
        large: Large text (see :func:`stacked_direction`).
    """
    for page, title, home in rows:
        index = tabs.indexOf(page)
        if large and index < 0:
            tabs.addTab(page, title)
        elif not large and index >= 0:
            tabs.removeTab(index)
            home(page)
            page.show()


class SidePanelWidget(QScrollArea):
    """Holds ``panel`` at its full width (it never scrolls sideways or clips a control), and
    scrolls vertically when the window is shorter than the panel, e.g. at a projector's
    1280 x 720 with presentation mode's large text."""

    def __init__(self, panel: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidget(panel)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        panel.installEventFilter(self)

    def _width(self) -> int:
        return (self.widget().minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
                + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._width(), MIN_HEIGHT)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._width(), self.widget().sizeHint().height() + 2 * self.frameWidth())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        # The panel's own size changed (larger text, a row shown): the parent layout must ask
        # this widget's hints again, which a scroll area does not do by itself.
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)


class HeaderFit(QObject):
    """Keeps a table at least as wide as its columns' titles need, at any text size: without it a
    stretched column is squeezed below its title when the window is small and the text large.

    Install with ``HeaderFit(table)``; it lives as the table's child. With ``words`` (for a
    word-wrapping table) the stretched columns keep room for their cells' longest word too, so
    a cell may wrap onto two lines but never loses letters.
    """

    def __init__(self, table: QTableView, *, words: bool = False) -> None:
        super().__init__(table)
        self._table = table
        self._words = words
        table.model().rowsInserted.connect(self._fit)
        table.model().modelReset.connect(self._fit)
        header = table.horizontalHeader()
        header.sectionResized.connect(self._fit)
        header.installEventFilter(self)
        self._fit()

    def needed_width(self, *, fresh: bool = False) -> int:
        """The table's width at which no column is narrower than its title (with ``fresh``,
        the interactive columns go back to the width a new table gives them: a column widened
        for large text narrows again with the text)."""
        header, table = self._table.horizontalHeader(), self._table
        columns = 0
        for section in range(header.count()):
            if header.isSectionHidden(section):
                continue
            title = header.sectionSizeHint(section)
            stretched = header.sectionResizeMode(section) == QHeaderView.ResizeMode.Stretch
            interactive = header.sectionResizeMode(section) == QHeaderView.ResizeMode.Interactive
            if stretched and self._words:
                title = max(title, self._longest_word(section))
            elif interactive and fresh:
                header.resizeSection(section, max(title, header.defaultSectionSize()))
            elif not stretched and header.sectionSize(section) < title:
                header.resizeSection(section, title)  # an interactive column starts too narrow
            columns += title if stretched else header.sectionSize(section)
        rows = table.verticalHeader()
        return (columns + (rows.sizeHint().width() if rows.isVisibleTo(table) else 0)
                + table.verticalScrollBar().sizeHint().width() + 2 * table.frameWidth())

    def _longest_word(self, column: int) -> int:
        model, metrics = self._table.model(), self._table.fontMetrics()
        words = [word for row in range(model.rowCount())
                 for word in str(model.index(row, column).data() or "").split()]
        margin = 2 * self._table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 8
        return max((metrics.horizontalAdvance(word) for word in words), default=0) + margin

    def _fit(self, *, fresh: bool = False) -> None:
        if isValid(self._table):  # the model outlives the table by a moment when both go
            self._table.setMinimumWidth(self.needed_width(fresh=fresh))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.FontChange:
            self._fit(fresh=True)
        return super().eventFilter(watched, event)
