"""A virtualised thumbnail grid that stays smooth on 50,000 images.

Only the rows on screen (plus one screen ahead) are ever asked for. Thumbnails are made by a
worker job that is restarted, latest-request-wins, whenever the visible range changes; finished
thumbnails live in a bounded LRU cache of pixmaps, so memory does not grow with the dataset.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from filterscope.core.data.datasets import Dataset
from filterscope.core.data.thumbnails import Thumbnail, make_thumbnails
from filterscope.ui.widgets.image_view import to_qimage
from filterscope.workers import JobRunner

THUMB_SIZE = 96
CACHE_BYTES = 64 * 1024 * 1024
_Index = QModelIndex | QPersistentModelIndex


def placeholder_pixmap(size: int, colour: QColor, cross: bool = False) -> QPixmap:
    """A plain square shown while a thumbnail loads (with a red cross: it cannot be read)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(colour)
    if cross:
        painter = QPainter(pixmap)
        painter.setPen(QColor(200, 40, 40))
        painter.drawLine(8, 8, size - 8, size - 8)
        painter.drawLine(size - 8, 8, 8, size - 8)
        painter.end()
    return pixmap


class ThumbnailModel(QAbstractListModel):
    """Rows are dataset items (optionally of one class); decorations come from the cache."""

    def __init__(self, parent: QWidget | None = None, *, size: int = THUMB_SIZE,
                 cache_bytes: int = CACHE_BYTES) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._rows = np.zeros(0, dtype=np.int64)
        self._row_of: dict[int, int] = {}
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._errors: dict[int, str] = {}
        self._size = size
        self._max_items = max(64, cache_bytes // (size * size * 4))
        self._loading = placeholder_pixmap(size, QColor(70, 70, 70))
        self._broken = placeholder_pixmap(size, QColor(60, 30, 30), cross=True)

    def set_dataset(self, dataset: Dataset | None, rows: np.ndarray | None = None) -> None:
        """Show ``dataset`` (all items, or the items ``rows``: a class's, a subset's); keeps
        cached thumbnails when the dataset is the same object."""
        self.beginResetModel()
        if dataset is not self._dataset:
            self._cache.clear()
            self._errors.clear()
        self._dataset = dataset
        if dataset is None:
            self._rows = np.zeros(0, dtype=np.int64)
        else:
            self._rows = np.arange(len(dataset)) if rows is None else np.asarray(rows, dtype=np.int64)
        self._row_of = {}
        self.endResetModel()

    def dataset(self) -> Dataset | None:
        """The dataset shown."""
        return self._dataset

    def item_index(self, row: int) -> int:
        """Dataset item index of ``row``."""
        return int(self._rows[row])

    def missing(self, first: int, last: int) -> list[int]:
        """Dataset indices in rows first..last that have neither a thumbnail nor an error."""
        last = min(last, len(self._rows) - 1)
        return [int(i) for i in self._rows[max(first, 0):last + 1]
                if int(i) not in self._cache and int(i) not in self._errors]

    def cached_count(self) -> int:
        """How many thumbnails are held."""
        return len(self._cache)

    def error(self, item: int) -> str | None:
        """Why item ``item``'s thumbnail failed, if it did."""
        return self._errors.get(item)

    def add_thumbnails(self, batch: list[Thumbnail]) -> None:
        """Store a worker batch and repaint the rows it covers."""
        rows = []
        for item, rgb, error in batch:
            if error is not None:
                self._errors[item] = error
            else:
                self._cache[item] = self._fit(QPixmap.fromImage(to_qimage(rgb)))
                self._cache.move_to_end(item)
            rows.append(self._row(item))
        while len(self._cache) > self._max_items:
            self._cache.popitem(last=False)
        rows = [r for r in rows if r is not None]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)),
                                  [Qt.ItemDataRole.DecorationRole])

    def _fit(self, pixmap: QPixmap) -> QPixmap:
        """Blow small images (MNIST's 28 px) up by a whole factor, keeping the pixels sharp."""
        factor = self._size // max(pixmap.width(), pixmap.height(), 1)
        if factor < 2:
            return pixmap
        return pixmap.scaled(pixmap.width() * factor, pixmap.height() * factor,
                             Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.FastTransformation)

    def _row(self, item: int) -> int | None:
        if not self._row_of and len(self._rows):
            self._row_of = {int(i): r for r, i in enumerate(self._rows)}
        return self._row_of.get(item)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._dataset is None:
            return None
        item = int(self._rows[index.row()])
        if role == Qt.ItemDataRole.DecorationRole:
            if item in self._errors:
                return self._broken
            pixmap = self._cache.get(item)
            if pixmap is not None:
                self._cache.move_to_end(item)
                return pixmap
            return self._loading
        if role == Qt.ItemDataRole.ToolTipRole:
            ds = self._dataset
            width, height = ds.sizes[item]
            tip = f"{ds.keys[item]}\nclass: {ds.classes[ds.labels[item]]}\n{width}x{height}"
            return tip + (f"\nunreadable: {self._errors[item]}" if item in self._errors else "")
        if role == Qt.ItemDataRole.UserRole:
            return item
        return None


class ThumbnailGridWidget(QListView):
    """The grid view: asks a worker for the thumbnails of what is on screen."""

    sig_item_selected = Signal(int)
    """The dataset index of the newly selected item."""
    sig_thumbnail_failed = Signal(int, str)
    """An item whose file could not be read while making its thumbnail, and why."""
    sig_failed = Signal(str)
    """The thumbnails could not be made, and why (the owner shows it)."""

    def __init__(self, parent: QWidget | None = None, *, size: int = THUMB_SIZE) -> None:
        super().__init__(parent)
        self._size = size
        self.thumbs = ThumbnailModel(self, size=size)
        self.setModel(self.thumbs)
        # List mode with wrapping + uniform sizes lays out 50,000 items in O(1) per row;
        # IconMode would position every item individually.
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setIconSize(QSize(size, size))
        self.setGridSize(QSize(size + 8, size + 8))
        self.setSpacing(0)
        self.runner = JobRunner(self, on_partial=self._on_runner_partial, on_failure=self.sig_failed)
        self._timer = QTimer(self, singleShot=True, interval=30)
        self._timer.timeout.connect(self.request_visible)
        self._requested: set[int] = set()
        self.verticalScrollBar().valueChanged.connect(self._on_scroll_value_changed)
        self.selectionModel().currentChanged.connect(self._on_selection_current_changed)

    def set_dataset(self, dataset: Dataset | None, rows: np.ndarray | None = None) -> None:
        """Show a dataset (or its items ``rows``) and start filling the visible thumbnails."""
        self.runner.cancel()
        self._requested = set()
        self.thumbs.set_dataset(dataset, rows)
        self._timer.start()

    def visible_rows(self) -> tuple[int, int]:
        """First and last row at least partly on screen (-1, -1 when empty)."""
        count = self.thumbs.rowCount()
        if count == 0:
            return -1, -1
        first = self.indexAt(QPoint(2, 2)).row()
        rect = self.viewport().rect()
        bottom = self.indexAt(QPoint(rect.width() - 2, rect.height() - 2)).row()
        per_row = max(1, rect.width() // self.gridSize().width())
        if bottom < 0:
            rows_on_screen = rect.height() // self.gridSize().height() + 1
            bottom = min(count - 1, max(first, 0) + per_row * rows_on_screen)
        return max(first, 0), bottom

    @Slot()
    def request_visible(self) -> None:
        """Start a job for the visible (and next screen of) thumbnails not yet made."""
        first, last = self.visible_rows()
        if first < 0 or self.thumbs.dataset() is None:
            return
        ahead = last - first + 1
        wanted = self.thumbs.missing(first, last + ahead)
        if not wanted or (self.runner.is_running() and set(wanted) <= self._requested):
            return
        self._requested = set(wanted)
        self.runner.start(make_thumbnails, self.thumbs.dataset(), wanted, self._size)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._timer.start()

    def dataChanged(self, top_left: _Index, bottom_right: _Index,  # noqa: N802 (Qt override)
                    roles: Sequence[int] = ()) -> None:
        """Repaint cells whose thumbnail arrived, without laying the whole list out again.

        QListView's list mode answers every dataChanged with a full items layout, O(rows):
        about 60 ms at 50,000 rows, for each batch of thumbnails, which froze the grid for
        200 ms at a time while it filled. Every cell has the grid size, so a new decoration
        never moves an item; QAbstractItemView's own handling repaints the cells.
        """
        if roles and all(role == Qt.ItemDataRole.DecorationRole for role in roles):
            QAbstractItemView.dataChanged(self, top_left, bottom_right, roles)
        else:
            super().dataChanged(top_left, bottom_right, roles)

    @Slot(int)
    def _on_scroll_value_changed(self, _value: int) -> None:
        self._timer.start()

    @Slot(object)
    def _on_runner_partial(self, batch: list) -> None:
        self.thumbs.add_thumbnails(batch)
        for item, _rgb, error in batch:
            if error is not None:
                self.sig_thumbnail_failed.emit(item, error)

    @Slot(QModelIndex, QModelIndex)
    def _on_selection_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.sig_item_selected.emit(self.thumbs.item_index(current.row()))
