"""Previews of an augmentation chain: seeded versions of dataset images, full-size copies.

The Augment tab shows :func:`preview` (downscaled, fast) and ``filterscope augment`` writes
:func:`augment_copies` (full resolution); for images up to PREVIEW_SIDE they are the same pixels
for the same seed. What the *model* sees (mask, size, channels, rescale) is the training
pipeline's business: :func:`filterscope.core.training.pipeline.preview_batch`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from filterscope.core.augment.build import BatchAugmenter, fit_size
from filterscope.core.augment.chain import ChainSpec
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.base.opencv import cv2
from filterscope.core.data.thumbnails import downscale

PREVIEW_SIDE = 256  # larger images are downscaled before a preview is augmented
# One imgaug call gets at most this many input bytes: 64 copies of a 12 MP photo would be 2.3 GB.
_BATCH_BYTES = 128 * 1024 * 1024


def preview(images: Sequence[np.ndarray], spec: ChainSpec, n: int, seed: int, *, gray: bool = False,
            report: Report, cancel: Cancel) -> list[np.ndarray]:
    """``n`` augmented versions of the given images (cycled), seeded: same seed, same images.

    Args:
        images: One image to vary, or several (random dataset images); RGB uint8.
        spec: The chain.
        n: How many results.
        seed: Random seed of the chain.
        gray: Augment (H, W, 1) gray images, as a one-channel model is fed (MNIST): colour
            steps then change brightness only, never tint a digit.
        report: Progress.
        cancel: Checked before the (single) imgaug call.
    """
    if n < 1 or not images:
        raise ValueError("a preview needs at least one image and one version")
    check_cancel(cancel)
    if gray:
        images = [cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None] for img in images]
    small = [downscale(img, PREVIEW_SIDE) for img in images]
    shape = small[0].shape[:2]
    batch = np.stack([fit_size(small[i % len(small)], shape) for i in range(n)])
    report.progress(0.5, "Augmenting")
    out = BatchAugmenter(spec, seed)(batch)
    check_cancel(cancel)
    return list(out)


def augment_copies(image: np.ndarray, spec: ChainSpec, n: int, seed: int, *, report: Report,
                   cancel: Cancel) -> list[np.ndarray]:
    """``n`` augmented copies of one RGB uint8 image at full resolution, seeded.

    The copies go through imgaug in as few calls as memory allows (one for small images), so the
    result is the Augment tab's preview with the same seed whenever the image is not downscaled.
    """
    check_cancel(cancel)
    augmenter = BatchAugmenter(spec, seed)
    per_call = max(1, min(n, _BATCH_BYTES // max(image.nbytes, 1)))
    out: list[np.ndarray] = []
    while len(out) < n:
        count = min(per_call, n - len(out))
        report.progress(len(out) / n, f"Augmenting {len(out) + 1}-{len(out) + count} of {n}")
        out.extend(augmenter(np.repeat(image[None], count, axis=0)))
        check_cancel(cancel)
    report.progress(1.0, "Done")
    return out
