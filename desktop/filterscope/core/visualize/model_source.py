"""The models one can look into: a training run, a ``.keras`` file, or an ImageNet model.

A run folder gives ``best.keras`` with the run's classes, input shape and data spec, so an image
is fed exactly as in training; a ``.keras`` file inside a run folder is that run's. Both are
opened by :mod:`filterscope.core.training.saved_model`, as evaluation and prediction open them:
a Lambda layer or custom code is refused, never run. The ImageNet models are
:func:`~filterscope.core.transfer.imagenet.imagenet_models`: EfficientNet-Lite0 (its weights
come from its Python package, so it works offline) and VGG16, the chapter's model, whose
ImageNet weights are used only when the file is already on this computer (Keras's cache or a
file given), never downloaded at run time; random weights are allowed and labelled so. Where
they come from is ``core.transfer``'s rule, the one training on a pretrained base follows.

Runs take their images as the run recorded (``model_input.preprocess``: [0, 1] for models trained
from scratch, a base's own scaling for runs on a pretrained base); ``.keras`` files outside a run
take [0, 1]; an ImageNet model takes its own: EfficientNet-Lite (x - 127) / 128, VGG16
Caffe-style input (BGR, 0-255, ImageNet's mean subtracted), as
``keras.applications.vgg16.preprocess_input`` does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.training.model_input import PIXEL_RANGE, InputRule, preprocess, unpreprocess
from filterscope.core.training.tf_runtime import import_tensorflow
from filterscope.core.transfer import weights as transfer_weights
from filterscope.core.transfer.bases import VGG16_TOP_SIZE
from filterscope.core.transfer.imagenet import (
    VGG16,
    imagenet_model,
    imagenet_models,
    load_imagenet,
    weights_missing,
)
from filterscope.core.visualize.layers import VisualizeError

if TYPE_CHECKING:
    from filterscope.core.training.data_plan import DataSpec
    from filterscope.core.training.saved_model import OpenedModel

VGG16_NAME = VGG16
VGG16_SIZE = VGG16_TOP_SIZE  # the size its classifier (and its ImageNet top weights) were made for
RANDOM_WEIGHTS = transfer_weights.RANDOM.label


class WeightsUnavailable(VisualizeError):
    """An ImageNet model's weights were asked for and are not on this computer (VGG16's)."""


@dataclass
class LoadedModel:
    """A model to look into, and how to feed it.

    Attributes:
        model: The Keras model.
        name: What to call it on screen ("EfficientNet-Lite0", a run's folder name, a file name).
        kind: ``run``, ``file`` or the ImageNet model's name (``efficientnet-lite0``, ``vgg16``).
        input_shape: (height, width, channels) it takes.
        preprocessing: A ``model_input`` mode: ``unit`` (RGB or gray in [0, 1]), ``caffe`` (BGR,
            0-255, mean subtracted), ``tf`` ([-1, 1]) or ``lite`` ((x - 127) / 128).
        weights: Where the weights come from ("best.keras", "ImageNet", "random weights").
        classes: Class names in output order, when known.
        data: The run's data spec (its mask, its size), when the model comes from a run.
        path: The file or folder it was loaded from.
    """

    model: Any = field(repr=False)
    name: str
    kind: str
    input_shape: tuple[int, int, int]
    preprocessing: str = "unit"
    weights: str = ""
    classes: list[str] | None = None
    data: DataSpec | None = field(default=None, repr=False)
    path: Path | None = None

    @property
    def imagenet(self) -> bool:
        """An ImageNet model (not a run's or a file's)."""
        return self.kind not in ("run", "file")

    @property
    def pixel_range(self) -> float:
        """Width of the input's range: 1 for [0, 1] images, 255 for Caffe-style input, 2 for [-1, 1]."""
        return PIXEL_RANGE[self.preprocessing]

    @property
    def rule(self) -> InputRule:
        """How its images are prepared and scaled: the run's rule (size, channels, mask,
        preprocessing), the one evaluation and prediction feed by."""
        return InputRule.of_run(self.input_shape, self.data, self.preprocessing)

    def to_model(self, rgb01: np.ndarray) -> np.ndarray:
        """Images as the model takes them from float RGB (or gray) in [0, 1], (..., H, W, C)."""
        return np.asarray(preprocess(np.asarray(rgb01, np.float32) * 255.0, self.preprocessing), np.float32)

    def to_rgb01(self, x: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`to_model`: model input back to RGB (or gray) in [0, 1] units."""
        return np.asarray(unpreprocess(np.asarray(x, np.float32), self.preprocessing) / 255.0, np.float32)

    def describe(self) -> dict:
        """A JSON-able summary."""
        return {"name": self.name, "kind": self.kind, "input_shape": list(self.input_shape),
                "preprocessing": self.preprocessing, "weights": self.weights,
                "classes": None if self.classes is None else len(self.classes),
                "path": None if self.path is None else str(self.path)}


def vgg16_weights_file(top: bool = True) -> Path:
    """Where Keras keeps VGG16's ImageNet weights (with or without the classifier)."""
    return transfer_weights.keras_models_dir() / transfer_weights.standard_files(VGG16_NAME, top=top)[0]


def imagenet_weights_missing(top: bool = True, name: str = VGG16_NAME) -> str | None:
    """Why an ImageNet model's weights cannot be used here and what to do, or None when they
    can (the transfer package's weight sources; nothing is loaded or downloaded)."""
    return weights_missing(name, top=top)


def load_source(source: str | os.PathLike, *, weights: str = "imagenet", size: int = VGG16_SIZE,
                report: Report, cancel: Cancel) -> LoadedModel:
    """Load ``source``: an ImageNet model (``efficientnet-lite0``, ``vgg16``), a run folder or a
    ``.keras`` file.

    Args:
        source: What to load.
        weights: ImageNet models only: ``imagenet`` (its package's, or VGG16's local file, else
            WeightsUnavailable), ``random``, or the path of a weights file.
        size: VGG16 only: its input side. At 224 it has its classifier (1,000 ImageNet classes);
            any other size gives the convolutional base alone. EfficientNet-Lite takes its own.
        report: Progress.
        cancel: Checked before the (slow) load.

    Raises:
        VisualizeError: Not a model, a model refused by safe mode, not an image model.
        WeightsUnavailable: ImageNet weights asked for and not on this computer.
        Cancelled: ``cancel`` was set.
    """
    check_cancel(cancel)
    report.progress(0.0, "Loading TensorFlow")
    import_tensorflow()  # quietly in the CLI, before keras brings it in
    name = imagenet_model(source)
    if name is not None:
        loaded = load_pretrained(name, weights, size=size)
    else:
        path = Path(str(source)).expanduser()
        if not path.exists():
            raise VisualizeError(f"{source}: no such run folder or .keras file (or say "
                                 f"{' or '.join(imagenet_models())})")
        loaded = _open_trained(path, report, cancel)
    report.progress(1.0, f"Loaded {loaded.name}")
    return loaded


def load_pretrained(name: str, weights: str = "imagenet", *, size: int = VGG16_SIZE) -> LoadedModel:
    """ImageNet model ``name`` with ImageNet weights (its package's, or VGG16's from this
    computer), random weights, or a weights file.

    Raises:
        WeightsUnavailable: ``imagenet`` and VGG16's weights file is not in Keras's cache.
        VisualizeError: A size too small for VGG16's five poolings, or a weights file that does
            not fit.
    """
    if name == VGG16_NAME and not 32 <= int(size) <= 1024:
        raise VisualizeError(f"VGG16 takes images from 32 to 1024 px, not {size}")
    try:
        pretrained = load_imagenet(name, weights, size=size)
    except transfer_weights.WeightsUnavailable as exc:
        raise WeightsUnavailable(str(exc)) from exc
    except transfer_weights.WeightsError as exc:
        raise VisualizeError(str(exc)) from exc
    return LoadedModel(pretrained.model, pretrained.title, name, pretrained.input_shape,
                       pretrained.preprocessing, pretrained.weights.label, pretrained.classes,
                       path=pretrained.weights.file)


def _open_trained(path: Path, report: Report, cancel: Cancel) -> LoadedModel:
    """A run's model or a ``.keras`` file, opened as evaluation and prediction open them
    (:func:`filterscope.core.training.saved_model.open_model`: safe mode, the run's classes and
    data spec, a model checked against its run)."""
    from filterscope.core.training.saved_model import ModelLoadError, open_model

    try:
        opened = open_model(path, which="best", report=report, cancel=cancel)
    except ModelLoadError as exc:
        raise VisualizeError(str(exc)) from exc
    return loaded_from_opened(opened, path)


def loaded_from_opened(opened: OpenedModel, path: Path | None = None) -> LoadedModel:
    """A model opened by :func:`~filterscope.core.training.saved_model.open_model` (as evaluation
    and prediction open it), to look into: the same model object, its classes and its run's
    rule (size, channels, mask, preprocessing).

    Args:
        opened: The opened model.
        path: What it was opened from (a run folder or a file); its ``.keras`` file by default.

    Raises:
        VisualizeError: The model does not take one image of a fixed size.
    """
    path = opened.path if path is None else path
    shape = image_input(opened.model, opened.path.name)
    return LoadedModel(opened.model, path.name, "run" if path.is_dir() else "file", shape,
                       opened.rule.preprocessing, opened.path.name, list(opened.classes),
                       opened.data_spec(), path)


def image_input(model: Any, name: str) -> tuple[int, int, int]:
    """The (height, width, channels) of a model that takes one image.

    Raises:
        VisualizeError: Several inputs, or an input that is not a fixed-size gray or RGB image.
    """
    inputs = model.inputs
    if len(inputs) != 1:
        raise VisualizeError(f"{name}: the model has {len(inputs)} inputs; only models that take "
                             "one image can be visualised")
    shape = tuple(inputs[0].shape[1:])
    if len(shape) != 3 or shape[2] not in (1, 3) or None in shape:
        raise VisualizeError(f"{name}: the model's input {list(shape)} is not an image of fixed size "
                             "(height, width, 1 or 3 channels)")
    return int(shape[0]), int(shape[1]), int(shape[2])
