"""Per-class counts as a table and an embedded bar chart."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from filterscope.core.data.datasets import Dataset
from filterscope.ui.widgets.fitting import HeaderFit
from filterscope.ui.widgets.mpl_canvas import MplCanvasWidget


def _number_item(value: int | float, text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setData(Qt.ItemDataRole.UserRole, value)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class ClassSummaryWidget(QWidget):
    """Class, count and share of each class; the chart shows the same counts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Class", "Images", "Share"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        HeaderFit(self.table)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.chart = MplCanvasWidget(self, width=4, height=2.4, redraw=self._draw)
        self._shown: tuple[list[str], list[int]] = ([], [])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.chart, 3)

    def set_dataset(self, dataset: Dataset | None, subset: str | None = None) -> None:
        """Fill the table and redraw the chart (counting one subset of split folders, when given)."""
        counts = dataset.counts(subset) if dataset is not None else []
        names = dataset.classes if dataset is not None else []
        total = max(int(sum(counts)), 1)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(names))
        for row, (name, count) in enumerate(zip(names, counts)):
            self.table.setItem(row, 0, QTableWidgetItem(name))
            self.table.setItem(row, 1, _number_item(int(count), f"{int(count):,}"))
            self.table.setItem(row, 2, _number_item(count / total, f"{100 * count / total:.1f} %"))
        self._shown = (list(names), [int(c) for c in counts])
        self._draw()

    def _draw(self) -> None:
        names, counts = self._shown
        figure = self.chart.figure
        figure.clear()
        if names:
            with self.chart.styled():
                # Horizontal bars: long class names ("Small-flowered Cranesbill") stay readable.
                axes = figure.add_subplot()
                axes.barh(range(len(names)), counts, color="#4c8c4a")
                # As large as the text size asks, but never so large that the names overlap.
                fits = 0.7 * self.chart.height() / len(names) * 72 / figure.dpi
                size = min(self.chart.tick_points() * (1.0 if len(names) <= 8 else 0.8), fits)
                axes.set_yticks(range(len(names)), names, fontsize=max(size, 4.0))
                axes.invert_yaxis()
                axes.tick_params(axis="x", labelsize=self.chart.tick_points())
                axes.set_xlabel("images")
                axes.spines[["top", "right"]].set_visible(False)
        self.chart.draw_idle()
