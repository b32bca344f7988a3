"""Feeding images to a trained model as training fed them, in batches.

What a model is fed is decided by its run, never entered again: the size and channels it was
built for and the mask it was trained with (:class:`InputRule`), applied through training's own
functions (the shared reader, ``model_input.prepare_image``, ``data_plan.image_masker``) and
scaled as the training pipeline scales them (``model_input.preprocess``: 1/255, or a
pretrained base's own preprocessing). Augmentation is for training only and never
applied here. A test holds the arrays equal to what the training pipeline's validation stream
feeds for the same files.

:func:`predict_images` decodes and scales the next batches in background threads while the model predicts
the current one (``predict_on_batch``: ``model.predict`` sets up a data pipeline on every call,
which costs more than the prediction itself on a few hundred photos), polls ``cancel`` between
batches and names every file that cannot be read instead of stopping. With ``tta`` it predicts
each batch on every view of :data:`~filterscope.core.results.tta.VIEWS` and averages the
probabilities (test-time augmentation, off by default), keeping the identity view's own.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from filterscope.core.base.jobs import Cancel, NullReport, Report, check_cancel
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.images import ImageReadError, read_image
from filterscope.core.results.tta import VIEWS
from filterscope.core.training.data_plan import image_masker
from filterscope.core.training.model_input import InputRule, prepare_for_model

BATCH_SIZE = 64
AHEAD = 2  # batches decoded in the background while the model predicts


class Images(Protocol):
    """What :func:`predict_images` reads: a numbered list of images."""

    def __len__(self) -> int:
        """How many."""

    def name(self, i: int) -> str:
        """The path (or in-memory key) of image ``i``, for rows and messages."""

    def load(self, i: int) -> np.ndarray:
        """Image ``i`` as RGB uint8; ImageReadError when it cannot be read."""

    def pixel_count(self) -> int:
        """About how many pixels all images have (decides how the mask is computed)."""

    def fast_batch(self, indices: np.ndarray, rule: InputRule) -> np.ndarray | None:
        """The prepared batch at once when no per-image work is needed, else None."""


@dataclass
class FileImages:
    """Image files, each read by the shared reader."""

    paths: Sequence[Path]

    def __len__(self) -> int:
        return len(self.paths)

    def name(self, i: int) -> str:
        return str(self.paths[i])

    def load(self, i: int) -> np.ndarray:
        return read_image(self.paths[i])

    def pixel_count(self) -> int:
        return len(self.paths) * 300 * 300  # unknown until decoded: a small photo each

    def fast_batch(self, indices: np.ndarray, rule: InputRule) -> np.ndarray | None:
        return None


@dataclass
class DatasetImages:
    """Items of a scanned or in-memory dataset (``dataset.load``: the reader, or ``to_rgb``)."""

    dataset: Dataset
    items: np.ndarray

    def __len__(self) -> int:
        return len(self.items)

    def name(self, i: int) -> str:
        path = self.dataset.path(int(self.items[i]))
        return self.dataset.keys[int(self.items[i])] if path is None else str(path)

    def load(self, i: int) -> np.ndarray:
        return self.dataset.load(int(self.items[i]))

    def pixel_count(self) -> int:
        return int(np.prod(self.dataset.sizes[self.items], axis=1, dtype=np.int64).sum())

    def fast_batch(self, indices: np.ndarray, rule: InputRule) -> np.ndarray | None:
        """In-memory uint8 images already of the model's size and channels, unmasked (the digits
        as they are): training feeds them as they are too."""
        pixels = self.dataset.pixels
        if pixels is None or rule.mask is not None or pixels.dtype != np.uint8 \
                or pixels.shape[1:3] != rule.size or (pixels.ndim == 4) != (rule.channels == 3):
            return None
        return pixels[self.items[indices]].reshape(len(indices), *rule.size, rule.channels)


@dataclass
class Predicted:
    """Class probabilities per image.

    Attributes:
        probabilities: float32 (N, C); the rows of images that could not be read are NaN.
        errors: Image index -> why it could not be read.
        plain: With test-time augmentation, the identity view's probabilities (as without
            it), NaN rows as ``probabilities``; None without.
    """

    probabilities: np.ndarray
    errors: dict[int, str]
    plain: np.ndarray | None = None

    def read(self) -> np.ndarray:
        """Indices of the images that were predicted, in order."""
        return np.setdiff1d(np.arange(len(self.probabilities)), np.fromiter(self.errors, np.int64))


def masker_for(rule: InputRule, images: Images) -> Callable | None:
    """The run's mask as a function of an image, built once for these images."""
    if rule.mask is None:
        return None
    return image_masker(rule.mask, images.pixel_count(), False, NullReport())


def _load(images: Images, rule: InputRule, masker: Callable | None, start: int, stop: int, scale: bool
          ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Batch ``start:stop`` prepared: the images (uint8, or as the model takes them with
    ``scale``), their indices, errors by index."""
    batch, indices, errors = _load_uint8(images, rule, masker, start, stop)
    return (rule.to_model(batch) if scale else batch), indices, errors


def _load_uint8(images: Images, rule: InputRule, masker: Callable | None, start: int, stop: int
                ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    indices = np.arange(start, stop)
    fast = images.fast_batch(indices, rule)
    if fast is not None:
        return fast, indices, {}
    out = np.empty((stop - start, *rule.size, rule.channels), np.uint8)
    kept, errors = [], {}
    for i in range(start, stop):
        try:
            out[len(kept)] = prepare_for_model(images.load(i), rule, masker)
        except ImageReadError as err:
            errors[i] = err.reason
            continue
        kept.append(i)
    return out[:len(kept)], np.asarray(kept, np.int64), errors


def _prepared_batches(images: Images, rule: InputRule, masker: Callable | None, batch_size: int,
                      pool: ThreadPoolExecutor, scale: bool):
    """(batch, indices, errors) in order, AHEAD batches decoding (and with ``scale``, scaling)
    in the background."""
    starts = iter(range(0, len(images), batch_size))
    pending: deque[Future] = deque()

    def submit() -> None:
        start = next(starts, None)
        if start is not None:
            pending.append(pool.submit(_load, images, rule, masker, start,
                                       min(start + batch_size, len(images)), scale))

    for _ in range(AHEAD):
        submit()
    while pending:
        future = pending.popleft()
        submit()
        yield future.result()


def _predict_batch(model: Any, batch: np.ndarray, rule: InputRule, batch_size: int, pad: bool,
                   tta: bool, cancel: Cancel) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, the identity view's) of a prepared batch: without ``tta``, already scaled
    (:meth:`InputRule.to_model`) and the same array twice; with it, uint8 and the mean over
    :data:`VIEWS` and the first view's."""
    outputs = []
    for view in VIEWS if tta else VIEWS[:1]:
        check_cancel(cancel)
        x = rule.to_model(view.apply(batch)) if tta else batch
        if pad and len(x) < batch_size:
            x = np.concatenate([x, np.zeros((batch_size - len(x), *x.shape[1:]), x.dtype)])
        outputs.append(np.asarray(model.predict_on_batch(x), np.float32)[:len(batch)])
    if not tta:
        return outputs[0], outputs[0]
    return np.mean(outputs, axis=0, dtype=np.float32), outputs[0]


def predict_images(model: Any, images: Images, rule: InputRule, *, report: Report, cancel: Cancel,
                   batch_size: int = BATCH_SIZE, tta: bool = False, pad: bool = True,
                   on_batch: Callable[[np.ndarray, np.ndarray, dict[int, str]], None] | None = None
                   ) -> Predicted:
    """Class probabilities of every image, by batches; unreadable images are named, not fatal.

    Args:
        model: A Keras model whose input the rule describes.
        images: What to predict.
        rule: The run's input rule.
        report: Progress from 0 to 1, one step a batch.
        cancel: Polled between batches (and between views).
        batch_size: Images per batch.
        tta: Test-time augmentation: average the probabilities over every view of
            :data:`~filterscope.core.results.tta.VIEWS` (``len(VIEWS)`` times the work); the
            identity view's are kept in ``Predicted.plain``.
        pad: Feed every batch at ``batch_size`` (zeros after the last image; their rows dropped)
            when there is more than one batch: a Keras model traces itself again for a smaller
            last batch. A runtime without tracing (ONNX Runtime) passes False and saves the work.
        on_batch: Called after each batch with its indices, their probabilities and the
            batch's errors (for partial results).

    Raises:
        Cancelled: ``cancel`` was set; nothing is returned.
    """
    n = len(images)
    n_classes = int(model.output_shape[-1])
    probabilities = np.full((n, n_classes), np.nan, np.float32)
    plain = probabilities.copy() if tta else None
    errors: dict[int, str] = {}
    masker = masker_for(rule, images)
    pad = pad and n > batch_size  # every call one shape: a last, smaller batch would trace the model again
    check_cancel(cancel)
    with ThreadPoolExecutor(max_workers=AHEAD, thread_name_prefix="predict-feed") as pool:
        try:
            # Scaled in the decoding threads too (without views to apply first): the thread
            # that runs the model only runs it.
            batches = _prepared_batches(images, rule, masker, batch_size, pool, scale=not tta)
            for k, (batch, indices, failed) in enumerate(batches):
                check_cancel(cancel)
                errors.update(failed)
                if len(indices):
                    mean, first = _predict_batch(model, batch, rule, batch_size, pad, tta, cancel)
                    probabilities[indices] = mean
                    if plain is not None:
                        plain[indices] = first
                done = min((k + 1) * batch_size, n)
                report.progress(done / n, f"Predicted {done:,} of {n:,} images"
                                + (f" ({len(VIEWS)} views each)" if tta else ""))
                if on_batch is not None:
                    on_batch(indices, probabilities[indices], failed)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return Predicted(probabilities, errors, plain)
