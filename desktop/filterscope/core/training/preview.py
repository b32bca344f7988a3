"""What the model sees (being replaced by the pipeline's own first batch)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from filterscope.core.base.opencv import cv2
import numpy as np

from filterscope.core.augment.build import BatchAugmenter
from filterscope.core.augment.chain import ChainSpec
from filterscope.core.base.jobs import Cancel, Report, check_cancel


def model_batch(images: Sequence[np.ndarray], spec: ChainSpec, seed: int, *, size: int,
                mask: Any = None, report: Report, cancel: Cancel) -> np.ndarray:
    """A batch exactly as training will feed it: mask (if any), resize, augment, rescale.

    Args:
        images: RGB uint8 images (any sizes).
        spec: The augmentation chain (training subset only; validation is never augmented).
        seed: Random seed of the chain.
        size: The model's input side.
        mask: MaskParams or None.
        report: Progress.
        cancel: Checked between images.

    Returns:
        float32 (N, size, size, 3) in [0, 1].
    """
    from filterscope.core.masking.colordist import MaskSession

    batch = []
    for image in images:
        check_cancel(cancel)
        if mask is not None:
            shown = replace(mask, output="black") if mask.output in ("alpha", "mask") else mask
            image = MaskSession(image).render(shown).image  # a few images: no colour table
        batch.append(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA))
    report.progress(0.5, "Augmenting")
    return BatchAugmenter(spec, seed)(np.stack(batch)).astype(np.float32) / 255.0
