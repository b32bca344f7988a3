"""One filter's weights as an editable grid (three grids, R, G and B, in colour mode), its bias and
its presets. A cell that is not a number turns red and says why; the filter keeps its last good
weights until it is fixed."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.filters.kernels import (
    CHANNEL_NAMES,
    KernelCellError,
    format_number,
    matching_preset,
    parse_cell,
    preset,
    preset_names,
)

BAD_CELL = QColor(220, 40, 40)
CUSTOM = "Custom"


class KernelEditorWidget(QWidget):
    """Edits a (K, K, C) kernel and a bias; emits sig_changed with every good edit."""

    sig_changed = Signal()
    """The kernel or the bias changed (and every cell is a number)."""
    sig_error = Signal(str)
    """A sentence naming the cell that is not a number, or "" once every cell is fixed."""

    def __init__(self, title: str, default_preset: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kernel = preset(default_preset, 3, 1)
        self._bias = 0.0
        self._bad: dict[tuple[int, int, int], str] = {}
        self._filling = False
        self.title = QLabel(f"<b>{title}</b>")
        self.preset_combo = QComboBox()
        self.bias_edit = QLineEdit("0")
        self.tables: list[QTableWidget] = []
        self._grids = QGridLayout()
        self._grids.setContentsMargins(0, 0, 0, 0)
        self._grids.setColumnStretch(2, 1)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.preset_combo, 1)
        bias = QHBoxLayout()
        bias.addWidget(QLabel("Bias"))
        bias.addWidget(self.bias_edit, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(self._grids)
        layout.addLayout(bias)
        self.preset_combo.activated.connect(self._on_preset_activated)
        self.bias_edit.editingFinished.connect(self._on_bias_edited)
        self._rebuild(default_preset)

    # --- the public surface -------------------------------------------------------------------

    def kernel(self) -> np.ndarray:
        """The last good (K, K, C) weights."""
        return self._kernel.copy()

    def bias(self) -> float:
        """The last good bias."""
        return self._bias

    def has_errors(self) -> bool:
        """True while some cell (or the bias) is not a number."""
        return bool(self._bad)

    def apply_preset(self, name: str) -> None:
        """Fill the grid with a preset's weights."""
        self._kernel = preset(name, self._kernel.shape[0], self._kernel.shape[2])
        self._bad = {key: text for key, text in self._bad.items() if key[0] < 0}
        self._rebuild(name)
        self.sig_error.emit(next(iter(self._bad.values()), ""))
        self.sig_changed.emit()

    def set_kernel(self, kernel: np.ndarray, bias: float | None = None) -> None:
        """Show and use ``kernel`` (K, K, C) and, if given, ``bias`` (any cell being typed is
        dropped); the preset it is, if it is one, is named."""
        self._kernel = np.asarray(kernel, np.float64).copy()
        if bias is not None:
            self._bias = float(bias)
            self.bias_edit.setText(format_number(self._bias, 4))
        had_errors = bool(self._bad)
        self._bad.clear()
        self.bias_edit.setStyleSheet("")
        self._rebuild(matching_preset(self._kernel) or CUSTOM)
        if had_errors:
            self.sig_error.emit("")
        self.sig_changed.emit()

    # --- building -----------------------------------------------------------------------------

    def _rebuild(self, preset_name: str) -> None:
        size, channels = self._kernel.shape[0], self._kernel.shape[2]
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        self.preset_combo.addItems([CUSTOM, *preset_names(size, channels)])
        self.preset_combo.setCurrentText(preset_name)
        self.preset_combo.blockSignals(False)
        while self._grids.count():
            widget = self._grids.takeAt(0).widget()
            widget.deleteLater()
        self.tables = []
        for channel in range(channels):
            table = self._make_table(size)
            if channels > 1:
                self._grids.addWidget(QLabel(CHANNEL_NAMES[channel]), channel, 0)
            self._grids.addWidget(table, channel, 1)
            self.tables.append(table)
        self._fill()

    def _make_table(self, size: int) -> QTableWidget:
        table = QTableWidget(size, size)
        header_labels = [str(i + 1) for i in range(size)]
        table.setHorizontalHeaderLabels(header_labels)
        table.setVerticalHeaderLabels(header_labels)
        for header in (table.horizontalHeader(), table.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setMinimumSectionSize(self.fontMetrics().horizontalAdvance("−0.00") + 8)
        table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        table.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
        table.itemChanged.connect(self._on_item_changed)
        return table

    def _fill(self) -> None:
        self._filling = True
        for channel, table in enumerate(self.tables):
            for row in range(table.rowCount()):
                for col in range(table.columnCount()):
                    table.setItem(row, col, QTableWidgetItem(
                        format_number(float(self._kernel[row, col, channel]), 4)))
        self._filling = False

    # --- editing ------------------------------------------------------------------------------

    @Slot(int)
    def _on_preset_activated(self, _index: int) -> None:
        if self.preset_combo.currentText() != CUSTOM:
            self.apply_preset(self.preset_combo.currentText())

    @Slot(QTableWidgetItem)
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        channel = self.tables.index(item.tableWidget())
        key = (channel, item.row(), item.column())
        try:
            value = parse_cell(item.text(), item.row(), item.column(),
                               channel if len(self.tables) > 1 else None)
        except KernelCellError as error:
            self._bad[key] = str(error)
            self._mark(item, str(error))
            self.sig_error.emit(str(error))
            return
        self._bad.pop(key, None)
        self._mark(item, "")
        self._kernel[item.row(), item.column(), channel] = value
        self.preset_combo.setCurrentText(CUSTOM)
        self.sig_error.emit(next(iter(self._bad.values()), ""))
        self.sig_changed.emit()

    def _mark(self, item: QTableWidgetItem, message: str) -> None:
        self._filling = True
        item.setBackground(BAD_CELL if message else QColor(0, 0, 0, 0))
        item.setForeground(QColor(255, 255, 255) if message else self.palette().text().color())
        item.setToolTip(message)
        self._filling = False

    @Slot()
    def _on_bias_edited(self) -> None:
        try:
            value = parse_cell(self.bias_edit.text(), 0, 0)
        except KernelCellError:
            message = f"The bias: '{self.bias_edit.text().strip()}' is not a number."
            self._bad[(-1, 0, 0)] = message
            self.bias_edit.setStyleSheet("background: rgb(220, 40, 40); color: white")
            self.sig_error.emit(message)
            return
        self._bad.pop((-1, 0, 0), None)
        self.bias_edit.setStyleSheet("")
        self.sig_error.emit(next(iter(self._bad.values()), ""))
        if value != self._bias:
            self._bias = value
            self.sig_changed.emit()
