"""The model's input, one rule for all: its shape, the size images are fitted to, how an
image is prepared (mask, resize) before the pipeline batches and augments it, and how its
pixels are scaled for the model (its preprocessing).

The Train tab's summary, the Augment tab's model view, training, evaluation, prediction and the
visualisations all take the shape from :func:`input_shape`, the scaling from
:func:`preprocessing` and :func:`preprocess`, and a trained model's rule from :class:`InputRule`,
so none of them can disagree.

Preprocessing modes (a run records its mode in ``run.json``; runs without one are ``unit``):

- ``unit``: RGB or gray divided by 255, to [0, 1] (the chapter's ``rescale=1/255``; every model
  trained from scratch);
- ``caffe``: VGG16's own ``preprocess_input``: RGB turned to BGR, 0-255 with ImageNet's mean
  subtracted per channel, not scaled;
- ``tf``: MobileNetV2's own ``preprocess_input``: 0-255 scaled to [-1, 1];
- ``lite``: EfficientNet-Lite's (its TensorFlow training's): (x - 127) / 128, about [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from filterscope.core.base.opencv import cv2
from filterscope.core.data.datasets import Dataset
from filterscope.core.masking.colordist import MaskParams
from filterscope.core.training.lite_spec import VARIANTS

if TYPE_CHECKING:  # types only: model_spec reaches Keras, and filterscope-score runs without it
    from filterscope.core.training.data_spec import DataSpec
    from filterscope.core.training.model_spec import ModelSpec

AUTO_MAX_SIDE = 256  # most common sizes up to this are trained on as they are
AUTO_SIDE = 150  # larger ones are scaled to this longest side (the chapter's target_size)
FITTED_SIZE_RULE = (f"Without a size, the dataset's most common size is used up to {AUTO_MAX_SIDE} px; "
                    f"larger photos go to {AUTO_SIDE} px on their longer side, as in the chapter.")
"""The rule of :func:`fitted_size` in words, for the controls and ``--help``."""
PREPROCESSINGS = ("unit", "caffe", "tf", "lite")
BASE_PREPROCESSING = {"vgg16": "caffe", "mobilenetv2": "tf",  # keras.applications' own
                      **dict.fromkeys(VARIANTS, "lite")}  # the TensorFlow Lite models' own
LITE_MEAN, LITE_STD = 127.0, 128.0
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)  # ImageNet's, as Keras has it
# The width of each mode's input range.
PIXEL_RANGE = {"unit": 1.0, "caffe": 255.0, "tf": 2.0, "lite": 255.0 / LITE_STD}


PREPROCESSING_TEXT = {"unit": "rescale 1/255, to [0, 1]",
                      "caffe": "VGG16's own: RGB to BGR, ImageNet's mean subtracted, not scaled",
                      "tf": "MobileNetV2's own: scaled to [-1, 1]",
                      "lite": "EfficientNet-Lite's own: (x - 127) / 128"}
"""How each mode scales pixels, in words (the Augment tab's model view, summaries)."""


def preprocessing(model: ModelSpec) -> str:
    """How pixels are scaled for ``model``: its pretrained base's own mode, else ``unit``."""
    return "unit" if model.base is None else BASE_PREPROCESSING[model.base.name]


def preprocess(x: Any, mode: str) -> Any:
    """Float RGB (or gray) pixels in 0-255, (..., H, W, C), as a model of ``mode`` takes them.

    The same arithmetic runs on numpy arrays and on TensorFlow tensors (the pipeline), so
    training, evaluation and prediction scale pixels alike.

    Raises:
        ValueError: An unknown mode.
    """
    if mode == "unit":
        return x * (1.0 / 255.0)
    if mode == "caffe":
        return x[..., ::-1] - CAFFE_MEAN_BGR
    if mode == "tf":
        return x * (1.0 / 127.5) - 1.0
    if mode == "lite":
        return (x - LITE_MEAN) * (1.0 / LITE_STD)
    raise ValueError(f"preprocessing: must be one of {', '.join(PREPROCESSINGS)}, not {mode!r}")


def caffe_mean_text() -> str:
    """CAFFE_MEAN_BGR as Python source (the float32 values read back exactly from it)."""
    return str([round(float(v), 3) for v in CAFFE_MEAN_BGR])


def preprocess_code(mode: str, indent: str = "    ") -> list[str]:
    """Lines of Python that return :func:`preprocess` of float pixels ``x`` (the generated code
    of the Visualise and Results tabs: written here so that it cannot drift from the arithmetic).
    """
    return {
        "unit": [f"{indent}return x * (1.0 / 255.0)  # RGB (or gray) in [0, 1]"],
        "caffe": [f"{indent}# VGG16's preprocess_input: BGR, ImageNet's mean subtracted",
                  f"{indent}return x[..., ::-1] - np.array({caffe_mean_text()}, np.float32)"],
        "tf": [f"{indent}return x * (1.0 / 127.5) - 1.0  # MobileNetV2's preprocess_input: [-1, 1]"],
        "lite": [f"{indent}return (x - {LITE_MEAN!r}) * (1.0 / {LITE_STD!r})  # EfficientNet-Lite's"],
    }[mode]


def unpreprocess(x: Any, mode: str) -> Any:
    """The inverse of :func:`preprocess`: model input back to RGB (or gray) in 0-255."""
    if mode == "unit":
        return x * 255.0
    if mode == "caffe":
        return (x + CAFFE_MEAN_BGR)[..., ::-1]
    if mode == "tf":
        return (x + 1.0) * 127.5
    if mode == "lite":
        return x * LITE_STD + LITE_MEAN
    raise ValueError(f"preprocessing: must be one of {', '.join(PREPROCESSINGS)}, not {mode!r}")


def training_mask(mask: MaskParams | None) -> MaskParams | None:
    """The mask as training applies it: a model sees the masked photo, never the mask itself."""
    if mask is not None and mask.output in ("alpha", "mask"):
        return replace(mask, output="black")
    return mask


def input_shape(dataset: Dataset, *, image_size: tuple[int, int] | None = None,
                longest: int | None = None, masked: bool = False,
                mode: str = "unit") -> tuple[int, int, int]:
    """The (height, width, channels) a model trained on ``dataset`` takes: the one rule.

    In-memory grayscale arrays (MNIST, (N, H, W) or (N, H, W, 1)) stay one channel unless masked
    (a mask makes colour images) or fed to a pretrained base (any ``mode`` but ``unit``: the
    bases take RGB); everything else is RGB. The size is ``image_size`` when given,
    else the dataset's most common size fitted by :func:`fitted_size` (with ``longest``, scaled
    so its longer side is ``longest``).
    """
    pixels = dataset.pixels
    gray = pixels is not None and (pixels.ndim == 3 or pixels.shape[3] == 1)
    channels = 1 if gray and not masked and mode == "unit" else 3
    if image_size is not None:
        return int(image_size[0]), int(image_size[1]), channels
    if pixels is not None:
        height, width = int(pixels.shape[1]), int(pixels.shape[2])
    else:  # the most common size among the images whose size is known
        width, height = dataset.size_summary().get("most_common", (AUTO_SIDE, AUTO_SIDE))
    return (*fitted_size(height, width, longest), channels)


def image_size_for(dataset: Dataset, longest: int | None) -> tuple[int, int] | None:
    """The ``DataSpec.image_size`` of a chosen longer side (None: the dataset's own, fitted)."""
    return None if longest is None else input_shape(dataset, longest=longest)[:2]


def fitted_size(height: int, width: int, longest: int | None = None) -> tuple[int, int]:
    """The (height, width) to train on for images mostly ``height`` x ``width``.

    With ``longest``, scaled so the longer side is ``longest``. Without, the size itself up to
    AUTO_MAX_SIDE (digits, icons, small crops), larger photos scaled to AUTO_SIDE on the longer
    side, as the chapter trains on 150 px photos: a phone photo at its own 4032 x 3024 would make
    a model of millions of weights and an input cache of gigabytes. The aspect ratio is kept.
    """
    if longest is None:
        if max(height, width) <= AUTO_MAX_SIDE:
            return height, width
        longest = AUTO_SIDE
    scale = longest / max(height, width)
    return max(1, int(height * scale + 0.5)), max(1, int(width * scale + 0.5))


def prepare_image(image: np.ndarray, size: tuple[int, int], masker: Callable | None) -> np.ndarray:
    """Mask (at the image's own resolution, as the Mask tab shows it), then resize (INTER_AREA)."""
    if masker is not None:
        image = masker(image)
    if image.shape[:2] != tuple(size):
        image = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return image


@dataclass(frozen=True)
class InputRule:
    """How images are prepared for one trained model: its run's size, channels, mask and scaling.

    Attributes:
        size: (height, width) the model takes.
        channels: 3 (RGB) or 1 (gray: the built-in digits without a mask).
        mask: The mask the run trained with, as training applies it (``training_mask``), or None.
        preprocessing: How pixels are scaled (:func:`preprocess`): ``unit`` for models trained
            from scratch, a pretrained base's own mode otherwise.
    """

    size: tuple[int, int]
    channels: int
    mask: MaskParams | None = None
    preprocessing: str = "unit"

    def describe(self) -> str:
        """``"150 x 150 x 3, masked as in training, scaled to [0, 1]"``."""
        masked = ", masked as in training" if self.mask is not None else ""
        scaling = {"unit": "scaled to [0, 1]", "caffe": "VGG16's preprocessing (BGR, mean subtracted)",
                   "tf": "MobileNetV2's preprocessing (scaled to [-1, 1])",
                   "lite": "EfficientNet-Lite's preprocessing ((x - 127) / 128)"}[self.preprocessing]
        return f"{self.size[0]} x {self.size[1]} x {self.channels}{masked}, {scaling}"

    @classmethod
    def of_run(cls, input_shape: Sequence[int], data: DataSpec | None,
               preprocessing: str = "unit") -> InputRule:
        """The rule of a run's model: the input shape and preprocessing it recorded and its data
        spec's mask."""
        mask = None if data is None else training_mask(data.mask_params())
        return cls((int(input_shape[0]), int(input_shape[1])), int(input_shape[2]), mask, preprocessing)

    def to_model(self, batch: np.ndarray) -> np.ndarray:
        """Prepared uint8 images -> float32 as the model takes them, by the training pipeline's
        own arithmetic (:func:`preprocess`)."""
        return np.asarray(preprocess(batch.astype(np.float32), self.preprocessing), np.float32)

    def to_json(self) -> dict:
        """A JSON-able dict."""
        return {"size": list(self.size), "channels": self.channels,
                "mask": None if self.mask is None else self.mask.to_json(),
                "preprocessing": self.preprocessing}

    @classmethod
    def from_json(cls, data: object) -> InputRule:
        """The rule :meth:`to_json` wrote (an export's manifest carries it).

        Raises:
            ValueError: Not such a dict (the mask's own errors are MaskParamsError, a ValueError).
        """
        if not isinstance(data, dict) or not isinstance(data.get("size"), list) or len(data["size"]) != 2 \
                or data.get("channels") not in (1, 3) or data.get("preprocessing", "unit") not in PREPROCESSINGS:
            raise ValueError(f"input: not an input rule (size, channels 1 or 3, mask, preprocessing): {data!r}")
        mask = data.get("mask")
        return cls((int(data["size"][0]), int(data["size"][1])), int(data["channels"]),
                   None if mask is None else MaskParams.from_json(mask), data.get("preprocessing", "unit"))


def prepare_for_model(image: np.ndarray, rule: InputRule, masker: Callable | None) -> np.ndarray:
    """An RGB uint8 image as the model takes it before scaling (:meth:`InputRule.to_model`):
    uint8 (H, W, C).

    One channel is the image's luma (OpenCV's); for a gray image read as RGB, as training reads
    the built-in digits, that is the gray value itself.
    """
    if rule.channels == 1:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return prepare_image(image, rule.size, masker).reshape(*rule.size, rule.channels)
