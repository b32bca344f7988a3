"""A model's layers with their kinds and output shapes; convolutions (whose filters can be
painted) in bold."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from filterscope.core.visualize.layers import LayerInfo


def shape_text(shape: tuple) -> str:
    """An output shape as people write it: 26 × 26 × 32."""
    return " × ".join("?" if s is None else str(s) for s in shape)


class LayerListWidget(QTableWidget):
    """Emits sig_layer_changed with the chosen LayerInfo."""

    sig_layer_changed = Signal(object)
    """The LayerInfo of the chosen layer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 3, parent)
        self._rows: list[LayerInfo] = []
        self.setHorizontalHeaderLabels(["Layer", "Kind", "Output shape"])
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.currentCellChanged.connect(self._on_current_changed)

    def set_layers(self, rows: list[LayerInfo]) -> None:
        """Show ``rows`` and choose the first convolution (or the first layer)."""
        self._rows = list(rows)
        self.blockSignals(True)
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate((row.name, row.kind, shape_text(row.output_shape))):
                item = QTableWidgetItem(text)
                if row.conv:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                    item.setToolTip(f"a convolution: its {row.channels} filters can be painted")
                self.setItem(r, c, item)
        self.blockSignals(False)
        first = next((r for r, row in enumerate(rows) if row.conv), 0)
        if rows:
            self.select(rows[first].name)

    def layers(self) -> list[LayerInfo]:
        """Every layer listed."""
        return list(self._rows)

    def current(self) -> LayerInfo | None:
        """The chosen layer."""
        row = self.currentRow()
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def select(self, name: str) -> bool:
        """Choose the layer called ``name``; False when there is none."""
        for r, row in enumerate(self._rows):
            if row.name == name:
                if r == self.currentRow():
                    self.sig_layer_changed.emit(row)
                self.setCurrentCell(r, 0)
                return True
        return False

    @Slot(int, int, int, int)
    def _on_current_changed(self, row: int, _column: int, previous: int, _previous_column: int) -> None:
        if row != previous and 0 <= row < len(self._rows):
            self.sig_layer_changed.emit(self._rows[row])
