"""Pictures from arrays: the chapter's deprocessing, colour maps, mosaics, overlays, PNG bytes.

Plain numpy, OpenCV and matplotlib's colour maps (never pyplot); no TensorFlow.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from filterscope.core.base.opencv import cv2

EPSILON = 1e-7  # K.epsilon(), as the chapter's deprocess_image
DIVERGING = "RdBu_r"  # negative blue, zero white, positive red
SEQUENTIAL = "viridis"


def deprocess(x: np.ndarray) -> np.ndarray:
    """The chapter's ``deprocess_image``: zero mean, std 0.1, shift to 0.5, clip to [0, 1], uint8.

    Args:
        x: One image of any shape, any range; never modified.

    Returns:
        uint8 of the same shape.
    """
    x = np.asarray(x, np.float64)
    x = (x - x.mean()) / (x.std() + EPSILON) * 0.1 + 0.5
    return (np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1) or (H, W, 3) uint8 -> (H, W, 3) uint8 (gray repeated)."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


def total_variation(image: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels (anisotropic TV per pixel), a
    measure of noise: lower is smoother. Works on any range; compare like with like."""
    x = np.asarray(image, np.float64)
    return float(np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean())


def colormap(values: np.ndarray, name: str, vmin: float, vmax: float) -> np.ndarray:
    """Values -> uint8 RGB through a matplotlib colour map, scaled from vmin to vmax."""
    import matplotlib

    span = vmax - vmin if vmax > vmin else 1.0
    scaled = np.clip((np.asarray(values, np.float64) - vmin) / span, 0.0, 1.0)
    return (matplotlib.colormaps[name](scaled)[..., :3] * 255.0 + 0.5).astype(np.uint8)


def signed_colours(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """A diverging colour map symmetric around zero, so negative values show (blue) against
    positive ones (red); ``vmax`` defaults to the largest magnitude."""
    values = np.asarray(values, np.float64)
    vmax = float(np.abs(values).max()) if vmax is None and values.size else (vmax or 0.0)
    vmax = vmax if vmax > 0 else 1.0
    return colormap(values, DIVERGING, -vmax, vmax)


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement by a whole factor (pixels stay square and sharp)."""
    if factor <= 1:
        return image
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def factor_for(side: int, least: int) -> int:
    """The whole enlargement that brings ``side`` to at least ``least`` pixels (1 if it is)."""
    return max(1, math.ceil(least / max(side, 1)))


def mosaic(tiles: Sequence[np.ndarray] | np.ndarray, *, columns: int | None = None, gap: int = 2,
           background: int = 0) -> np.ndarray:
    """Equal-sized (H, W, 3) uint8 tiles in a grid, row by row, with ``gap`` pixels between.

    Args:
        tiles: The tiles.
        columns: Tiles per row; None makes the grid about square.
        gap: Pixels between tiles.
        background: Gray level of the gaps and of empty cells.
    """
    tiles = [as_rgb(t) for t in tiles]
    if not tiles:
        raise ValueError("a mosaic needs at least one tile")
    n = len(tiles)
    cols = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    h, w = tiles[0].shape[:2]
    out = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, 3), background, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = tile
    return out


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.4) -> np.ndarray:
    """A heatmap in [0, 1] over an RGB image, in the jet colours of Grad-CAM papers.

    Args:
        image: (H, W, 3) uint8.
        heat: (h, w) in [0, 1], resized (bilinear) to the image.
        alpha: Weight of the heat colours.
    """
    image = as_rgb(image)
    heat = cv2.resize(np.asarray(heat, np.float32), (image.shape[1], image.shape[0]),
                      interpolation=cv2.INTER_LINEAR)
    colours = cv2.applyColorMap((np.clip(heat, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)
    colours = cv2.cvtColor(colours, cv2.COLOR_BGR2RGB)
    mixed = image.astype(np.float32) * (1 - alpha) + colours.astype(np.float32) * alpha
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def png_bytes(rgb: np.ndarray) -> bytes:
    """PNG file content of an RGB (or gray) uint8 image."""
    image = np.asarray(rgb)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("cannot encode the picture as PNG")
    return data.tobytes()
