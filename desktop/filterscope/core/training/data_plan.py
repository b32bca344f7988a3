"""Planning a training run's data, without TensorFlow: what it trains on and how to feed it.

:func:`plan` opens the dataset of a :class:`~filterscope.core.training.data_spec.DataSpec`,
splits it (or checks a split against it), settles the classes, takes the size and channels from
:func:`~filterscope.core.training.model_input.input_shape`, decides whether the decoded images
fit the memory cache, builds the mask as a function of an image and prepares in-memory datasets
(the built-in MNIST) as uint8 arrays. :func:`plan_items` plans a few chosen images the same way
(the Augment tab's model view). :mod:`filterscope.core.training.pipeline` turns a plan into
tf.data streams.

Files the dataset scan refused are left out here, up front, and listed as skipped; a manifest
that lists files gone from the dataset, or was made for another one, is an error. A dataset that
comes split into train/val/test folders trains on its train folder and validates on its val folder
(or a fraction of train, never test); its test folder is not read. ``Plan.data`` is the spec as
the run records it (see :mod:`~filterscope.core.training.data_spec`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from filterscope.core.augment.chain import ChainSpec
from filterscope.core.base.formats import percent
from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.data.builtin import BuiltinUnavailable
from filterscope.core.data.datasets import Dataset, DatasetError
from filterscope.core.data.images import to_rgb
from filterscope.core.data.source import FolderSource, ManifestSource, Source
from filterscope.core.data.sources import open_source
from filterscope.core.data.splits import (
    SplitManifest,
    folder_split,
    make_split,
    split_to_json,
)
from filterscope.core.masking.colordist import (
    MaskParams,
    MaskSession,
    apply_mask,
    colour_table,
)
from filterscope.core.training.data_spec import DataSpec, PipelineError, read_manifest
from filterscope.core.training.model_input import input_shape, prepare_image, training_mask

FALLBACK_CACHE_BYTES = 2 << 30  # when the free memory cannot be read
# Where the colour table repays its build: redmean builds in ~0.1 s (about 150 150x150 images
# worth of per-image masking), CIELAB in ~1.5 s (about 1,000 images).
TABLE_MIN_PIXELS = {"redmean": 3_000_000, "cielab": 24_000_000}
_NOT_SKIPS = frozenset({"duplicate", "empty-class", "nested-folder", "not-in-class", "not-a-subset",
                        "empty-subset"})


@dataclass
class Plan:
    """Everything decided before TensorFlow is involved.

    ``validation`` says where the validation images come from: ``manifest`` (a split manifest),
    ``fraction`` (a fraction of each class), ``folders`` (the dataset's own val folder) or
    ``folders+fraction`` (a fraction of its train folder), or ``none`` (a preview of chosen images).
    """

    dataset: Dataset
    classes: list[str]
    subsets: dict[str, tuple[np.ndarray, np.ndarray]]  # item indices and labels
    size: tuple[int, int]
    channels: int
    chain: ChainSpec | None
    skipped: list[dict]
    warnings: list[str]
    cached: bool = False
    masker: Callable[[np.ndarray], np.ndarray] | None = None
    arrays: dict[str, np.ndarray] | None = None  # in-memory datasets, prepared
    validation: str = "manifest"
    data: DataSpec | None = None  # the spec as the run records it (see the module's docstring)
    preprocessing: str = "unit"  # how the pixels are scaled for the model (model_input.preprocess)


def plan(data: DataSpec, report: Report, cancel: Cancel, cache_bytes: int | None,
         preprocessing: str = "unit") -> Plan:
    """Open, split and check the dataset of ``data`` and decide how to feed it.

    Args:
        data: What to train on.
        report: Progress from 0 to 0.8 (opening, splitting, the mask's colour table, the
            in-memory images).
        cancel: Polled throughout.
        cache_bytes: Memory allowed for caching decoded images; None allows a quarter of the
            available memory.
        preprocessing: The model's preprocessing mode (``model_input.preprocessing``); a
            pretrained base's makes gray images RGB.

    Raises:
        PipelineError: A missing dataset, fewer than two classes, a manifest made for another
            dataset or listing files that are gone, classes or files of a recorded split missing.
        Cancelled: ``cancel`` was set.
    """
    dataset, manifest = _open(data, report, cancel)
    check_cancel(cancel)
    report.progress(0.7, "Splitting")
    recorded = replace(data, source=dataset.source, manifest=None)
    validation, notes = "manifest", []
    if manifest is None:
        manifest, notes = _own_split(dataset, data)
        validation = manifest.method
        skipped = [{"path": p.path, "reason": p.reason} for p in dataset.problems
                   if p.kind not in _NOT_SKIPS and dataset.subset_of(p.path) != "test"]
    else:
        skipped = []
        if data.split is not None:  # a run's recorded split says where its validation came from
            validation = manifest.method
    if dataset.root is not None or recorded.split is not None or data.manifest_path() is not None:
        recorded = replace(recorded, split=split_to_json(manifest))
    classes, subsets, warnings = _resolve(dataset, manifest, skipped, data.split is not None)
    return _prepare(dataset, data, classes, notes + warnings, subsets, skipped, report, cancel,
                    cache_bytes, validation, recorded, preprocessing)


def plan_items(dataset: Dataset, data: DataSpec, items: Sequence[int], *, report: Report,
               cancel: Cancel, preprocessing: str = "unit") -> Plan:
    """Plan feeding just ``items`` of an open dataset as one training subset (no validation).

    This is how the Augment tab shows what the model sees: the same size, channels, mask and
    chain as :func:`plan` decides for ``data``, on a few chosen images, with no scan and no split.
    Labels are the dataset's own; ``preprocessing`` is the model's pixel scaling.
    """
    chosen = np.asarray(items, np.int64).reshape(-1)
    if not len(chosen) or chosen.min() < 0 or chosen.max() >= len(dataset):
        raise PipelineError(f"items: choose images of the dataset (0 to {len(dataset) - 1})")
    none = (np.zeros(0, np.int64), np.zeros(0, np.int32))
    subsets = {"train": (chosen, dataset.labels[chosen].astype(np.int32)), "val": none}
    return _prepare(dataset, data, list(dataset.classes), [], subsets, [], report, cancel, 0, "none", data,
                    preprocessing)


def _prepare(dataset: Dataset, data: DataSpec, classes: list[str], warnings: list[str],
             subsets: dict[str, tuple[np.ndarray, np.ndarray]], skipped: list[dict], report: Report,
             cancel: Cancel, cache_bytes: int | None, validation: str, recorded: DataSpec,
             preprocessing: str = "unit") -> Plan:
    """Size, channels, mask, cache and in-memory images for the chosen subsets."""
    mask = training_mask(data.mask_params())
    shape = input_shape(dataset, image_size=data.image_size, longest=data.longest_side,
                        masked=mask is not None, mode=preprocessing)
    pixels = dataset.pixels
    items = np.concatenate([s[0] for s in subsets.values()])
    planned = Plan(dataset, classes, subsets, shape[:2], shape[2], data.chain_spec(), skipped, warnings,
                   validation=validation, data=recorded, preprocessing=preprocessing)
    per_image = shape[0] * shape[1] * shape[2] + 512  # pixels plus tf.data's bookkeeping
    planned.cached = pixels is None and len(items) * per_image <= _cache_budget(cache_bytes)
    if mask is not None:
        n_pixels = len(items) * int(np.prod(pixels.shape[1:3])) if pixels is not None \
            else int(np.prod(dataset.sizes[items], axis=1, dtype=np.int64).sum())
        planned.masker = image_masker(mask, n_pixels, pixels is None and not planned.cached, report)
    check_cancel(cancel)
    if pixels is not None:
        report.progress(0.75, "Preparing the images")
        planned.arrays = {s: _memory_images(planned, s, cancel) for s in subsets}
    return planned


def _open(data: DataSpec, report: Report, cancel: Cancel) -> tuple[Dataset, SplitManifest | None]:
    """The dataset, and the split when the spec records one or names a manifest file (a file
    is checked against the dataset)."""
    source, path = data.source, data.manifest_path()
    manifest = data.split_manifest()
    if path is not None:
        manifest = read_manifest(path)
        if isinstance(source, ManifestSource):
            source = manifest.source
    report.progress(0.0, "Opening the dataset")
    try:
        dataset = open_source(source, report=SubReport(report, 0.0, 0.6), cancel=cancel)
    except (DatasetError, BuiltinUnavailable) as exc:
        raise PipelineError(f"source: {exc}") from exc
    if path is not None and not _same_source(manifest.source, dataset):
        raise PipelineError(f"manifest: {path} was made for {manifest.source}, not for "
                            f"{dataset.source}")
    return dataset, manifest


def _own_split(dataset: Dataset, data: DataSpec) -> tuple[SplitManifest, list[str]]:
    """The split of its own folders (with a note saying where validation comes from), or a
    stratified fraction of each class."""
    if not dataset.split_folders:
        return make_split(dataset, val_fraction=data.val_fraction, seed=data.seed), []
    manifest = folder_split(dataset, val_fraction=data.val_fraction, seed=data.seed)
    folders = dataset.split_folders
    if manifest.method == "folders":
        n_val = sum(len(keys) for keys in manifest.subsets["val"].values())
        note = f"validating on {folders['val']}/ ({n_val:,} images)"
    else:
        why = f"{folders['val']}/ is empty" if "val" in folders else "no val/ folder"
        note = (f"{why}: validating on {percent(data.val_fraction, 0)} of {folders['train']}/ (stratified, "
                f"seed {data.seed}), never on test images")
    if "test" in folders:
        note += (f"; {folders['test']}/ ({len(dataset.select(subset='test')):,} images) is kept for "
                 "evaluation and never read")
    return manifest, [note]


def split_offered(dataset: Dataset | None, manifest: SplitManifest | None) -> str | None:
    """What a run would validate on besides a held-out fraction, in words for the Train tab's
    Validation choice: the Dataset tab's split of this dataset, or the dataset's own val folder
    (the rule :func:`plan` follows); None when there is neither."""
    if dataset is None:
        return None
    if manifest is not None and manifest.source == dataset.source:
        return f"{sum(c['val'] for c in manifest.counts().values()):,} validation images"
    if dataset.counts("val").any():
        return f"its {dataset.split_folders['val']}/ folder, {int(dataset.counts('val').sum()):,} images"
    return None


def split_folders_sentence(dataset: Dataset) -> str | None:
    """How training uses a dataset split into folders (the rule :func:`plan` follows), in a
    sentence; None for a dataset of class folders."""
    folders = dataset.split_folders
    if not folders:
        return None
    counts = ", ".join(f"{folders[s]}/ {int(dataset.counts(s).sum()):,}" for s in dataset.subsets())
    val = f"{folders['val']}/" if dataset.counts("val").any() else f"part of {folders['train']}/"
    test = f" and never reads {folders['test']}/" if "test" in folders else ""
    return (f"Split by its own folders ({counts} images): training uses {folders['train']}/, "
            f"validates on {val}{test}.")


def _same_source(recorded: Source, dataset: Dataset) -> bool:
    if recorded == dataset.source:
        return True
    if not isinstance(recorded, FolderSource) or dataset.root is None:
        return False
    return os.path.realpath(recorded.path) == os.path.realpath(dataset.root)


def _resolve(dataset: Dataset, manifest: SplitManifest, skipped: list[dict], recorded: bool
             ) -> tuple[list[str], dict[str, tuple[np.ndarray, np.ndarray]], list[str]]:
    """Item indices and labels per subset, over the classes that have training images.

    ``recorded`` says the split is the run's own (not a manifest file): its classes and files
    missing from the dataset are what the run trained on, a dataset moved or changed since.
    """
    where = dataset.root or dataset.source
    if recorded:
        lost = [c for c in manifest.classes if c not in dataset.classes
                and any(per_class.get(c) for per_class in manifest.subsets.values())]
        if lost:
            raise PipelineError(f"{where}: {len(lost)} class(es) the run trained on are missing: "
                                f"{', '.join(map(repr, lost))}")
    index = {key: i for i, key in enumerate(dataset.keys)}
    refused = {p.path: p.reason for p in dataset.problems}
    members: dict[str, dict[str, list[int]]] = {"train": {}, "val": {}}
    gone: list[str] = []
    for subset in members:  # a test subset is for evaluation, never for training
        per_class = manifest.subsets[subset]
        for name in manifest.classes:
            found = members[subset].setdefault(name, [])
            for key in per_class.get(name, []):
                if key in index:
                    found.append(index[key])
                elif key in refused:
                    skipped.append({"path": key, "reason": refused[key]})
                else:
                    gone.append(key)
    if gone:
        listed = f"{', '.join(gone[:5])}{', ...' if len(gone) > 5 else ''}"
        if recorded:
            raise PipelineError(f"{where}: {len(gone)} file(s) the run trained on are missing: "
                                f"{listed}")
        raise PipelineError(f"manifest: {len(gone)} file(s) it lists are gone from {where}: {listed}")
    classes = [c for c in manifest.classes if members["train"][c]]
    warnings = [f"'{c}' has no training images: left out" for c in manifest.classes
                if not members["train"][c] and any(lists.get(c) for lists in manifest.subsets.values())]
    if len(classes) < 2:
        names = ", ".join(f"'{c}'" for c in classes) or "none"
        raise PipelineError(f"training needs at least two classes with images; {dataset.name} "
                            f"has {len(classes)} ({names})")
    warnings += [f"'{c}' has no validation images" for c in classes if not members["val"][c]]
    subsets = {}
    for subset in ("train", "val"):
        items = [(i, label) for label, c in enumerate(classes) for i in members[subset][c]]
        arr = np.asarray(items, np.int64).reshape(-1, 2)
        subsets[subset] = (arr[:, 0], arr[:, 1].astype(np.int32))
    return classes, subsets, warnings


def image_masker(mask: MaskParams, n_pixels: int, every_epoch: bool, report: Report
            ) -> Callable[[np.ndarray], np.ndarray]:
    """The mask as a function of an RGB image, safe to call from several threads (tf.data's in
    training; evaluation and prediction mask their images with it too).

    The 16 MB colour table makes masking 4x faster per pixel but costs time to build (once per
    settings and process): it is built here, before the input threads need it, when a dataset
    is big enough to repay it or is decoded every epoch. Smaller ones use a MaskSession per
    image; both give the same pixels.
    """
    if every_epoch or n_pixels >= TABLE_MIN_PIXELS[mask.distance]:
        report.progress(0.8, "Preparing the mask")
        colour_table(mask)
        return lambda image: apply_mask(image, mask).image
    MaskSession(np.zeros((1, 1, 3), np.uint8)).render(mask)  # fills the shared distance tables
    return lambda image: MaskSession(image).render(mask).image


def _memory_images(plan: Plan, subset: str, cancel: Cancel) -> np.ndarray:
    """uint8 (N, H, W, C) of an in-memory subset, masked and resized as a folder's would be."""
    items = plan.subsets[subset][0]
    pixels = plan.dataset.pixels
    shape = (*plan.size, plan.channels)
    if plan.masker is None and pixels.dtype == np.uint8 and pixels.shape[1:3] == plan.size \
            and (pixels.ndim == 4) == (plan.channels == 3):
        return pixels[items].reshape(len(items), *shape)  # MNIST as it is: no per-image work
    images = np.empty((len(items), *shape), np.uint8)
    for row, i in enumerate(items):
        if row % 1024 == 0:
            check_cancel(cancel)
        image = to_rgb(pixels[i])
        image = prepare_image(image if plan.channels == 3 else image[..., 0], plan.size, plan.masker)
        images[row] = image.reshape(shape)
    return images


def _cache_budget(cache_bytes: int | None) -> int:
    if cache_bytes is not None:
        return cache_bytes
    try:
        import psutil

        return psutil.virtual_memory().available // 4
    except ImportError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4
    except (AttributeError, ValueError, OSError):
        return FALLBACK_CACHE_BYTES
