"""An image fed to a model exactly as its training fed it.

A run's model saw its images masked (when the run had a mask, at the image's own resolution),
resized with INTER_AREA to the run's input size, gray for one-channel models, and scaled to
[0, 1]: the run's input rule, applied by the same functions evaluation and prediction use.
VGG16 gets Caffe-style input (see :mod:`filterscope.core.visualize.model_source`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filterscope.core.base.jobs import NullReport
from filterscope.core.data.images import to_rgb
from filterscope.core.training.data_plan import image_masker
from filterscope.core.training.model_input import prepare_for_model
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
    model's training did: the run's :class:`~filterscope.core.training.model_input.InputRule`
    (:attr:`LoadedModel.rule`), through the functions evaluation and prediction use, scaled by
    :meth:`InputRule.to_model` as they scale it."""
    rgb = to_rgb(image)
    rule = loaded.rule
    seen = rgb if rule.mask is None else image_masker(rule.mask, rgb.shape[0] * rgb.shape[1], False,
                                                      NullReport())(rgb)
    fed = prepare_for_model(seen, rule, None)
    batch = rule.to_model(fed[None])  # evaluation's own arithmetic, bit for bit
    if rule.channels == 1:
        fed = np.repeat(fed, 3, axis=2)
    return PreparedImage(batch, seen, fed)
