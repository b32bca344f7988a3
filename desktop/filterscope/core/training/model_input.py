"""The model's input, one rule for all: its shape, the size images are fitted to, how an
image is prepared (mask, resize) before the pipeline batches and augments it, and how its
pixels are scaled for the model (its preprocessing).

The Train tab's summary, the Augment tab's model view, training and (later) evaluation and
prediction all take the shape from :func:`input_shape` and the scaling from
:func:`preprocessing` and :func:`preprocess`, so none of them can disagree.

Preprocessing modes (a run records its mode in ``run.json``; runs without one are ``unit``):

- ``unit``: RGB or gray divided by 255, to [0, 1] (the chapter's ``rescale=1/255``; every model
  trained from scratch);
- ``caffe``: VGG16's own ``preprocess_input``: RGB turned to BGR, 0-255 with ImageNet's mean
  subtracted per channel, not scaled;
- ``tf``: MobileNetV2's own ``preprocess_input``: 0-255 scaled to [-1, 1].
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np

from filterscope.core.base.opencv import cv2
from filterscope.core.data.datasets import Dataset
from filterscope.core.masking.colordist import MaskParams
from filterscope.core.training.model_spec import ModelSpec

AUTO_MAX_SIDE = 256  # most common sizes up to this are trained on as they are
AUTO_SIDE = 150  # larger ones are scaled to this longest side (the chapter's target_size)
PREPROCESSINGS = ("unit", "caffe", "tf")
BASE_PREPROCESSING = {"vgg16": "caffe", "mobilenetv2": "tf"}  # keras.applications' own
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)  # ImageNet's, as Keras has it
PIXEL_RANGE = {"unit": 1.0, "caffe": 255.0, "tf": 2.0}  # width of each mode's input range


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
    raise ValueError(f"preprocessing: must be one of {', '.join(PREPROCESSINGS)}, not {mode!r}")


def unpreprocess(x: Any, mode: str) -> Any:
    """The inverse of :func:`preprocess`: model input back to RGB (or gray) in 0-255."""
    if mode == "unit":
        return x * 255.0
    if mode == "caffe":
        return (x + CAFFE_MEAN_BGR)[..., ::-1]
    if mode == "tf":
        return (x + 1.0) * 127.5
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
    elif len(dataset):
        uniq, freq = np.unique(dataset.sizes, axis=0, return_counts=True)
        width, height = (int(v) for v in uniq[int(np.argmax(freq))])
    else:
        height = width = AUTO_SIDE
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
