"""Widgets bound to settings models: the one place a control meets a setting.

:func:`bind` ties a spin box, combo box, check box, line edit or slider to a field of a
:class:`~filterscope.core.base.settings.Settings` model, both ways: the control takes its
limits, step, decimals, unit, special text and tooltip from the field's declaration; a user's
change sets the field (the model validates it); a change of the field, from anywhere, shows in
the control without echoing back. Tabs and tests set model fields, never controls.

A path may reach into a frozen value the model holds (``fit.early_stopping``,
``optimizer.learning_rate``, ``model.base.fine_tune_blocks``): setting it replaces that value
with a copy (``dataclasses.replace``), which validates itself.

A value the control cannot show as it is (more decimals than it has, say) is never clamped or
rounded into the model: the binding reports it (``on_error(path, message)``), naming the field,
the value and what the control shows, and the model keeps the value; once the control shows the
field's value again it reports ``(path, "")``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

from PySide6.QtCore import QObject, QSignalBlocker, Slot
from PySide6.QtWidgets import (
    QAbstractSlider,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from filterscope.core.base.settings import Setting, SettingError, declaration

_INT_MAX = 2**31 - 1  # a QSpinBox's range; larger whole numbers use a QDoubleSpinBox with 0 decimals
SLIDER_DECIMALS = 4  # a float slider's value as a setting takes it: no binary fractions past the fourth


def get_path(model: object, path: str) -> Any:
    """The value at a dotted ``path`` of ``model`` (None past a None on the way)."""
    value = model
    for name in path.split("."):
        if value is None:
            return None
        value = getattr(value, name)
    return value


def _replaced(obj: Any, names: list[str], value: Any) -> Any:
    head, rest = names[0], names[1:]
    new = value if not rest else _replaced(getattr(obj, head), rest, value)
    return dataclasses.replace(obj, **{head: new})


def set_path(model: object, path: str, value: Any) -> None:
    """Set the field at ``path``: a top-level field directly, a nested one by replacing the
    frozen values on the way.

    Raises:
        SettingError: The value (or the copy it makes) is not valid; nothing changed.
    """
    top, *rest = path.split(".")
    setattr(model, top, value if not rest else _replaced(getattr(model, top), rest, value))


def setting_of(model: object, path: str) -> Setting:
    """The declaration of the field at ``path``."""
    *owner, name = path.split(".")
    holder = get_path(model, ".".join(owner)) if owner else model
    spec = declaration(holder, name)
    if spec is None:
        raise TypeError(f"{path} is not a declared setting")
    return spec


def _configure_spin(spin: QSpinBox | QDoubleSpinBox, spec: Setting) -> None:
    decimals = spec.decimals if isinstance(spin, QDoubleSpinBox) and spec.kind is float else 0
    if isinstance(spin, QDoubleSpinBox):
        spin.setDecimals(decimals)
    least = 10.0 ** -decimals if spec.kind is float else 1
    low = -1e300 if spec.low is None else spec.low + (least if spec.low_open else 0)
    high = 1e300 if spec.high is None else spec.high - (least if spec.high_open else 0)
    if spec.optional and spec.special:
        low -= least  # the value below the lowest shows the special text: None
    if isinstance(spin, QSpinBox):
        low, high = max(low, -_INT_MAX - 1), min(high, _INT_MAX)
    spin.setRange(low, high)
    if spec.step:
        spin.setSingleStep(spec.step)
    if spec.special:
        spin.setSpecialValueText(spec.special)
    if spec.unit:
        spin.setSuffix(f" {spec.unit}")


def _on_its_own_scale(widget: QWidget, spec: Setting) -> bool:
    """A slider that holds the setting's values themselves: a float, or a range of two (superqt's
    labelled sliders), rather than whole-number positions."""
    return isinstance(widget, QAbstractSlider) and (spec.kind is tuple or spec.kind is float)


def _slider_number(spec: Setting, value: float) -> float:
    return int(round(value)) if spec.decimals == 0 else round(float(value), SLIDER_DECIMALS)


def _slider_position(spec: Setting, value: float) -> int:
    """A slider's position for ``value``: its steps from the setting's lowest value (an odd
    window of 1, 3, 5... is positions 0, 1, 2...)."""
    return int(round((value - spec.low) / (spec.step or 1)))


def configure(widget: QWidget, spec: Setting) -> None:
    """Give a control the setting's limits, step, decimals, unit, special text and tooltip (for
    a control a widget drives itself, through a model's method)."""
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        _configure_spin(widget, spec)
    elif _on_its_own_scale(widget, spec):  # superqt's float and range sliders
        widget.setRange(spec.low, spec.high)
        if spec.decimals and hasattr(widget, "setDecimals"):
            widget.setDecimals(spec.decimals)
    elif isinstance(widget, QAbstractSlider):  # a position per step from the lowest value
        widget.setRange(0, _slider_position(spec, spec.high))
    elif isinstance(widget, QComboBox) and spec.choices and widget.count() == 0:
        if spec.optional:  # None is a choice too, shown as its special text
            widget.addItem(spec.special or "None", None)
        for value, label in spec.choices:
            widget.addItem(label, value)
    elif isinstance(widget, QCheckBox) and not widget.text():
        widget.setText(spec.label)
    if spec.help and not widget.toolTip():
        widget.setToolTip(spec.help)


def control_for(spec: Setting) -> QWidget:
    """The control for a setting: a check box, a combo box of its choices, a line edit, or a
    spin box that can show every value (whole numbers past a QSpinBox's range get a
    QDoubleSpinBox with no decimals)."""
    if spec.kind is bool:
        return QCheckBox()
    if spec.choices:
        return QComboBox()
    if spec.kind is str:
        return QLineEdit()
    if spec.kind is int and (spec.high is None or spec.high <= _INT_MAX):
        return QSpinBox()
    return QDoubleSpinBox()


def read_value(widget: QWidget, spec: Setting) -> Any:
    """The value a control shows, as the setting takes it (the special text: None)."""
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        value = widget.value()
        if spec.optional and spec.special and value == widget.minimum():
            return None
        if spec.kind is int:
            return int(round(value))  # a QDoubleSpinBox shows whole numbers past a QSpinBox's range
        return round(float(value), widget.decimals()) if isinstance(widget, QDoubleSpinBox) else float(value)
    if _on_its_own_scale(widget, spec):
        value = widget.value()
        return [_slider_number(spec, v) for v in value] if spec.kind is tuple else _slider_number(spec, value)
    if isinstance(widget, QAbstractSlider):
        value = spec.low + widget.value() * (spec.step or 1)
        return int(value) if spec.kind is int else value
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QLineEdit):
        return widget.text()
    raise TypeError(f"cannot bind a {type(widget).__name__}")


def show_value(widget: QWidget, spec: Setting, value: Any) -> str | None:
    """Show ``value`` without echoing it back; returns what the control shows instead when it
    cannot show it as it is."""
    with QSignalBlocker(widget):
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            shown = widget.minimum() if value is None else value
            widget.setValue(shown)
            if value is not None and not math.isclose(widget.value(), value, rel_tol=1e-9, abs_tol=0):
                return widget.textFromValue(widget.value())
        elif _on_its_own_scale(widget, spec):
            widget.setValue(tuple(value) if spec.kind is tuple else value)
        elif isinstance(widget, QAbstractSlider):
            widget.setValue(_slider_position(spec, value))
            if read_value(widget, spec) != value:
                return str(read_value(widget, spec))
        elif isinstance(widget, QComboBox):
            index = widget.findData(value)
            widget.setCurrentIndex(index)
            if index < 0:
                return "no choice"
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QLineEdit):
            widget.setText("" if value is None else str(value))
    return None


def changed_signal(widget: QWidget) -> Any:
    if isinstance(widget, (QSpinBox, QDoubleSpinBox, QAbstractSlider)):
        return widget.valueChanged
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    if isinstance(widget, QLineEdit):
        return widget.editingFinished
    raise TypeError(f"cannot bind a {type(widget).__name__}")


class Binding(QObject):
    """One control bound to one field (see :func:`bind`); a child of the control."""

    def __init__(self, widget: QWidget, model: Any, path: str,
                 on_error: Callable[[str, str], None] | None, declared_by: type | None) -> None:
        super().__init__(widget)
        self.widget, self.model, self.path = widget, model, path
        self._on_error = on_error
        self._reported = False
        self._top = path.split(".")[0]
        self.spec = declaration(declared_by, path.rsplit(".", 1)[-1]) if declared_by is not None \
            else setting_of(model, path)
        configure(widget, self.spec)
        changed_signal(widget).connect(self._on_widget_changed)
        event, slot = getattr(model.events, self._top), self._on_model_changed
        event.connect(slot)
        # Disconnected when the control goes, by a closure of its own: a window freed by the
        # garbage collector has this object's attributes cleared before its widgets go.
        widget.destroyed.connect(lambda *_args: event.disconnect(slot))
        self.show_value()

    def show_value(self) -> None:
        """Show the field's value; report it when the control cannot show it as it is."""
        value = get_path(self.model, self.path)
        if value is None and "." in self.path and get_path(self.model, self.path.rsplit(".", 1)[0]) is None:
            return  # a nested setting of a value that is absent (a model without a base)
        spec = self.spec
        shown = show_value(self.widget, spec, value)
        if shown is not None:
            self._report(f"{self.path}: {value!r} cannot be shown here (it shows {shown}; allowed: "
                         f"{spec.range_text()}); the value is kept as it is")
        elif self._reported:
            self._report("")

    def _report(self, message: str) -> None:
        self._reported = bool(message)
        if self._on_error is not None:
            self._on_error(self.path, message)

    @Slot()
    def _on_widget_changed(self, *_args: object) -> None:
        value = read_value(self.widget, self.spec)
        if value == get_path(self.model, self.path):
            return
        try:
            set_path(self.model, self.path, value)
        except SettingError as exc:
            self._report(str(exc))
            self.show_value()  # the control goes back to the model's value

    def _on_model_changed(self, *_args: object) -> None:
        self.show_value()


def bind(widget: QWidget, model: Any, path: str, on_error: Callable[[str, str], None] | None = None, *,
         declared_by: type | None = None) -> Binding:
    """Bind ``widget`` to the field at ``path`` of the evented ``model`` (see the module).

    Args:
        widget: A QSpinBox, QDoubleSpinBox, QSlider, QComboBox (items from the setting's
            choices when it has none; an optional one's None first, as its special text), QCheckBox or QLineEdit.
        model: A :class:`~filterscope.core.base.settings.Settings` model.
        path: The field, dotted into the frozen values the model holds.
        on_error: Told ``(path, message)`` when a value is refused or cannot be shown, and
            ``(path, "")`` when the control shows the field's value again.
        declared_by: The class declaring the setting, for a path through a value that may be
            absent (``model.base.fine_tune_blocks`` of a model without a base).
    """
    return Binding(widget, model, path, on_error, declared_by)
