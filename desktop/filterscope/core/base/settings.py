"""Settings declared once: type, default, limits, unit and help text of each, in one place.

A setting is a dataclass field made with :func:`setting` (or :func:`like`, which reuses another
class's declaration of the same setting). Everything else is derived from that declaration:

- validation and its one error message (:meth:`Setting.check`, :func:`check_declared`; numbers
  go through the one range checker, :func:`check_number`),
- JSON (:func:`declared_json`, :func:`declared_from_json`; unknown keys are refused by the one
  check, :func:`check_keys`),
- command-line flags and their help (:func:`add_flag`),
- the widget (``ui/binding.py`` reads the limits, step, unit and help from the declaration).

Frozen records (a run spec, fit options) validate their declared fields in ``__post_init__``.
:class:`Settings` is the evented, mutable kind a tab edits: assigning a field validates it
first (an out-of-range value raises :class:`SettingError` naming the field, the value and the
allowed range; nothing is clamped) and then emits ``model.events.<field>`` (psygnal, the
library napari's evented models use). psygnal with plain dataclasses was chosen over its
pydantic ``EventedModel`` by measurement: importing and declaring a model took 43 ms against
103 ms, and setting a field with a listener 2.5 us against 3.7 us, and the limits stay in this
one declaration instead of being restated as pydantic constraints.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, ClassVar

from psygnal import SignalGroupDescriptor

_META = "setting"


class SettingError(ValueError):
    """A value a setting cannot take; ``field`` names the setting (a JSON path), ``message``
    says what it must be. The domains' errors (a model spec's, a chain's, a mask preset's...)
    derive from it, so the one range checker raises each domain's own; given one argument, it
    is the whole message."""

    def __init__(self, field: str, message: str | None = None) -> None:
        if message is None:
            field, message = "", field
        super().__init__(f"{field}: {message}" if field else message)
        self.field, self.message = field, message


def check_number(where: str, value: object, low: float | None, high: float | None, *,
                 integer: bool = False, low_open: bool = False, high_open: bool = False,
                 error: type[SettingError] = SettingError) -> Any:
    """The one range checker: ``value`` as an int (``integer``) or float within the bounds.

    Raises:
        error: Naming ``where``, the value and the allowed range.
    """
    import numpy as np

    kind = "a whole number" if integer else "a number"
    ok_type = isinstance(value, (int, np.integer)) if integer else isinstance(value, (int, float, np.number))
    if isinstance(value, (bool, np.bool_)) or not ok_type or (not integer and not math.isfinite(value)):
        raise error(where, f"must be {kind}, not {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        shown = f"{int(value):,}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"
        raise error(where, f"must be {span(low, high, low_open, high_open, integer)} (got {shown})")
    return int(value) if integer else float(value)


def span(low: float | None, high: float | None, low_open: bool = False, high_open: bool = False,
         integer: bool = False) -> str:
    """``from 1 to 10,000``, ``above 0 and below 1``: the allowed range in words."""
    def show(v: float) -> str:
        return f"{int(v):,}" if integer else f"{v:g}"

    if low is not None and high is not None and not (low_open or high_open):
        return f"from {show(low)} to {show(high)}"
    parts = []
    if low is not None:
        parts.append(f"{'above' if low_open else 'at least'} {show(low)}")
    if high is not None:
        parts.append(f"{'below' if high_open else 'at most'} {show(high)}")
    return " and ".join(parts) or "any number"


def check_keys(where: str, data: object, allowed: Any, *,
               error: type[SettingError] = SettingError) -> dict:
    """The one unknown-field check: ``data`` must be a JSON object whose keys are ``allowed``.

    Raises:
        error: Not an object, or naming the unknown keys.
    """
    if not isinstance(data, dict):
        raise error(where, f"must be a JSON object, not {data!r}")
    unknown = set(data) - set(allowed)
    if unknown:
        raise error(where, f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    return data


@dataclass(frozen=True)
class Setting:
    """One setting's declaration.

    Attributes:
        label: Its name in the app (``Early stopping``).
        help: One or two sentences for tooltips and ``--help``.
        kind: ``int``, ``float``, ``bool``, ``str`` or ``tuple`` (two whole numbers: an image
            size, a pixel).
        low, high: Limits (None: unbounded); ``low_open``/``high_open`` exclude them.
        choices: ``(value, label)`` pairs a ``str`` setting takes.
        optional: None is allowed (its meaning is ``special``).
        special: What the off value means in a control (``Off`` for 0, ``Dataset's size`` for
            None), shown instead of the number.
        unit: Shown after the number (``px``, ``epochs``).
        step: A control's step; decimals: a float control's shown decimals.
        flag: The command-line flag (``--lr``); None derives it from the field's name.
        view: Where the user is looking (a lesson's step), not what they set: kept with a
            project, but moving it is not a change to save (see :func:`without_views`).
        parts: What a ``tuple`` setting's two numbers are, for messages.
    """

    label: str
    help: str = ""
    kind: type = int
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    optional: bool = False
    special: str = ""
    unit: str = ""
    step: float | None = None
    decimals: int | None = None
    flag: str | None = None
    view: bool = False
    parts: tuple[str, str] = ("height", "width")

    def range_text(self) -> str:
        """The allowed values in words (for messages and ``--help``)."""
        if self.choices:
            return "one of " + ", ".join(str(value) for value, _ in self.choices)
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return "text"
        if self.kind is tuple:
            return f"[{', '.join(self.parts)}], each {span(self.low, self.high, integer=True)}"
        text = span(self.low, self.high, self.low_open, self.high_open, self.kind is int)
        return f"{text} or null" if self.optional else text

    def check(self, where: str, value: object, error: type[SettingError] = SettingError) -> Any:
        """``value`` validated and normalised (ints of a float setting become floats, a size
        list becomes a tuple).

        Raises:
            error: Naming ``where``, the value and what is allowed.
        """
        if value is None:
            if self.optional:
                return None
            raise error(where, f"must be {self.range_text()}, not null")
        if self.choices:
            if not any(value == v and type(value) is type(v) for v, _ in self.choices):
                raise error(where, f"must be {self.range_text()} (got {value!r})")
            return value
        if self.kind is bool:
            if not isinstance(value, bool):
                raise error(where, f"must be true or false, not {value!r}")
            return value
        if self.kind is str:
            if not isinstance(value, str):
                raise error(where, f"must be text, not {value!r}")
            return value
        if self.kind is tuple:
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                raise error(where, f"must be {self.range_text()}, not {value!r}")
            return tuple(check_number(where, v, self.low, self.high, integer=True, error=error)
                         for v in value)
        return check_number(where, value, self.low, self.high, integer=self.kind is int,
                            low_open=self.low_open, high_open=self.high_open, error=error)


def setting(default: Any, label: str, *, kind: type | None = None, **declaration: Any) -> Any:
    """A dataclass field declaring a setting (see :class:`Setting`); ``kind`` defaults to the
    default's type."""
    if kind is None:
        if default is None:
            raise TypeError(f"{label}: an optional setting needs its kind")
        kind = type(default)
    return field(default=default, metadata={_META: Setting(label, kind=kind, **declaration)})


def like(cls: type, name: str, default: Any = MISSING) -> Any:
    """A field with ``cls``'s declaration of setting ``name`` (and its default unless given):
    the same setting held by another model, declared once."""
    source = {f.name: f for f in fields(cls)}[name]
    return field(default=source.default if default is MISSING else default, metadata=source.metadata)


def declaration(cls: type | object, name: str) -> Setting | None:
    """The declaration of field ``name`` of ``cls`` (None for a field that is not a setting)."""
    for f in fields(cls):
        if f.name == name:
            return f.metadata.get(_META)
    raise KeyError(f"{type(cls).__name__ if not isinstance(cls, type) else cls.__name__} has no field {name!r}")


def declared_default(cls: type, name: str) -> Any:
    """The default of ``cls``'s field ``name``."""
    f = {f.name: f for f in fields(cls)}[name]
    return f.default_factory() if f.default is MISSING else f.default


def without_views(model: Any) -> Any:
    """A copy of the settings ``model`` with its view settings (:attr:`Setting.view`) at their
    defaults: what two models must share to hold the same work."""
    views = {name: declared_default(type(model), name) for name, spec in declared(model).items() if spec.view}
    return replace(model, **views) if views else model


def declared(cls: type | object) -> dict[str, Setting]:
    """The declared settings of a dataclass, by field name, in field order."""
    return {f.name: f.metadata[_META] for f in fields(cls) if _META in f.metadata}


def check_declared(obj: object, prefix: str = "", error: type[SettingError] = SettingError) -> None:
    """Validate every declared field of ``obj`` (frozen or not), storing normalised values.

    Raises:
        error: The first bad field, named ``prefix`` + field.
    """
    for name, spec in declared(obj).items():
        object.__setattr__(obj, name, spec.check(prefix + name, getattr(obj, name), error))


def declared_json(obj: object) -> dict:
    """The declared fields of ``obj`` as JSON (sizes as lists)."""
    return {name: list(v) if isinstance(v := getattr(obj, name), tuple) else v for name in declared(obj)}


def declared_from_json(cls: type, data: object, where: str = "", *, also: Any = (),
                       error: type[SettingError] = SettingError) -> dict:
    """The declared fields' values in ``data`` (a JSON object; missing keys take their
    defaults), checked. ``also`` names other keys ``data`` may hold (read by the caller).

    Raises:
        error: Not an object, an unknown key, or a bad value (naming ``where.field``).
    """
    data = check_keys(where, data, set(declared(cls)) | set(also), error=error)
    prefix = f"{where}." if where else ""
    values = {}
    for f in fields(cls):
        spec = f.metadata.get(_META)
        if spec is not None and f.name in data:
            values[f.name] = spec.check(prefix + f.name, data[f.name], error)
    return values


def flag_name(name: str, spec: Setting) -> str:
    """The command-line flag of a setting (``--batch-size``)."""
    return spec.flag or "--" + name.replace("_", "-")


def flag_type(name: str, spec: Setting) -> Any:
    """An argparse ``type``: the text as the setting's kind, checked by its declaration (a
    bad value exits 2 with the setting's own message)."""

    def parse(text: str) -> Any:
        try:
            value = {int: int, float: float, str: str}[spec.kind](text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not a {'whole ' if spec.kind is int else ''}number: {text!r}") from None
        try:
            return spec.check(name, value)
        except SettingError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None

    return parse


def _flag_range(spec: Setting, default: Any) -> str:
    """``From 1 to 10,000; default 10`` for a flag's help (only what applies)."""
    if spec.kind is bool:
        return f"Default {'on' if default else 'off'}"
    unit = f" {spec.unit}" if spec.unit else ""
    shown = None if default is None or default == "" else \
        "off" if spec.special and default == 0 else f"{default}{unit}"
    if spec.kind is str and not spec.choices:
        return f"Default {shown}" if shown else ""
    text = spec.range_text().removesuffix(" or null").capitalize() + unit
    return f"{text}; default {shown}" if shown else text


def add_flag(parser: argparse.ArgumentParser | Any, cls: type, name: str, *, help_extra: str = "",
             **overrides: Any) -> Any:
    """Add the flag of ``cls``'s setting ``name``: its type and range check, and its help
    (the declaration's help, range, unit and default). The parsed value is None when not given."""
    spec = declaration(cls, name)
    default = declared_default(cls, name)
    flag = flag_name(name, spec)
    if spec.kind is bool:
        kwargs = {"action": argparse.BooleanOptionalAction, "default": None}
    else:
        kwargs = {"type": flag_type(name, spec), "default": None,
                  "metavar": {int: "N", float: "X", str: "NAME"}.get(spec.kind, "V")}
        if spec.choices:
            kwargs["choices"] = [value for value, _ in spec.choices]
            kwargs.pop("metavar")
    kwargs["help"] = ". ".join(filter(None, (spec.help.rstrip("."), _flag_range(spec, default),
                                              help_extra))).replace("%", "%%")
    kwargs["dest"] = name
    kwargs.update(overrides)
    return parser.add_argument(flag, **kwargs)


class Settings:
    """Base of the evented, mutable settings models a tab edits (see the module).

    Subclasses are ``@dataclass`` classes whose settings are declared with :func:`setting` or
    :func:`like`; other fields (a model spec, fit options) hold frozen values that validate
    themselves. Assigning a field validates it, then ``events.<field>`` fires when the value
    changed (``events.connect`` hears them all).
    """

    events: ClassVar[SignalGroupDescriptor] = SignalGroupDescriptor()

    def __post_init__(self) -> None:
        check_declared(self)

    def __setattr__(self, name: str, value: Any) -> None:
        spec = declared(type(self)).get(name)
        if spec is not None:
            value = spec.check(name, value)
        super().__setattr__(name, value)

    def values(self) -> dict[str, Any]:
        """Every field's value, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def update(self, values: dict[str, Any]) -> None:
        """Set several fields as they are given (a project's, a preset's); each one's event
        fires after all are set, so listeners see a consistent model, and while they fire
        :attr:`updating` is True: rules between fields (a preset resetting its steps) stand
        aside. Every value is checked before any is set.

        Raises:
            SettingError: Naming the first bad field (then nothing changed).
        """
        specs = declared(type(self))
        checked = {name: specs[name].check(name, value) if name in specs else value
                   for name, value in values.items()}
        outer = self.updating  # an update from a listener of another keeps it True
        object.__setattr__(self, "_updating", True)
        # Each field's own signal waits (the group's pause holds back only ``events.connect``
        # listeners), then they fire in the order the values were given.
        signals = [self.events[name] for name in checked if name in self.events]
        try:
            with self.events.paused():
                for signal in signals:
                    signal.pause()
                try:
                    for name, value in checked.items():
                        setattr(self, name, value)
                finally:
                    for signal in signals:
                        signal.resume()
        finally:
            object.__setattr__(self, "_updating", outer)

    @property
    def updating(self) -> bool:
        """True while :meth:`update` sets fields and their events fire."""
        return getattr(self, "_updating", False)

    def reset(self, *, keep: tuple[str, ...] = ()) -> None:
        """Every field back to its default, but those in ``keep``."""
        self.update({f.name: declared_default(type(self), f.name) for f in fields(self) if f.name not in keep})

    def copy(self) -> Any:
        """An independent copy (its own events)."""
        return dataclasses.replace(self)

    def to_json(self) -> dict:
        """The declared settings as JSON (a model holding other values adds them)."""
        return declared_json(self)

    @classmethod
    def from_json(cls, data: object) -> Any:
        """Validate and build; missing keys take their defaults.

        Raises:
            SettingError: Not an object, an unknown key or a bad value, naming the field.
        """
        return cls(**declared_from_json(cls, data))
