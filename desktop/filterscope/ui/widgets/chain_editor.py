"""Edit an augmentation chain: add, remove, reorder and toggle steps; each parameter as a control."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleRangeSlider, QLabeledDoubleSlider, QLabeledRangeSlider

from filterscope.core.augment.chain import CATALOGUE, ChainSpec, Param, Step, default_params


def _control(param: Param, value: Any) -> QWidget:
    """A labelled control for one parameter, showing ``value``."""
    horizontal = Qt.Orientation.Horizontal
    if param.kind == "choice":
        widget = QComboBox()
        widget.addItems(list(param.choices))
        widget.setCurrentText(value)
    elif param.kind == "bool":
        widget = QCheckBox()
        widget.setChecked(value)
    elif param.kind == "int_range":
        widget = QLabeledRangeSlider(horizontal)
        widget.setRange(int(param.low), int(param.high))
        widget.setValue(tuple(value))
    elif param.kind == "range":
        widget = QLabeledDoubleRangeSlider(horizontal)
        widget.setRange(param.low, param.high)
        widget.setDecimals(2 if param.high <= 5 else 1)
        widget.setValue(tuple(value))
    else:
        widget = QLabeledDoubleSlider(horizontal)
        widget.setRange(param.low, param.high)
        widget.setDecimals(2)
        widget.setValue(value)
    widget.setToolTip(param.help)
    return widget


def _value(param: Param, widget: QWidget) -> Any:
    if param.kind == "choice":
        return widget.currentText()
    if param.kind == "bool":
        return widget.isChecked()
    if param.kind == "int_range":
        return [int(v) for v in widget.value()]
    if param.kind == "range":
        return [round(float(v), 4) for v in widget.value()]
    return round(float(widget.value()), 4)


def _changed_signal(widget: QWidget):
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    return widget.valueChanged


class ChainEditorWidget(QWidget):
    """Emits sig_chain_changed with the new ChainSpec after every edit."""

    sig_chain_changed = Signal(object)
    """The edited ChainSpec."""

    def __init__(self, chain: ChainSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chain = chain
        self.steps_list = QListWidget()
        self.add_combo = QComboBox()
        self.add_combo.addItems(sorted(CATALOGUE))
        self.add_button = QPushButton("Add step")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Up")
        self.down_button = QPushButton("Down")
        self.random_order = QCheckBox("Random order of steps")
        self.random_order.setToolTip("Shuffle the steps for every image")
        self.form_box = QWidget()
        self.form = QFormLayout(self.form_box)
        self._controls: dict[str, QWidget] = {}
        add, move = QHBoxLayout(), QHBoxLayout()  # two rows: one is too wide at large text
        add.addWidget(self.add_combo, 1)
        add.addWidget(self.add_button)
        for widget in (self.remove_button, self.up_button, self.down_button):
            move.addWidget(widget)
        move.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.steps_list, 1)
        layout.addLayout(add)
        layout.addLayout(move)
        layout.addWidget(self.random_order)
        layout.addWidget(self.form_box)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        self.random_order.toggled.connect(self._on_random_order_toggled)
        self.steps_list.currentRowChanged.connect(self._show_step)
        self.steps_list.itemChanged.connect(self._on_item_changed)
        self.set_chain(chain, emit=False)

    def chain(self) -> ChainSpec:
        """The chain as edited."""
        return self._chain

    def set_chain(self, chain: ChainSpec, *, emit: bool = True, row: int = 0) -> None:
        """Show ``chain``; select step ``row``."""
        self._chain = chain
        self.steps_list.blockSignals(True)
        self.steps_list.clear()
        for step in chain.steps:
            item = QListWidgetItem(self._label(step))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if step.enabled else Qt.CheckState.Unchecked)
            self.steps_list.addItem(item)
        self.steps_list.blockSignals(False)
        self.random_order.blockSignals(True)
        self.random_order.setChecked(chain.random_order)
        self.random_order.blockSignals(False)
        self.steps_list.setCurrentRow(min(row, len(chain.steps) - 1))
        self._show_step(self.steps_list.currentRow())
        if emit:
            self.sig_chain_changed.emit(chain)

    @staticmethod
    def _label(step: Step) -> str:
        return step.name + (f"  (sometimes {step.sometimes:g})" if step.sometimes is not None else "")

    def _replace_steps(self, steps: list[Step], row: int) -> None:
        self.set_chain(replace(self._chain, steps=tuple(steps), name=""), row=row)

    @Slot()
    def _on_add_clicked(self) -> None:
        name = self.add_combo.currentText()
        steps = list(self._chain.steps) + [Step(name, default_params(name))]
        self._replace_steps(steps, len(steps) - 1)

    @Slot()
    def _on_remove_clicked(self) -> None:
        row = self.steps_list.currentRow()
        if row >= 0:
            steps = list(self._chain.steps)
            del steps[row]
            self._replace_steps(steps, max(row - 1, 0))

    def _move(self, offset: int) -> None:
        row = self.steps_list.currentRow()
        target = row + offset
        if row >= 0 and 0 <= target < len(self._chain.steps):
            steps = list(self._chain.steps)
            steps[row], steps[target] = steps[target], steps[row]
            self._replace_steps(steps, target)

    @Slot(bool)
    def _on_random_order_toggled(self, on: bool) -> None:
        self._chain = replace(self._chain, random_order=on, name="")
        self.sig_chain_changed.emit(self._chain)

    @Slot(QListWidgetItem)
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        row = self.steps_list.row(item)
        enabled = item.checkState() == Qt.CheckState.Checked
        if self._chain.steps[row].enabled != enabled:
            self._update_step(row, replace(self._chain.steps[row], enabled=enabled))

    def _update_step(self, row: int, step: Step) -> None:
        steps = list(self._chain.steps)
        steps[row] = step
        self._chain = replace(self._chain, steps=tuple(steps), name="")
        self.steps_list.item(row).setText(self._label(step))
        self.sig_chain_changed.emit(self._chain)

    @Slot(int)
    def _show_step(self, row: int) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._controls = {}
        if row < 0 or row >= len(self._chain.steps):
            return
        step = self._chain.steps[row]
        for param in CATALOGUE[step.name]:
            control = _control(param, step.params[param.name])
            _changed_signal(control).connect(self._on_control_changed)
            self.form.addRow(param.name, control)
            self._controls[param.name] = control
        sometimes = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.1, decimals=2)
        sometimes.setSpecialValueText("always")
        sometimes.setValue(step.sometimes or 0.0)
        sometimes.setToolTip("Apply this step only to this fraction of images (iaa.Sometimes)")
        sometimes.valueChanged.connect(self._on_control_changed)
        self.form.addRow("sometimes", sometimes)
        self._controls["sometimes"] = sometimes

    @Slot()
    def _on_control_changed(self) -> None:
        row = self.steps_list.currentRow()
        step = self._chain.steps[row]
        params = {p.name: _value(p, self._controls[p.name]) for p in CATALOGUE[step.name]}
        sometimes = self._controls["sometimes"].value()
        self._update_step(row, replace(step, params=params, sometimes=sometimes or None))
