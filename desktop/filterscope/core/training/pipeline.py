"""tf.data input pipelines: a dataset, a split, a mask and an augmentation chain -> batches.

The chapter feeds Keras from Python generators that decode, resize and mask every image again in
every epoch, one image at a time (``ocv_imgen``), and its ``np.divide(images, rescale)`` multiplies
by 255 where it means to divide. Here a folder dataset is decoded by the shared reader in parallel
``tf.numpy_function`` calls, masked at its own resolution (what the Mask tab showed), resized,
and cached in memory as uint8 when it fits, so later epochs only shuffle, augment and rescale.
In-memory datasets (the built-in MNIST) go straight through ``from_tensor_slices``.

What to train on (:class:`~filterscope.core.training.data_spec.DataSpec`) and everything decided before
TensorFlow is involved (the split, the size, the mask, the cache) live in
:mod:`filterscope.core.training.data_plan`; this module turns that plan into streams.

Unreadable files never stop training: those the scan refused are left out up front, and a file
whose body turns out damaged while decoding is dropped from the stream; both are listed in
``Inputs.skipped``. TensorFlow is imported only inside :func:`build_inputs`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from filterscope.core.augment.chain import ChainSpec
from filterscope.core.base.jobs import Cancel, NullReport, Report, check_cancel
from filterscope.core.base.settings import check_number
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.images import ImageReadError, read_image
from filterscope.core.training.data_plan import Plan, plan, plan_items
from filterscope.core.training.data_spec import DataSpec, PipelineError
from filterscope.core.training.model_input import prepare_image, preprocess
from filterscope.core.training.tf_runtime import import_tensorflow

DECODE_CHUNK = 16  # files per decoding call
PREFETCH_BATCHES = 2


@dataclass
class Inputs:
    """The training and validation streams and what a model needs to know about them.

    Attributes:
        train: (float32 (B, H, W, C) scaled by the plan's preprocessing (``unit``: [0, 1]),
            int32 (B,)) batches, reshuffled every epoch,
            augmented when the spec has a chain.
        val: The same, in a fixed order, never augmented (empty when no class has validation
            images; skip validation then).
        classes: Class names in label order.
        input_shape: (H, W, C); C is 1 for grayscale in-memory datasets without a mask, else 3.
        n_train: Training images planned; a file found damaged while decoding is dropped from
            the stream, so an epoch can be shorter by the decode-time entries of ``skipped``.
        n_val: Validation images planned, likewise.
        skipped: ``{"path", "reason"}`` of every file left out; those found while decoding are
            added during the first epoch.
        warnings: Plain sentences (classes without validation images...).
        cached: True when decoded images are kept in memory after the first epoch.
        validation: Where the validation images come from (see ``Plan``).
        data: The spec as the run records it: the dataset by its absolute source, the split's
            file lists (see :mod:`filterscope.core.training.data_plan`).
        train_labels: int (n_train,) the planned training images' labels (class weights are
            computed from them).
    """

    train: Any
    val: Any
    classes: list[str]
    input_shape: tuple[int, int, int]
    n_train: int
    n_val: int
    skipped: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cached: bool = False
    validation: str = ""
    data: DataSpec | None = None
    train_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))


def build_inputs(data: DataSpec, *, batch_size: int, report: Report, cancel: Cancel,
                 cache_bytes: int | None = None, preprocessing: str = "unit") -> Inputs:
    """Open, split and check a dataset, then build its tf.data training and validation streams.

    Args:
        data: What to train on.
        batch_size: Images per batch (the last batch of an epoch may be smaller).
        report: Progress of the up-front work (scanning, splitting, the mask's colour table).
        cancel: Polled during the up-front work.
        cache_bytes: Memory allowed for caching decoded images; None allows a quarter of the
            available memory.
        preprocessing: How pixels are scaled (``model_input.preprocessing`` of the model):
            ``unit`` rescales to [0, 1], a pretrained base's mode applies its own scaling.

    Returns:
        The streams and their description.

    Raises:
        PipelineError: A bad spec, a missing dataset, fewer than two classes, a manifest made
            for another dataset or listing files that are gone.
        Cancelled: ``cancel`` was set before the streams were built.
    """
    check_number("batch_size", batch_size, 1, 1 << 20, integer=True, error=PipelineError)
    planned = plan(data, report, cancel, cache_bytes, preprocessing)
    check_cancel(cancel)
    report.progress(0.9, "Starting TensorFlow")
    tf = import_tensorflow()  # 3-6 s on first use: never at module import

    check_cancel(cancel)
    return _streams(tf, planned, data.seed, batch_size, report)


@dataclass
class PreviewBatch:
    """A training batch of chosen images, exactly as the model is fed it.

    Attributes:
        images: float32 (N, H, W, C) in [0, 1]: masked, resized, augmented, rescaled.
        labels: int32 (N,) class indices of the dataset.
        input_shape: (H, W, C), as training takes it.
        skipped: ``{"path", "reason"}`` of chosen files that could not be read (left out).
    """

    images: np.ndarray
    labels: np.ndarray
    input_shape: tuple[int, int, int]
    skipped: list[dict] = field(default_factory=list)


def preview_batch(dataset: Dataset, data: DataSpec, items: Sequence[int], *, report: Report,
                  cancel: Cancel, preprocessing: str = "unit") -> PreviewBatch:
    """The first training batch of a pipeline over just ``items``: what the model sees.

    The batch comes out of the same tf.data stream :func:`build_inputs` builds (decoding, mask,
    size, channels, the augmentation chain, the model's pixel scaling: ``preprocessing``), planned by
    :func:`~filterscope.core.training.data_plan.plan_items` on the open dataset, so a preview
    cannot disagree with training. Items may repeat (one image, several augmentations).

    Raises:
        PipelineError: Bad items, or none of the chosen images could be read.
        Cancelled: ``cancel`` was set.
    """
    planned = plan_items(dataset, data, items, report=report, cancel=cancel, preprocessing=preprocessing)
    check_cancel(cancel)
    report.progress(0.3, "Starting TensorFlow")
    tf = import_tensorflow()

    check_cancel(cancel)
    inputs = _streams(tf, planned, data.seed, len(planned.subsets["train"][0]), NullReport())
    report.progress(0.6, "Feeding the pipeline")
    for x, y in inputs.train.take(1):
        return PreviewBatch(x.numpy(), y.numpy(), inputs.input_shape, inputs.skipped)
    reasons = "; ".join(list(dict.fromkeys(f"{s['path']}: {s['reason']}" for s in inputs.skipped))[:3])
    raise PipelineError(f"none of the chosen images could be read ({reasons})")


def _streams(tf: Any, plan: Plan, seed: int, batch_size: int, report: Report) -> Inputs:
    shape = (*plan.size, plan.channels)
    n_train, n_val = (len(plan.subsets[s][0]) for s in ("train", "val"))
    skipped = list(plan.skipped)
    streams = {}
    for subset in ("train", "val"):
        training = subset == "train"
        if plan.arrays is not None:
            ds = tf.data.Dataset.from_tensor_slices((plan.arrays[subset], plan.subsets[subset][1]))
            if training:
                ds = ds.shuffle(max(n_train, 1), seed=seed, reshuffle_each_iteration=True)
        else:
            ds = _folder_stream(tf, plan, subset, shape, skipped, shuffle=training, seed=seed)
        ds = ds.batch(batch_size)
        if training and plan.chain is not None and any(s.enabled for s in plan.chain.steps):
            ds = _augmented(tf, ds, plan.chain, seed, shape)
        scale = tf.autograph.experimental.do_not_convert(
            lambda x, y: (preprocess(tf.cast(x, tf.float32), plan.preprocessing), y))
        ds = ds.map(scale, num_parallel_calls=_threads())
        streams[subset] = ds.prefetch(PREFETCH_BATCHES).with_options(_options(tf))
    cached = ", cached after the first epoch" if plan.cached else ""
    note = f"; {len(skipped)} unreadable file(s) skipped" if skipped else ""
    report.progress(1.0, f"{n_train:,} training and {n_val:,} validation images, "
                         f"{len(plan.classes)} classes{cached}{note}")
    return Inputs(streams["train"], streams["val"], list(plan.classes), shape, n_train, n_val,
                  skipped, list(plan.warnings), plan.cached, plan.validation,
                  plan.data, np.asarray(plan.subsets["train"][1]))


def _threads() -> int:
    return max(2, os.cpu_count() or 2)


def _options(tf: Any) -> Any:
    """Fixed parallelism instead of tf.data's autotuning: with a numpy_function in the stream,
    TF 2.21's autotuner holds up the end of every iterator that ran it (one per epoch in Keras)
    by up to 0.6 s, longer than a small dataset's whole epoch takes from the cache."""
    options = tf.data.Options()
    options.autotune.enabled = False
    options.deterministic = True  # the same seed gives the same batches
    return options


def _folder_stream(tf: Any, plan: Plan, subset: str, shape: tuple[int, int, int],
                   skipped: list[dict], *, shuffle: bool, seed: int) -> Any:
    """Decoded images of a folder subset, in chunks of DECODE_CHUNK files per Python call."""
    items, labels = plan.subsets[subset]
    decode = _decoder([plan.dataset.path(int(i)) for i in items],
                      [plan.dataset.keys[int(i)] for i in items], shape, plan.masker, skipped)
    ds = tf.data.Dataset.from_tensor_slices((np.arange(len(items), dtype=np.int64), labels))
    if shuffle and not plan.cached:  # shuffle names, not pixels, when every epoch decodes anyway
        ds = ds.shuffle(max(len(items), 1), seed=seed, reshuffle_each_iteration=True)

    @tf.autograph.experimental.do_not_convert
    def load(i: Any, y: Any) -> tuple[Any, Any]:
        images, kept = tf.numpy_function(decode, [i, y], (tf.uint8, tf.int32), stateful=False)
        images.set_shape((None, *shape))
        kept.set_shape((None,))
        return images, kept

    # One numpy_function call per image costs about 0.15 ms of TensorFlow overhead, as much as
    # masking a 150x150 image: chunks share it, and still decode in parallel.
    ds = ds.batch(DECODE_CHUNK).map(load, num_parallel_calls=_threads()).unbatch()
    if plan.cached:
        ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(max(len(items), 1), seed=seed, reshuffle_each_iteration=True)
    return ds


def _decoder(paths: list[Path], names: list[str], shape: tuple[int, int, int], masker: Callable | None,
             skipped: list[dict]) -> Callable:
    """The function run in tf.data's threads: read, mask and resize a chunk of files, leaving
    out (and listing once in ``skipped``) those that cannot be read."""
    lock = threading.Lock()
    failed: set[int] = set()

    def decode(indices: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images, kept = [], []
        for i, label in zip(indices.tolist(), labels):
            try:
                image = read_image(paths[i])
            except ImageReadError as err:
                with lock:
                    if i not in failed:  # an uncached stream meets the same file every epoch
                        failed.add(i)
                        skipped.append({"path": names[i], "reason": err.reason})
                continue
            images.append(prepare_image(image, shape[:2], masker))
            kept.append(label)
        out = np.stack(images) if images else np.zeros((0, *shape), np.uint8)
        return out, np.asarray(kept, np.int32)

    return decode


def _augmented(tf: Any, ds: Any, chain: ChainSpec, seed: int, shape: tuple[int, int, int]) -> Any:
    """Training batches through one seeded BatchAugmenter, one batch at a time (imgaug's random
    state is shared, so the map runs sequentially and under a lock)."""
    from filterscope.core.augment.build import BatchAugmenter

    augmenter = BatchAugmenter(chain, seed)
    lock = threading.Lock()

    def augment(images: np.ndarray) -> np.ndarray:
        with lock:
            return augmenter(images)

    def step(x: Any, y: Any) -> tuple[Any, Any]:
        out = tf.numpy_function(augment, [x], tf.uint8, stateful=True)
        out.set_shape((None, *shape))
        return out, y

    return ds.map(tf.autograph.experimental.do_not_convert(step))
