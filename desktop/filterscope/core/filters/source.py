"""The image a filter runs over: a built-in digit or any picture, cropped to a size a learner can
follow, as the pixel values (0 to 255) the chapter multiplies.

A photo far larger than the view is shown downscaled (for display only) and the filter runs on
a crop of it at full resolution, where the user puts it (the centre by default): numbers and
windows are only readable on a few dozen pixels a side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filterscope.core.base.settings import SettingError
from filterscope.core.data.thumbnails import downscale

MAX_CROP = 64  # longest side the filter runs on: numpy over 64 x 64 stays instant
DEFAULT_DIGIT = 7  # the chapter's example digit
# ITU-R BT.601 luma, as Pillow's convert("L") weighs R, G and B.
_LUMA = np.array([0.299, 0.587, 0.114])


@dataclass(frozen=True)
class CropBox:
    """Where the crop lies in the full image, in pixels."""

    top: int
    left: int
    height: int
    width: int

    def slice(self, image: np.ndarray) -> np.ndarray:
        """The cropped part of ``image``."""
        return image[self.top:self.top + self.height, self.left:self.left + self.width]


def crop_box(shape: tuple[int, ...], side: int = MAX_CROP,
             centre: tuple[int, int] | None = None) -> CropBox:
    """A crop of at most ``side`` × ``side`` pixels centred on ``centre`` (row, column, a pixel
    of the image), the image's centre by default, moved as needed to lie inside the image.

    Raises:
        ValueError: ``side`` is below 1.
        SettingError: ``centre`` is not a pixel of the image (naming ``crop_centre``, the
            lesson's setting, and the image's rows and columns): it is never moved into it.
    """
    if side < 1:
        raise ValueError(f"the crop needs at least 1 pixel a side, not {side}")
    height, width = min(side, shape[0]), min(side, shape[1])
    row, col = centre if centre is not None else (shape[0] // 2, shape[1] // 2)
    if not (0 <= row < shape[0] and 0 <= col < shape[1]):
        raise SettingError("crop_centre", f"({row}, {col}) lies outside the image ({shape[0]} × {shape[1]} "
                           f"pixels: rows 0 to {shape[0] - 1}, columns 0 to {shape[1] - 1})")
    top = int(np.clip(row - height // 2, 0, shape[0] - height))
    left = int(np.clip(col - width // 2, 0, shape[1] - width))
    return CropBox(top, left, height, width)


def is_gray(rgb: np.ndarray) -> bool:
    """True when an (H, W, 3) image has equal R, G and B everywhere (a digit, a gray scan)."""
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def to_input(rgb: np.ndarray, colour: bool) -> np.ndarray:
    """Pixel values as the filter sees them: (H, W, 3) R, G, B in colour mode, else (H, W, 1)
    gray, whole numbers from 0 to 255 either way.

    Args:
        rgb: (H, W, 3) uint8 (from the app's image reader, or a digit made RGB).
        colour: Keep the three channels.
    """
    rgb = np.asarray(rgb)
    if colour:
        return rgb.astype(np.float64)
    gray = rgb[..., 0].astype(np.float64) if is_gray(rgb) else np.rint(rgb @ _LUMA)
    return gray[..., None]


def display_copy(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """A copy no longer than ``max_side`` a side for showing a big image whole, and its scale
    (display pixels per image pixel, 1.0 when it already fits). Never used for computing."""
    return downscale(rgb, max_side), min(1.0, max_side / max(rgb.shape[:2]))


def first_of_class(labels: np.ndarray, label: int = DEFAULT_DIGIT) -> int:
    """Index of the first item with ``label`` (the first seven by default), or 0 if none."""
    hits = np.flatnonzero(np.asarray(labels) == label)
    return int(hits[0]) if hits.size else 0
