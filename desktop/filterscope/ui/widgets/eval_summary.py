"""An evaluation's numbers: accuracy next to the majority baseline, balanced accuracy, the
gain test-time augmentation measured (when used), the warnings with what to try, the per-class table and the confusion matrix as a clickable grid.

Both tables are Qt item views, so they take the application's font (View > Larger text); the
confusion cells are shaded by the share of their true class, so a row's mistakes stand out
whatever its size.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.base.formats import percent
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.results.intervals import with_interval
from filterscope.core.results.metrics import matrix_labels
from filterscope.core.results.tta import tta_sentence

WARNING_STYLE = "color: #a35200"
PER_CLASS_COLUMNS = ["Precision", "Recall", "F1", "Support", "Predicted"]


def _item(text: str, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
    if tip:
        item.setToolTip(tip)
    return item


class EvalSummaryWidget(QWidget):
    """The headline, the warnings, the per-class table and the confusion grid."""

    sig_cell_clicked = Signal(int, int)
    """A confusion-matrix cell was clicked: (true class, predicted class)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headline = QLabel("Evaluate a run, or open an earlier evaluation.")
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.tta = QLabel()  # the measured gain of test-time augmentation, when it was used
        self.tta.setWordWrap(True)
        self.tta.hide()
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.RichText)
        self.warnings.setStyleSheet(WARNING_STYLE)
        self.per_class = QTableWidget(0, len(PER_CLASS_COLUMNS))
        self.per_class.setHorizontalHeaderLabels(PER_CLASS_COLUMNS)
        self.per_class.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.per_class.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.confusion = QTableWidget(0, 0)
        self.confusion.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.confusion.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.confusion.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.confusion.setToolTip("Rows: true class; columns: predicted class. Click a cell to see "
                                  "its images, most confident first.")
        self.confusion.cellClicked.connect(self._on_cell_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.headline)
        layout.addWidget(self.tta)
        layout.addWidget(self.warnings)
        layout.addWidget(QLabel("Per class"))
        layout.addWidget(self.per_class, 1)
        matrix_title = QLabel("Confusion matrix (rows: true class, numbered columns: predicted as that "
                              "class; click a cell)")
        matrix_title.setWordWrap(True)
        layout.addWidget(matrix_title)
        layout.addWidget(self.confusion, 2)

    def show_evaluation(self, ev: Evaluation) -> None:
        """Fill everything from ``ev``."""
        base = ev.baseline
        epoch = f", epoch {ev.epoch}" if ev.epoch else ""
        intervals = ev.intervals or {}
        macro_f1 = intervals.get("macro_f1")
        balanced = with_interval(ev.scores.balanced_accuracy, intervals.get("balanced_accuracy"))
        self.headline.setText(
            f"<b>Accuracy {with_interval(ev.scores.accuracy, intervals.get('accuracy'))}</b> &nbsp; vs. "
            f"<b>majority baseline {percent(base.accuracy)}</b> ({html.escape(base.describe())})<br>"
            f"balanced accuracy {balanced}"
            + (f" &nbsp; · &nbsp; macro-F1 {macro_f1.describe()}" if macro_f1 else "") + "<br>"
            f"{ev.n_images:,} images: {html.escape(str(ev.eval_set.get('description', '')))}; "
            f"model {html.escape(ev.model)}{epoch}"
            + (f"; {len(ev.skipped):,} file(s) skipped" if ev.skipped else ""))
        self.headline.setToolTip("\n".join(ev.notes))
        sentence = tta_sentence(ev.tta) if ev.tta else ""
        self.tta.setText(sentence[:1].upper() + sentence[1:])
        self.tta.setVisible(bool(ev.tta))
        self.warnings.setText("<br>".join(
            f"⚠ {html.escape(w.message)} <i>Try: {html.escape(w.advice)}</i>" for w in ev.warnings))
        self.warnings.setVisible(bool(ev.warnings))
        self._fill_per_class(ev)
        self._fill_confusion(ev)

    def clear(self, message: str) -> None:
        """Show ``message`` instead of a result."""
        self.headline.setText(html.escape(message))
        self.warnings.clear()
        self.warnings.hide()
        self.tta.clear()
        self.tta.hide()
        self.per_class.setRowCount(0)
        self.confusion.setRowCount(0)
        self.confusion.setColumnCount(0)

    def _fill_per_class(self, ev: Evaluation) -> None:
        self.per_class.setRowCount(len(ev.scores.per_class))
        self.per_class.setVerticalHeaderLabels([c.name for c in ev.scores.per_class])
        for row, c in enumerate(ev.scores.per_class):
            for col, text in enumerate([percent(c.precision), percent(c.recall), percent(c.f1),
                                        f"{c.support:,}", f"{c.predicted:,}"]):
                self.per_class.setItem(row, col, _item(text))

    def _fill_confusion(self, ev: Evaluation) -> None:
        matrix, n = ev.scores.confusion, len(ev.classes)
        self.confusion.setRowCount(n)
        self.confusion.setColumnCount(n)
        # Keyed columns keep twelve long class names to a matrix that fits beside the gallery.
        heads = matrix_labels(ev.classes)
        self.confusion.setVerticalHeaderLabels(heads.rows)
        self.confusion.setHorizontalHeaderLabels(heads.columns)
        for i, name in enumerate(ev.classes):
            self.confusion.horizontalHeaderItem(i).setToolTip(f"predicted {name}")
        for t in range(n):
            total = max(int(matrix[t].sum()), 1)
            for p in range(n):
                count = int(matrix[t, p])
                item = _item(f"{count:,}", f"true {ev.classes[t]}, predicted {ev.classes[p]}: "
                                           f"{count:,} of {int(matrix[t].sum()):,}")
                share = count / total
                hue = QColor(40, 120, 60) if t == p else QColor(190, 60, 40)
                shade = QColor(hue)
                shade.setAlphaF(0.1 + 0.8 * share if count else 0.0)
                item.setBackground(QBrush(shade))
                if share > 0.6:
                    item.setForeground(QBrush(QColor("white")))
                self.confusion.setItem(t, p, item)

    @Slot(int, int)
    def _on_cell_clicked(self, row: int, column: int) -> None:
        self.sig_cell_clicked.emit(row, column)
