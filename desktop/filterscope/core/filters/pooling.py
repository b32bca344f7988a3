"""What comes after a convolution in the chapter's ConvNet: ReLU, then 2 × 2 max pooling.

Pooling works as ``keras.layers.MaxPooling2D(pool_size=2)`` with its defaults: the stride is the
pool size (pools side by side, never overlapping) and 'valid' padding, so an odd last row or
column that does not fill a pool is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def relu(values: np.ndarray) -> np.ndarray:
    """max(x, 0) element-wise: negative responses become 0, the rest pass unchanged."""
    return np.maximum(np.asarray(values, np.float64), 0.0)


def pooled_size(n: int, size: int = 2) -> int:
    """Output side of max pooling ``n`` values in non-overlapping pools of ``size``."""
    return n // size


def max_pool(maps: np.ndarray, size: int = 2) -> np.ndarray:
    """``MaxPooling2D(pool_size=size)`` of (H, W, C) maps: each channel pooled on its own.

    Returns:
        (H // size, W // size, C) float64.
    """
    maps = np.asarray(maps, np.float64)
    height, width = (pooled_size(n, size) for n in maps.shape[:2])
    trimmed = maps[: height * size, : width * size]
    if height == 0 or width == 0:  # fewer than two rows or columns: no pool fits
        return np.zeros((height, width, maps.shape[2]))
    return trimmed.reshape(height, size, width, size, maps.shape[2]).max(axis=(1, 3))


@dataclass(frozen=True)
class PoolStep:
    """One pooled value: the pool it comes from and which element won.

    Attributes:
        index: Position in row-major order over the pooled map.
        row: Pooled row.
        col: Pooled column.
        top: The pool's top row in the map being pooled.
        left: The pool's left column.
        window: (size, size) the pool's values.
        winner: (row, column) of the largest value in the map being pooled (the first, on a tie,
            as numpy's argmax counts).
    """

    index: int
    row: int
    col: int
    top: int
    left: int
    window: np.ndarray
    winner: tuple[int, int]

    @property
    def value(self) -> float:
        """The pooled value: the pool's maximum."""
        return float(self.window.max())


def pool_step_count(shape: tuple[int, ...], size: int = 2) -> int:
    """How many pools fit an (H, W, ...) map."""
    return pooled_size(shape[0], size) * pooled_size(shape[1], size)


def pool_step(maps: np.ndarray, index: int, *, channel: int = 0, size: int = 2) -> PoolStep:
    """The pool behind pooled position ``index`` of one channel of (H, W, C) maps.

    Raises:
        IndexError: ``index`` is out of range.
    """
    maps = np.asarray(maps, np.float64)
    count = pool_step_count(maps.shape, size)
    if not 0 <= index < count:
        raise IndexError(f"pool {index} is outside the {count} pools")
    row, col = divmod(index, pooled_size(maps.shape[1], size))
    top, left = row * size, col * size
    window = maps[top:top + size, left:left + size, channel]
    dr, dc = divmod(int(np.argmax(window)), size)
    return PoolStep(index, row, col, top, left, window, (top + dr, left + dc))
