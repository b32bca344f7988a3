"""The problems found in a dataset, one row each: the file, the kind of problem, what the app did."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from filterscope.core.data.datasets import Problem
from filterscope.ui.widgets.fitting import HeaderFit


class ProblemsTableWidget(QTableWidget):
    """Shows a dataset's problems (and those found later, while browsing)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 3, parent)
        self.setHorizontalHeaderLabels(["File", "Problem", "What happened"])
        self.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        HeaderFit(self)

    def show_problems(self, problems: list[Problem]) -> None:
        """Show these problems only."""
        self.setRowCount(0)
        for problem in problems:
            self.append(problem)

    def append(self, problem: Problem) -> None:
        """Add one problem (found while browsing)."""
        row = self.rowCount()
        self.insertRow(row)
        for col, text in enumerate((problem.path, problem.kind, problem.reason)):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            self.setItem(row, col, item)
