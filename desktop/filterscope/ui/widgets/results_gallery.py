"""A virtualised gallery of evaluated images: each thumbnail with its true and predicted class and
its calibrated confidence (the model's own one in the tooltip).

The model holds only an array of row numbers into the evaluation's columns, so showing 10,000
images costs one array, not 10,000 items; only the rows on screen (and one screen ahead) are
asked for, by a worker job that the latest request replaces, and the pixmaps live in a bounded
cache (the approach of :mod:`~filterscope.ui.widgets.thumbnail_grid`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from filterscope.core.base.formats import percent
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.results.jobs import row_thumbnails
from filterscope.ui.widgets.image_view import to_qimage
from filterscope.ui.widgets.thumbnail_grid import placeholder_pixmap
from filterscope.workers import JobRunner

THUMB_SIZE = 96
MAX_CACHED = 2000  # pixmaps kept (about 75 MB at 96 px)
_Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole


class GalleryModel(QAbstractListModel):
    """Rows of an evaluation, in the order given; decorations come from the cache."""

    def __init__(self, parent: QWidget | None = None, size: int = THUMB_SIZE) -> None:
        super().__init__(parent)
        self._size = size
        self._evaluation: Evaluation | None = None
        self._rows = np.zeros(0, np.int64)
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._errors: dict[int, str] = {}
        self._loading = placeholder_pixmap(size, QColor(70, 70, 70))
        self._broken = placeholder_pixmap(size, QColor(60, 30, 30), cross=True)

    def set_rows(self, evaluation: Evaluation | None, rows: np.ndarray) -> None:
        """Show ``rows`` (indices into the evaluation's rows) of ``evaluation``."""
        self.beginResetModel()
        if evaluation is not self._evaluation:
            self._cache.clear()
            self._errors.clear()
        self._evaluation = evaluation
        self._rows = np.asarray(rows, np.int64)
        self.endResetModel()

    def evaluation(self) -> Evaluation | None:
        """The evaluation shown."""
        return self._evaluation

    def row_of(self, view_row: int) -> int:
        """The evaluation row shown at ``view_row``."""
        return int(self._rows[view_row])

    def shown_rows(self) -> np.ndarray:
        """The evaluation rows shown, in order."""
        return self._rows

    def missing(self, first: int, last: int) -> list[int]:
        """Evaluation rows among view rows first..last with neither a pixmap nor an error."""
        return [int(r) for r in self._rows[max(first, 0):last + 1]
                if int(r) not in self._cache and int(r) not in self._errors]

    def add_thumbnails(self, batch: list) -> None:
        """Store a worker batch and repaint the view."""
        for row, rgb, error in batch:
            if error is not None:
                self._errors[row] = error
            else:
                picture = QPixmap.fromImage(to_qimage(rgb))
                if max(picture.width(), picture.height()) * 2 <= self._size:  # a 28 px digit: shown
                    # whole-pixel larger, sharp (a class at the back of the room must see it)
                    factor = self._size // max(picture.width(), picture.height())
                    picture = picture.scaled(picture.width() * factor, picture.height() * factor,
                                             Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.FastTransformation)
                self._cache[row] = picture
                self._cache.move_to_end(row)
        while len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)
        if len(self._rows):
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1),
                                  [Qt.ItemDataRole.DecorationRole])

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        ev = self._evaluation
        if not index.isValid() or ev is None:
            return None
        row = int(self._rows[index.row()])
        rows = ev.rows
        if role == Qt.ItemDataRole.DecorationRole:
            return self._broken if row in self._errors else self._cache.get(row, self._loading)
        if role == Qt.ItemDataRole.DisplayRole:
            return (f"{ev.classes[rows.true[row]]}\n→ {ev.classes[rows.predicted[row]]} "
                    f"{percent(ev.calibrated_confidence[row], 0)}")
        if role == Qt.ItemDataRole.ToolTipRole:
            own = "" if ev.temperature() == 1.0 else f"; the model's own {percent(rows.confidence[row])}"
            tip = (f"{rows.paths[row]}\ntrue: {ev.classes[rows.true[row]]}\npredicted: "
                   f"{ev.classes[rows.predicted[row]]} ({percent(ev.calibrated_confidence[row])} "
                   f"calibrated confidence{own})")
            return tip + (f"\nno thumbnail: {self._errors[row]}" if row in self._errors else "")
        if role == ROW_ROLE:
            return row
        return None


class _CaptionBelow(QStyledItemDelegate):
    """Thumbnail on top, its two caption lines centred below, elided to the grid's width."""

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:  # noqa: N802
        grid = self.parent().gridSize()
        return QSize(grid.width() - 4, grid.height() - 4)

    def initStyleOption(self, option: QStyleOptionViewItem, index: _Index) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        option.decorationPosition = QStyleOptionViewItem.Position.Top
        option.displayAlignment = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        option.textElideMode = Qt.TextElideMode.ElideRight


class ResultsGalleryWidget(QListView):
    """The gallery: one screen of thumbnails asked for at a time."""

    sig_row_selected = Signal(int)
    """The evaluation row newly selected (-1 when none)."""
    sig_failed = Signal(str)
    """The thumbnails could not be made, and why (the owner shows it)."""

    def __init__(self, parent: QWidget | None = None, *, size: int = THUMB_SIZE) -> None:
        super().__init__(parent)
        self._size = size
        self.gallery = GalleryModel(self, size)
        self.setModel(self.gallery)
        # List mode with wrapping and uniform sizes lays out any number of items in O(1) per row.
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setIconSize(QSize(size, size))
        self.setItemDelegate(_CaptionBelow(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._fit_grid()
        self.runner = JobRunner(self, on_partial=self.gallery.add_thumbnails, on_failure=self.sig_failed)
        self._timer = QTimer(self, singleShot=True, interval=30)
        self._timer.timeout.connect(self.request_visible)
        self._requested: set[int] = set()
        self.verticalScrollBar().valueChanged.connect(self._timer.start)
        self.selectionModel().currentChanged.connect(self._on_current_changed)

    def set_rows(self, evaluation: Evaluation | None, rows: Sequence[int] | np.ndarray) -> None:
        """Show these rows of ``evaluation`` in this order and start loading what is visible."""
        self.runner.cancel()
        self._requested = set()
        self.gallery.set_rows(evaluation, np.asarray(rows, np.int64))
        self.sig_row_selected.emit(-1)
        self._timer.start()

    def current_row(self) -> int | None:
        """The evaluation row selected, or None."""
        index = self.currentIndex()
        return self.gallery.row_of(index.row()) if index.isValid() else None

    def visible_rows(self) -> tuple[int, int]:
        """First and last view row at least partly on screen (-1, -1 when empty)."""
        count = self.gallery.rowCount()
        if count == 0:
            return -1, -1
        first = max(self.indexAt(QPoint(2, 2)).row(), 0)
        rect = self.viewport().rect()
        per_row = max(1, rect.width() // self.gridSize().width())
        rows_on_screen = rect.height() // self.gridSize().height() + 1
        return first, min(count - 1, first + per_row * rows_on_screen)

    @Slot()
    def request_visible(self) -> None:
        """Start a job for the visible (and the next screen of) thumbnails not yet made."""
        first, last = self.visible_rows()
        evaluation = self.gallery.evaluation()
        if first < 0 or evaluation is None:
            return
        wanted = self.gallery.missing(first, last + (last - first + 1))
        if not wanted or (self.runner.is_running() and set(wanted) <= self._requested):
            return
        self._requested = set(wanted)
        self.runner.start(row_thumbnails, evaluation.rows.paths, wanted, self._size,
                          source=evaluation.eval_set.get("source"))

    def _fit_grid(self) -> None:
        """Room for the thumbnail and two caption lines in the current font."""
        line = self.fontMetrics().height()
        width = max(self._size, self.fontMetrics().horizontalAdvance("→ moderate 100%")) + 16
        self.setGridSize(QSize(width, self._size + 2 * line + 12))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # View > Larger text
            self._fit_grid()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._timer.start()

    def dataChanged(self, top_left: _Index, bottom_right: _Index,  # noqa: N802 (Qt override)
                    roles: Sequence[int] = ()) -> None:
        """A new thumbnail never moves an item: repaint without laying the list out again
        (list mode answers dataChanged with an O(rows) layout; see thumbnail_grid)."""
        if roles and all(role == Qt.ItemDataRole.DecorationRole for role in roles):
            QAbstractItemView.dataChanged(self, top_left, bottom_right, roles)
        else:
            super().dataChanged(top_left, bottom_right, roles)

    @Slot(QModelIndex, QModelIndex)
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.sig_row_selected.emit(self.gallery.row_of(current.row()) if current.isValid() else -1)
