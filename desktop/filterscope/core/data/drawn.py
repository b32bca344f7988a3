"""A digit drawn by hand, made into a 28 × 28 image the way MNIST's digits were made.

MNIST's digits (LeCun et al.) were size-normalised to fit a 20 × 20 box, keeping their aspect
ratio, with anti-aliasing, then placed in a 28 × 28 image so that their centre of mass lies at
the centre. A model trained on MNIST expects exactly that: a digit drawn small in a corner, or
large across the whole canvas, is recognised only once it is brought to MNIST's size and place.
"""

from __future__ import annotations

import numpy as np

from filterscope.core.base.opencv import cv2

MNIST_SIDE = 28  # the image's side
MNIST_BOX = 20  # the side of the box the digit is fitted into


def mnist_digit(ink: np.ndarray) -> np.ndarray:
    """A drawing as an MNIST digit: white ink on black, fitted into 20 × 20, centred by mass.

    Args:
        ink: (H, W) ink amounts, 0 for none (uint8 0 to 255, or floats on that scale).

    Returns:
        (28, 28) uint8; all zeros when nothing is drawn.
    """
    ink = np.asarray(ink, np.float32)
    if ink.ndim != 2:
        raise ValueError(f"expected an (H, W) drawing, got shape {ink.shape}")
    digit = np.zeros((MNIST_SIDE, MNIST_SIDE), np.float32)
    rows, cols = np.nonzero(ink > 0)
    if rows.size == 0:
        return digit.astype(np.uint8)
    box = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = MNIST_BOX / max(box.shape)
    size = (max(1, round(box.shape[1] * scale)), max(1, round(box.shape[0] * scale)))
    smaller = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR  # anti-aliased either way
    fitted = cv2.resize(box, size, interpolation=smaller)
    height, width = fitted.shape
    mass_row, mass_col = _centre_of_mass(fitted)
    top = int(np.clip(round(MNIST_SIDE / 2 - mass_row), 0, MNIST_SIDE - height))
    left = int(np.clip(round(MNIST_SIDE / 2 - mass_col), 0, MNIST_SIDE - width))
    digit[top:top + height, left:left + width] = fitted
    return np.clip(np.rint(digit), 0, 255).astype(np.uint8)


def _centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel-centre coordinates plus a half (the
    centre of a 28-pixel side is 14)."""
    total = float(image.sum())
    rows, cols = np.indices(image.shape)
    return float((rows + 0.5).ravel() @ image.ravel()) / total, float((cols + 0.5).ravel() @ image.ravel()) / total
