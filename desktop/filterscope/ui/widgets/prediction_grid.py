"""The images of a folder prediction as a sortable table: thumbnail, file name, class, calibrated
confidence, decision and, for a file that could not be read, why.

One QTableView over a QAbstractTableModel, not a widget per image, so 5,000 rows scroll and
sort smoothly: the model sorts itself on keys computed once per column (a sort proxy calls
Python's data() O(n log n) times, a second for 5,000 rows). Thumbnails are made lazily in a worker for the rows on
screen (and the next screen), kept in a bounded cache; a row that needs review is tinted and its
decision says so.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from filterscope.core.base.formats import percent
from filterscope.core.data.thumbnails import Thumbnail, file_thumbnails
from filterscope.core.results.decisions import NEEDS_REVIEW
from filterscope.core.results.predict import Prediction
from filterscope.ui.widgets.image_view import to_qimage
from filterscope.ui.widgets.thumbnail_grid import placeholder_pixmap
from filterscope.workers import JobRunner

THUMB_SIZE = 64
MAX_CACHED = 2000  # thumbnails held (64 px RGBA: about 33 MB)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("", "file", "class", "calibrated confidence", "decision", "problem")
THUMB, FILE, CLASS, CONFIDENCE, DECISION, PROBLEM = range(len(COLUMNS))
REVIEW_BACKGROUND = QColor("#ffe9b3")
REVIEW_TEXT = QColor("#8a4b00")
REVIEW_LABEL = "⚠ needs review"

_Index = QModelIndex | QPersistentModelIndex


class PredictionGridModel(QAbstractTableModel):
    """One row per image of a :class:`~filterscope.core.results.predict.Prediction`, in the
    order of the last :meth:`sort` ("source rows" are the prediction's own order)."""

    def __init__(self, parent: QWidget | None = None, *, size: int = THUMB_SIZE) -> None:
        super().__init__(parent)
        self._rows: list[dict] = []
        self._paths: list[Path] = []
        self._order: list[int] = []  # shown row -> source row
        self._shown_at: list[int] = []  # source row -> shown row
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._broken: dict[int, str] = {}
        self._loading = placeholder_pixmap(size, QColor(70, 70, 70))
        self._cross = placeholder_pixmap(size, QColor(60, 30, 30), cross=True)
        self._bold = QFont()
        self._bold.setBold(True)

    def set_prediction(self, result: Prediction | None) -> None:
        """Show ``result``'s rows (None: none), forgetting every thumbnail."""
        self.beginResetModel()
        self._rows = [] if result is None else result.rows()
        self._paths = [] if result is None else list(result.paths)
        self._order = list(range(len(self._rows)))
        self._shown_at = list(self._order)
        self._cache.clear()
        self._broken.clear()
        self.endResetModel()

    def paths(self) -> list[Path]:
        """The image files, by source row."""
        return self._paths

    def row(self, row: int) -> dict:
        """Source row ``row`` as :meth:`Prediction.rows` gives it."""
        return self._rows[row]

    def source_row(self, shown: int) -> int:
        """The source row shown at row ``shown``."""
        return self._order[shown]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the rows by ``column`` (stable: ties keep the prediction's order)."""
        if not self._rows:
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        sources = [self._order[i.row()] for i in persistent]
        keys = [self._key(r, row, column) for r, row in enumerate(self._rows)]
        self._order = sorted(range(len(keys)), key=keys.__getitem__,
                             reverse=order == Qt.SortOrder.DescendingOrder)
        for shown, source in enumerate(self._order):
            self._shown_at[source] = shown
        self.changePersistentIndexList(persistent, [self.index(self._shown_at[s], i.column())
                                                    for s, i in zip(sources, persistent)])
        self.layoutChanged.emit()

    def needs_thumbnail(self, row: int) -> bool:
        """Neither a thumbnail nor a reason why there is none (and the file was read)."""
        return row not in self._cache and row not in self._broken and not self._rows[row]["error"]

    def add_thumbnails(self, batch: list[Thumbnail]) -> None:
        """Store a worker batch and repaint the thumbnail cells it covers."""
        for row, rgb, error in batch:
            if error is not None:
                self._broken[row] = error
            else:
                self._cache[row] = QPixmap.fromImage(to_qimage(rgb))
                self._cache.move_to_end(row)
            index = self.index(self._shown_at[row], THUMB)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
        while len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt override)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, column = self._order[index.row()], index.column()
        row = self._rows[r]
        review = row["decision"] == NEEDS_REVIEW
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == SORT_ROLE:
            return self._key(r, row, column)
        if role == Qt.ItemDataRole.DecorationRole and column == THUMB:
            if row["error"] or r in self._broken:
                return self._cross
            pixmap = self._cache.get(r)
            return self._loading if pixmap is None else pixmap
        if role == Qt.ItemDataRole.BackgroundRole and review:
            return QBrush(REVIEW_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole and review and column == DECISION:
            return QBrush(REVIEW_TEXT)
        if role == Qt.ItemDataRole.FontRole and review and column == DECISION:
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            return row["path"] + (f"\nunreadable: {row['error']}" if row["error"] else "")
        return None

    @staticmethod
    def _text(row: dict, column: int) -> str | None:
        if column == FILE:
            return Path(row["path"]).name
        if column == CLASS:
            return row["predicted"] or "—"
        if column == CONFIDENCE:
            return "—" if row["calibrated_confidence"] is None else percent(row["calibrated_confidence"])
        if column == DECISION:
            return REVIEW_LABEL if row["decision"] == NEEDS_REVIEW else row["decision"]
        if column == PROBLEM:
            return f"unreadable: {row['error']}" if row["error"] else ""
        return None

    @staticmethod
    def _key(r: int, row: dict, column: int) -> Any:
        """What a column sorts by (unreadable files first in ascending confidence)."""
        if column == FILE:
            return Path(row["path"]).name.lower()
        if column == CLASS:
            return row["predicted"] or ""
        if column == CONFIDENCE:
            return -1.0 if row["calibrated_confidence"] is None else row["calibrated_confidence"]
        if column == DECISION:
            return row["decision"]
        if column == PROBLEM:
            return row["error"] or ""
        return r


class PredictionGridWidget(QTableView):
    """The sortable table of a folder's predictions, its thumbnails made as they come on screen."""

    sig_failed = Signal(str)
    """The thumbnails could not be made, and why (the owner shows it)."""

    def __init__(self, parent: QWidget | None = None, *, size: int = THUMB_SIZE) -> None:
        super().__init__(parent)
        self._size = size
        self.rows = PredictionGridModel(self, size=size)
        self.setModel(self.rows)
        self.setSortingEnabled(True)
        self.sortByColumn(THUMB, Qt.SortOrder.AscendingOrder)  # the CSV's order first
        self.setIconSize(QSize(size, size))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # O(1) layout for any row count
        rows.setDefaultSectionSize(size + 6)
        rows.hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in ((THUMB, size + 10), (FILE, 220), (CLASS, 120), (CONFIDENCE, 160),
                              (DECISION, 140)):
            self.setColumnWidth(column, width)
        self.runner = JobRunner(self, on_partial=self._on_runner_partial, on_failure=self.sig_failed)
        self._timer = QTimer(self, singleShot=True, interval=30)
        self._timer.timeout.connect(self.request_visible)
        self._requested: set[int] = set()
        self.verticalScrollBar().valueChanged.connect(self._on_scroll_value_changed)
        self.rows.layoutChanged.connect(self._timer.start)  # sorted: other rows on screen

    def set_prediction(self, result: Prediction | None) -> None:
        """Show a folder's prediction (None: empty) in the order chosen, and start on the visible
        thumbnails."""
        self.runner.cancel()
        self._requested = set()
        self.rows.set_prediction(result)
        header = self.horizontalHeader()
        self.rows.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self.scrollToTop()
        self._timer.start()

    def clear(self) -> None:
        """Empty the table and stop making thumbnails."""
        self.set_prediction(None)

    def source_rows(self) -> list[int]:
        """The source rows in the order shown."""
        return [self.rows.source_row(r) for r in range(self.rows.rowCount())]

    def visible_rows(self) -> tuple[int, int]:
        """First and last shown row at least partly on screen (-1, -1 when empty)."""
        count = self.rows.rowCount()
        if count == 0:
            return -1, -1
        first = max(self.rowAt(0), 0)
        last = self.rowAt(self.viewport().height() - 1)
        return first, count - 1 if last < 0 else last

    @Slot()
    def request_visible(self) -> None:
        """Start a job for the thumbnails on screen (and the next screen) not yet made."""
        first, last = self.visible_rows()
        if first < 0:
            return
        last = min(self.rows.rowCount() - 1, last + (last - first + 1))
        wanted = [row for row in map(self.rows.source_row, range(first, last + 1))
                  if self.rows.needs_thumbnail(row)]
        if not wanted or (self.runner.is_running() and set(wanted) <= self._requested):
            return
        self._requested = set(wanted)
        self.runner.start(file_thumbnails, self.rows.paths(), wanted, self._size)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._timer.start()

    @Slot(int)
    def _on_scroll_value_changed(self, _value: int) -> None:
        self._timer.start()

    @Slot(object)
    def _on_runner_partial(self, batch: list) -> None:
        self.rows.add_thumbnails(batch)
