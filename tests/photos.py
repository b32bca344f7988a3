"""Photo-like test images: a small colour grid upsampled (bicubic) into smooth patches, plus
sensor noise, so they mask, augment and compress like small photos rather than like pure noise.

Each test module keeps its own generator (sizes, colours and noise chosen for what it checks);
these are the steps they share. Every value is drawn from the ``rng`` given, in call order.
"""

from __future__ import annotations

import cv2
import numpy as np

LEAF_GREEN = (70, 88, 36)  # near the chapter's first target: kept by its mask
SOIL_BROWN = (120, 95, 70)  # far from all four targets: removed


def smooth_photo(rng: np.random.Generator, coarse: np.ndarray, height: int, width: int, noise: int,
                 noise_dtype: type = np.int64) -> np.ndarray:
    """``coarse`` (a uint8 colour grid) upsampled to height x width, plus uniform noise in +-noise."""
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    noisy = field + rng.integers(-noise, noise + 1, field.shape, dtype=noise_dtype)
    return noisy.clip(0, 255).astype(np.uint8)


def leaf_and_soil(rng: np.random.Generator, rows: int, cols: int, jitter: int = 0) -> np.ndarray:
    """A rows x cols uint8 grid, each cell leaf green or soil brown (even odds), each channel
    then moved by a uniform +-jitter."""
    coarse = np.where(rng.random((rows, cols, 1)) < 0.5, [[LEAF_GREEN]], [[SOIL_BROWN]])
    if jitter:
        coarse = coarse + rng.integers(-jitter, jitter + 1, coarse.shape)
    return coarse.clip(0, 255).astype(np.uint8)
