"""Test-time augmentation (TTA): a model's probabilities averaged over a few views of each image.

The views are declared once here (:data:`VIEWS`) and applied to the prepared uint8 batch (the
run's size, channels and mask already applied, :mod:`~filterscope.core.results.feed`), before
the run's own scaling (``InputRule.to_model``), so no rule of resizing or scaling is restated.

The views: the image itself, its horizontal mirror, and shifts of :data:`SHIFT` (4 %) of the
side left, right, up and down, the uncovered edge filled by reflecting the image (a black or
constant border would be a pattern the model never saw in training; reflection keeps the edge's
texture). Shifts of a few per cent are the small translations convolution and pooling are
almost, but not quite, insensitive to, so averaging them smooths a prediction that hangs on the
exact framing. There is no vertical flip: photos of things have an up (sky, ground, how an
object rests), and an upside-down view is an image the model never learnt from, which mostly
adds noise. The horizontal mirror is label-preserving for most photos but not for writing: a
mirrored digit or letter may be another class, or none. That is why TTA is an option, off by
default, and why an evaluation with TTA also reports the accuracy without it (the identity
view's predictions, computed anyway): the gain is measured, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from filterscope.core.base.formats import percent

SHIFT = 0.04  # of the image's side


@dataclass(frozen=True)
class View:
    """One way of looking at an image: mirrored left-right, then shifted.

    Attributes:
        name: As reports name it.
        flip: Mirrored left-right.
        dy: Shift down, as a fraction of the height (negative: up).
        dx: Shift right, as a fraction of the width (negative: left).
    """

    name: str
    flip: bool = False
    dy: float = 0.0
    dx: float = 0.0

    def apply(self, batch: np.ndarray) -> np.ndarray:
        """The view of a batch of images (N, H, W, C), of the same shape and dtype."""
        if self.flip:
            batch = batch[:, :, ::-1]
        for axis, fraction in ((1, self.dy), (2, self.dx)):
            batch = _shift(batch, axis, shift_pixels(batch.shape[axis], fraction))
        return np.ascontiguousarray(batch)


def shift_pixels(side: int, fraction: float) -> int:
    """Pixels a shift of ``fraction`` of ``side`` moves: rounded, at least one when non-zero
    (a 28-pixel digit moves by one), never the whole side."""
    if fraction == 0:
        return 0
    pixels = max(1, round(abs(fraction) * side))
    return int(np.sign(fraction)) * min(pixels, side - 1)


def _shift(batch: np.ndarray, axis: int, pixels: int) -> np.ndarray:
    """Content moved ``pixels`` along ``axis`` (positive: to higher indices), the uncovered
    edge reflected."""
    if pixels == 0:
        return batch
    n = abs(pixels)
    pad = [(0, 0)] * batch.ndim
    pad[axis] = (n, 0) if pixels > 0 else (0, n)
    padded = np.pad(batch, pad, mode="reflect")
    keep = [slice(None)] * batch.ndim
    keep[axis] = slice(0, batch.shape[axis]) if pixels > 0 else slice(n, n + batch.shape[axis])
    return padded[tuple(keep)]


VIEWS: tuple[View, ...] = (
    View("identity"),
    View("horizontal flip", flip=True),
    View(f"shift left {SHIFT:.0%}", dx=-SHIFT),
    View(f"shift right {SHIFT:.0%}", dx=SHIFT),
    View(f"shift up {SHIFT:.0%}", dy=-SHIFT),
    View(f"shift down {SHIFT:.0%}", dy=SHIFT),
)
"""The views averaged; the first is the image itself (its predictions are the ones without TTA)."""


def tta_summary(true: np.ndarray, without: np.ndarray, with_tta: np.ndarray) -> dict:
    """What TTA did on labelled images: ``{"views", "accuracy_without", "accuracy_with", "gain"}``
    (gain in accuracy, a fraction: +0.01 is one point).

    Args:
        true: True class per image.
        without: Predicted class per image from the identity view alone.
        with_tta: Predicted class per image from the averaged views.
    """
    before = float(np.mean(without == true))
    after = float(np.mean(with_tta == true))
    return {"views": [v.name for v in VIEWS], "accuracy_without": before, "accuracy_with": after,
            "gain": after - before}


def tta_sentence(tta: dict) -> str:
    """``"test-time augmentation: 6 views, accuracy 90.0 % without, 92.0 % with (gain +2.0
    points)"``: the one sentence the CLI, the Results tab and the report show."""
    points = 100 * tta["gain"]
    return (f"test-time augmentation: {len(tta['views'])} views, accuracy "
            f"{percent(tta['accuracy_without'])} without, {percent(tta['accuracy_with'])} with "
            f"(gain {points:+.1f} points)")
