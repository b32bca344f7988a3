"""ChainSpec -> imgaug: the Sequential itself, batch augmentation and Python code.

imgaug (1 s to import) is imported only when a Sequential is built, never to show code.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from filterscope.core.augment.chain import CATALOGUE, ChainSpec, Step
from filterscope.core.base.opencv import cv2

COLOUR_ONLY_STEPS = frozenset({"AddToHueAndSaturation", "Grayscale"})  # need three channels


def _kwargs(step: Step) -> dict[str, Any]:
    kinds = {p.name: p.kind for p in CATALOGUE[step.name]}
    kwargs: dict[str, Any] = {}
    for key, value in step.params.items():
        if kinds[key] in ("range", "int_range"):
            # imgaug's Dropout/CoarseDropout assert a < b on a tuple; a number means the same.
            value = value[1] if value[0] == value[1] else tuple(value)
        kwargs[key] = value
    if step.name == "Affine":
        kwargs["translate_percent"] = {"x": kwargs.pop("translate_x"), "y": kwargs.pop("translate_y")}
    return kwargs


def build_sequential(spec: ChainSpec, seed: int | None = None) -> Any:
    """The imgaug Sequential of ``spec`` (disabled steps left out), seeded when ``seed`` is set."""
    from filterscope.core.augment.imgaug_compat import iaa  # 1 s: only when a chain is really built

    children = []
    for step in spec.steps:
        if not step.enabled:
            continue
        augmenter = getattr(iaa, step.name)(**_kwargs(step))
        if step.sometimes is not None:
            augmenter = iaa.Sometimes(step.sometimes, augmenter)
        children.append(augmenter)
    sequential = iaa.Sequential(children, random_order=spec.random_order)
    if seed is not None:
        sequential.seed_(seed)  # reseeds every child too; a seed= argument would not
    return sequential


class BatchAugmenter:
    """Augments uint8 batches with one built Sequential; the training pipeline calls it on the
    training subset only, in its input threads (never on the GUI thread)."""

    def __init__(self, spec: ChainSpec, seed: int | None = None) -> None:
        self.spec = spec
        self._sequential = build_sequential(spec, seed)
        self._colour_only = any(s.enabled and s.name in COLOUR_ONLY_STEPS for s in spec.steps)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Augment an (N, H, W, C) uint8 batch; shapes are kept (Crop resizes back).

        One-channel batches stay one channel: steps that need colour (hue, grayscale) see the
        gray images as RGB and their result is averaged back to gray, as a gray model is fed.
        """
        if not len(images):
            return images
        if images.shape[-1] == 1 and self._colour_only:
            rgb = self._augment(np.repeat(images, 3, axis=-1))
            return np.round(rgb.mean(axis=-1, keepdims=True)).astype(np.uint8)
        return self._augment(images)

    def _augment(self, images: np.ndarray) -> np.ndarray:
        out = self._sequential(images=images)
        if isinstance(out, list) or out.shape != images.shape:  # Crop/Rot90 may change sizes
            out = np.stack([fit_size(img, images.shape[1:3]) for img in out])
        return out


def fit_size(image: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``image`` resized to (height, width) ``shape``, keeping a single channel axis."""
    if image.shape[:2] == tuple(shape):
        return image
    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA).reshape(
        *shape[:2], *image.shape[2:])


def _literal(value: Any) -> str:
    if isinstance(value, list):
        return f"({', '.join(_literal(v) for v in value)})"
    if isinstance(value, str):
        return repr(value)
    return repr(value)


def _step_code(step: Step) -> str:
    kwargs = _kwargs(step)
    parts = []
    for key, value in kwargs.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k!r}: {_literal(list(v) if isinstance(v, tuple) else v)}"
                              for k, v in value.items())
            parts.append(f"{key}={{{inner}}}")
        else:
            parts.append(f"{key}={_literal(list(value) if isinstance(value, tuple) else value)}")
    call = f"iaa.{step.name}({', '.join(parts)})"
    return f"iaa.Sometimes({step.sometimes}, {call})" if step.sometimes is not None else call


def to_python(spec: ChainSpec) -> str:
    """The chain as imgaug code a learner can paste and run."""
    lines = ["# On numpy 2, imgaug 0.4 needs numpy's removed names back first, as Filterscope does:",
             "# from filterscope.core.augment import imgaug_compat",
             "import imgaug.augmenters as iaa", "", "seq = iaa.Sequential(["]
    for step in spec.steps:
        prefix = "    " if step.enabled else "    # (off) "
        lines.append(f"{prefix}{_step_code(step)},")
    lines.append(f"], random_order={spec.random_order})")
    lines += ["", "# images: a uint8 array of shape (N, H, W, 3)", "augmented = seq(images=images)"]
    return "\n".join(lines)
