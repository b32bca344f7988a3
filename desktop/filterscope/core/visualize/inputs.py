"""An image fed to a model exactly as its training fed it.

A run's model saw its images masked (when the run had a mask, at the image's own resolution),
resized with INTER_AREA to the run's input size, gray for one-channel models, and scaled to
[0, 1]: :func:`~filterscope.core.training.data_plan.prepare_image` and the run's data spec do the
same here. VGG16 gets Caffe-style input (see :mod:`filterscope.core.visualize.model_source`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filterscope.core.base.opencv import cv2
from filterscope.core.data.images import to_rgb
from filterscope.core.training.data_plan import prepare_image, training_mask
from filterscope.core.visualize.model_source import LoadedModel


@dataclass
class PreparedImage:
    """An image ready for the model, and what the model saw of it.

    Attributes:
        batch: (1, H, W, C) float32 in the model's units.
        seen: (h, w, 3) uint8 RGB at the image's own resolution, masked as in training (the
            picture to draw overlays on).
        fed: (H, W, 3) uint8 RGB at the model's size (gray repeated): what the model saw.
    """

    batch: np.ndarray
    seen: np.ndarray
    fed: np.ndarray


def prepare(loaded: LoadedModel, image: np.ndarray) -> PreparedImage:
    """Feed ``image`` (any array :func:`~filterscope.core.data.images.to_rgb` takes) as the
    model's training did."""
    rgb = to_rgb(image)
    mask = training_mask(loaded.data.mask_params()) if loaded.data is not None else None
    if mask is not None:
        from filterscope.core.masking.colordist import apply_mask

        rgb = apply_mask(rgb, mask).image
    h, w, channels = loaded.input_shape
    resized = prepare_image(rgb, (h, w), None)
    if channels == 1:
        gray = cv2.cvtColor(resized, cv2.COLOR_RGB2GRAY)[..., None]
        fed = np.repeat(gray, 3, axis=2)
        unit = gray.astype(np.float32) / 255.0
    else:
        fed, unit = resized, resized.astype(np.float32) / 255.0
    return PreparedImage(loaded.to_model(unit)[None], rgb, fed)
