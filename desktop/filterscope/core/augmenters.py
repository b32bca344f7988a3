"""ChainSpec -> imgaug: the Sequential itself, batch augmentation, previews and Python code.

imgaug (1 s to import) is imported only when a Sequential is built, never to show code.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import cv2
import numpy as np

from filterscope.core.augment import CATALOGUE, ChainSpec, Step
from filterscope.core.jobs import Cancel, Report, check_cancel

PREVIEW_SIDE = 256  # larger images are downscaled before a preview is augmented


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
    from filterscope.core.imgaug_compat import iaa  # 1 s: only when a chain is really built

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

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Augment an (N, H, W, C) uint8 batch; shapes are kept (Crop resizes back)."""
        if not len(images):
            return images
        out = self._sequential(images=images)
        if isinstance(out, list) or out.shape != images.shape:  # Crop/Rot90 may change sizes
            out = np.stack([_fit(img, images.shape[1:3]) for img in out])
        return out


def _fit(image: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    if image.shape[:2] == tuple(shape):
        return image
    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def downscale(image: np.ndarray, side: int = PREVIEW_SIDE) -> np.ndarray:
    """Shrink an image so its longest side is at most ``side`` (previews of huge photos)."""
    scale = side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def preview(images: Sequence[np.ndarray], spec: ChainSpec, n: int, seed: int, *,
            report: Report, cancel: Cancel) -> list[np.ndarray]:
    """``n`` augmented versions of the given images (cycled), seeded: same seed, same images.

    Args:
        images: One image to vary, or several (random dataset images); RGB uint8.
        spec: The chain.
        n: How many results.
        seed: Random seed of the chain.
        report: Progress.
        cancel: Checked before the (single) imgaug call.
    """
    if n < 1 or not images:
        raise ValueError("a preview needs at least one image and one version")
    check_cancel(cancel)
    small = [downscale(img) for img in images]
    shape = small[0].shape[:2]
    batch = np.stack([_fit(small[i % len(small)], shape) for i in range(n)])
    report.progress(0.5, "Augmenting")
    out = BatchAugmenter(spec, seed)(batch)
    check_cancel(cancel)
    return list(out)


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
             "# from filterscope.core import imgaug_compat",
             "import imgaug.augmenters as iaa", "", "seq = iaa.Sequential(["]
    for step in spec.steps:
        prefix = "    " if step.enabled else "    # (off) "
        lines.append(f"{prefix}{_step_code(step)},")
    lines.append(f"], random_order={spec.random_order})")
    lines += ["", "# images: a uint8 array of shape (N, H, W, 3)", "augmented = seq(images=images)"]
    return "\n".join(lines)


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
    from filterscope.core.masking import MaskSession

    batch = []
    for image in images:
        check_cancel(cancel)
        if mask is not None:
            shown = replace(mask, output="black") if mask.output in ("alpha", "mask") else mask
            image = MaskSession(image).render(shown).image  # a few images: no colour table
        batch.append(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA))
    report.progress(0.5, "Augmenting")
    return BatchAugmenter(spec, seed)(np.stack(batch)).astype(np.float32) / 255.0
