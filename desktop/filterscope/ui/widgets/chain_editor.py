"""Edit an augmentation chain: add, remove, reorder and toggle steps; each parameter as a control.
The chain is the Augment tab's :class:`~filterscope.core.augment.settings.AugmentSettings`' and the
edits are its methods."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractSlider,
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

from filterscope.core.augment.chain import CATALOGUE, ChainError, ChainSpec, Param, Step
from filterscope.core.augment.settings import AugmentSettings
from filterscope.core.base.settings import declaration
from filterscope.ui.binding import changed_signal, configure, read_value, show_value

SOMETIMES = declaration(Step, "sometimes")


def _control(param: Param) -> QWidget:
    """The control for one parameter, configured from its declaration (:meth:`Param.setting`):
    a slider for numbers (two handles for a range), a combo box or a check box."""
    widget = {"choice": QComboBox, "bool": QCheckBox, "range": QLabeledDoubleRangeSlider,
              "int_range": QLabeledRangeSlider}.get(param.kind, QLabeledDoubleSlider)()
    if isinstance(widget, QAbstractSlider):
        widget.setOrientation(Qt.Orientation.Horizontal)
    configure(widget, param.setting())
    return widget


class ChainEditorWidget(QWidget):
    """Shows the AugmentSettings' chain; every edit is one of the model's (``add_step``,
    ``set_step``...), which checks it by the chain's own rules."""

    sig_status = Signal(str)
    """A value the chain refused, in the chain's words."""

    def __init__(self, settings: AugmentSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._shown: tuple | None = None  # the steps' names and switches the list shows
        self._editing = False  # while an edit of this widget's is being made
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
        self.random_order.toggled.connect(settings.set_random_order)
        self.steps_list.currentRowChanged.connect(self._show_step)
        self.steps_list.itemChanged.connect(self._on_item_changed)
        settings.events.chain.connect(self._on_chain_changed)
        self._show_chain(0)

    def chain(self) -> ChainSpec:
        """The chain shown."""
        return self.settings.chain

    def _show_chain(self, row: int) -> None:
        """The steps list (made again only when the steps or their switches changed, so the
        parameter being dragged keeps its control), the random-order box, step ``row``'s form."""
        chain = self.settings.chain
        with QSignalBlocker(self.random_order):
            self.random_order.setChecked(chain.random_order)
        shown = tuple((step.name, step.enabled, step.sometimes) for step in chain.steps)
        if shown == self._shown:
            return
        rebuilt = self._shown is None or [s[0] for s in shown] != [s[0] for s in self._shown]
        self._shown = shown
        with QSignalBlocker(self.steps_list):
            if rebuilt:
                self.steps_list.clear()
            for i, step in enumerate(chain.steps):
                item = self.steps_list.item(i) if not rebuilt else QListWidgetItem()
                item.setText(self._label(step))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if step.enabled else Qt.CheckState.Unchecked)
                if rebuilt:
                    self.steps_list.addItem(item)
            if rebuilt:
                self.steps_list.setCurrentRow(min(row, len(chain.steps) - 1))
        if rebuilt:
            self._show_step(self.steps_list.currentRow())

    @Slot()
    def _on_chain_changed(self) -> None:
        if not self._editing:  # a chain from elsewhere (a preset, a recipe): all of it anew
            self._shown = None
        self._show_chain(self.steps_list.currentRow())

    @staticmethod
    def _label(step: Step) -> str:
        return step.name + (f"  (sometimes {step.sometimes:g})" if step.sometimes is not None else "")

    @Slot()
    def _on_add_clicked(self) -> None:
        self.settings.add_step(self.add_combo.currentText())
        self.steps_list.setCurrentRow(len(self.settings.chain.steps) - 1)

    @Slot()
    def _on_remove_clicked(self) -> None:
        row = self.steps_list.currentRow()
        if row >= 0:
            self.settings.remove_step(row)
            self.steps_list.setCurrentRow(max(row - 1, 0))

    def _move(self, offset: int) -> None:
        row = self.steps_list.currentRow()
        if row >= 0 and self.settings.move_step(row, offset):
            self.steps_list.setCurrentRow(row + offset)

    @Slot(QListWidgetItem)
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        row = self.steps_list.row(item)
        enabled = item.checkState() == Qt.CheckState.Checked
        if self.settings.chain.steps[row].enabled != enabled:
            self._editing = True
            try:
                self.settings.set_step(row, enabled=enabled)
            finally:
                self._editing = False

    @Slot(int)
    def _show_step(self, row: int) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._controls = {}
        if row < 0 or row >= len(self.settings.chain.steps):
            return
        step = self.settings.chain.steps[row]
        for param in CATALOGUE[step.name]:
            control = _control(param)
            show_value(control, param.setting(), step.params[param.name])
            changed_signal(control).connect(self._on_control_changed)
            if isinstance(control, QCheckBox):
                self.form.addRow(control)  # it carries the parameter's name
            else:
                self.form.addRow(param.name, control)
            self._controls[param.name] = control
        sometimes = QDoubleSpinBox()
        configure(sometimes, SOMETIMES)  # the limits are the chain's declaration's
        show_value(sometimes, SOMETIMES, step.sometimes)
        sometimes.valueChanged.connect(self._on_control_changed)
        self.form.addRow("sometimes", sometimes)
        self._controls["sometimes"] = sometimes

    @Slot()
    def _on_control_changed(self) -> None:
        row = self.steps_list.currentRow()
        step = self.settings.chain.steps[row]
        self._editing = True
        try:
            self.settings.set_step(row, sometimes=read_value(self._controls["sometimes"], SOMETIMES),
                                   **{p.name: read_value(self._controls[p.name], p.setting())
                                      for p in CATALOGUE[step.name]})
        except ChainError as exc:
            self.sig_status.emit(str(exc))
        finally:
            self._editing = False
