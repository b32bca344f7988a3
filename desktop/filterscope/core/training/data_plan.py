"""Planning a training run's data, without TensorFlow: what to train on and how to feed it.

A :class:`DataSpec` names a source, how to split it, the image size, the mask and the augmentation
chain, and round-trips through JSON. :func:`plan` opens the dataset, splits it (or checks a
split manifest against it), settles the classes, the size and the channels, decides whether the
decoded images fit the memory cache, builds the mask as a function of an image and prepares
in-memory datasets (the built-in MNIST) as uint8 arrays. :mod:`filterscope.core.training.pipeline` turns
the plan into tf.data streams.

Files the dataset scan refused are left out here, up front, and listed as skipped; a manifest
that lists files gone from the dataset, or was made for another one, is an error. A dataset that
comes split into train/val/test folders trains on its train folder and validates on its val folder
(or a fraction of train, never test); its test folder is not read.

A run records its data as :func:`plan` settled it (``Plan.data``): the dataset by its absolute
source, and the split's file lists (a manifest's, or the one made on the fly from a folder), so
that its ``run.json`` trains again from any working directory without the manifest file, and on
another machine once :meth:`DataSpec.relocated` points it at the dataset's new place. A split
made on the fly from a built-in dataset is not recorded: its seed fixes it, and it cannot move.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from typing import Callable, Sequence

from filterscope.core.base.opencv import cv2
import numpy as np

from filterscope.core.augment.chain import ChainError, ChainSpec
from filterscope.core.base.jobs import Cancel, Report, SubReport, check_cancel
from filterscope.core.data.builtin import BuiltinUnavailable, list_builtins
from filterscope.core.data.datasets import Dataset, DatasetError
from filterscope.core.data.images import to_rgb
from filterscope.core.data.sources import open_source
from filterscope.core.data.splits import (
    SplitError,
    SplitManifest,
    folder_split,
    load_manifest,
    make_split,
    split_from_json,
    split_to_json,
)
from filterscope.core.masking.colordist import (
    MaskParams,
    MaskParamsError,
    MaskSession,
    apply_mask,
    colour_table,
)

MAX_SIDE = 4096
AUTO_MAX_SIDE = 256  # most common sizes up to this are trained on as they are
AUTO_SIDE = 150  # larger ones are scaled to this longest side (the chapter's target_size)
FALLBACK_CACHE_BYTES = 2 << 30  # when the free memory cannot be read
# Where the colour table repays its build: redmean builds in ~0.1 s (about 150 150x150 images
# worth of per-image masking), CIELAB in ~1.5 s (about 1,000 images).
TABLE_MIN_PIXELS = {"redmean": 3_000_000, "cielab": 24_000_000}
_NOT_SKIPS = frozenset({"duplicate", "empty-class", "nested-folder", "not-in-class", "not-a-subset",
                        "empty-subset"})
_PREFIXES = ("builtin:", "folder:", "manifest:")
_FIELDS = ("source", "manifest", "val_fraction", "seed", "image_size", "mask", "chain", "split")


class PipelineError(ValueError):
    """Data that cannot be trained on; the message names the field or the files at fault."""


@dataclass(frozen=True)
class DataSpec:
    """What to train on, as JSON: a source, how to split it, the size, the mask and the chain.

    Attributes:
        source: ``builtin:<id>``, ``folder:<path>``, a folder path or ``manifest:<split.json>``.
        manifest: A split manifest file; None splits on the fly (stratified, seeded) unless
            ``split`` is given.
        val_fraction: Validation share per class when splitting on the fly, in (0, 1); a
            dataset split into folders uses it only when it has no val folder.
        seed: Seeds the split, the shuffling and the augmentation.
        image_size: (height, width); None takes the dataset's most common size, photos larger
            than AUTO_MAX_SIDE scaled to AUTO_SIDE on their longer side (see fitted_size).
        mask: MaskParams JSON, applied to training and validation images alike.
        chain: ChainSpec JSON, applied to training batches only.
        split: The split's file lists as a run records them (``splits.split_to_json``): the
            classes, ``subsets`` of relative keys per class, and the method, value and seed
            they were drawn with. Not with ``manifest``.
    """

    source: str
    manifest: str | None = None
    val_fraction: float = 0.2
    seed: int = 0
    image_size: tuple[int, int] | None = None
    mask: dict | None = None
    chain: dict | None = None
    split: dict | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source.strip() \
                or any(self.source.startswith(p) and not self.source[len(p):].strip()
                       for p in _PREFIXES):
            raise PipelineError(f"source: must name a dataset, not {self.source!r}")
        if self.manifest is not None and (not isinstance(self.manifest, str) or not self.manifest):
            raise PipelineError(f"manifest: must be a file path or null, not {self.manifest!r}")
        if self.source.startswith("manifest:") and self.manifest not in (None, self.source[9:]):
            raise PipelineError("manifest: give the split as source 'manifest:...' or as manifest, "
                                "not two different files")
        if not _number(self.val_fraction) or not 0 < self.val_fraction < 1:
            raise PipelineError(f"val_fraction: must be between 0 and 1, not {self.val_fraction!r}")
        if not is_whole(self.seed, 0, 2**32 - 1):
            raise PipelineError(f"seed: must be a whole number from 0 to 2**32-1, not {self.seed!r}")
        size = self.image_size
        if size is not None:
            if not isinstance(size, (tuple, list)) or len(size) != 2 \
                    or not all(is_whole(v, 1, MAX_SIDE) for v in size):
                raise PipelineError(f"image_size: must be [height, width], each from 1 to {MAX_SIDE}, "
                                    f"not {size!r}")
            object.__setattr__(self, "image_size", (int(size[0]), int(size[1])))
        self.mask_params()
        self.chain_spec()
        if self.split is not None and self.manifest_path() is not None:
            raise PipelineError("split: a run records its split or names a manifest file, not both")
        self.split_manifest()

    def mask_params(self) -> MaskParams | None:
        """The mask as MaskParams (None for no mask)."""
        if self.mask is None:
            return None
        try:
            return MaskParams.from_json(self.mask)
        except MaskParamsError as exc:
            raise PipelineError(f"mask: {exc}") from exc

    def chain_spec(self) -> ChainSpec | None:
        """The augmentation chain as a ChainSpec (None for no augmentation)."""
        if self.chain is None:
            return None
        try:
            return ChainSpec.from_json(self.chain)
        except ChainError as exc:
            raise PipelineError(f"chain: {exc}") from exc

    def split_manifest(self) -> SplitManifest | None:
        """The recorded split as a manifest of this source (None when there is none)."""
        if self.split is None:
            return None
        try:
            return split_from_json(self.source, self.split)
        except SplitError as exc:
            raise PipelineError(f"split: {exc}") from exc

    def manifest_path(self) -> str | None:
        """The manifest file named by ``manifest`` or a ``manifest:`` source, else None."""
        if self.source.startswith("manifest:"):
            return self.source[len("manifest:"):]
        return self.manifest

    def folder(self) -> str | None:
        """The dataset folder a folder source names, as written; None for a built-in dataset or
        a manifest (which names the dataset itself)."""
        if _builtin(self.source) or self.source.startswith("manifest:"):
            return None
        return self.source[len("folder:"):] if self.source.startswith("folder:") else self.source

    def relocated(self, folder: str | os.PathLike) -> DataSpec:
        """The same data found in ``folder``: only the location changes.

        :func:`plan` checks the recorded classes and files against the folder when it opens it.
        A spec that still names a manifest file (a run made before runs recorded their split)
        takes the file's lists along, so the file is not needed at the new place.

        Raises:
            PipelineError: The data is built in (it has no location), or the manifest file
                cannot be read.
        """
        path = self.manifest_path()
        manifest = None if path is None else _load(path)
        source = manifest.source if self.source.startswith("manifest:") else self.source
        if _builtin(source):
            raise PipelineError(f"{source} is built in: it has no location to change")
        split = self.split if manifest is None else split_to_json(manifest)
        where = os.path.abspath(os.path.expanduser(folder))
        return replace(self, source=f"folder:{where}", manifest=None, split=split)

    def to_json(self) -> dict:
        """A JSON-able dict (image_size as a list)."""
        data = asdict(self)
        data["image_size"] = None if self.image_size is None else list(self.image_size)
        return data

    @classmethod
    def from_json(cls, data: object) -> DataSpec:
        """Validate and build from a dict.

        Raises:
            PipelineError: Naming the field at fault.
        """
        if not isinstance(data, dict):
            raise PipelineError("a data spec must be a JSON object")
        unknown = set(data) - set(_FIELDS)
        if unknown:
            raise PipelineError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
        if "source" not in data:
            raise PipelineError("source: missing")
        for name in ("mask", "chain", "split"):
            if data.get(name) is not None and not isinstance(data[name], dict):
                raise PipelineError(f"{name}: must be an object or null, not {data[name]!r}")
        return cls(**data)


def _builtin(source: str) -> bool:
    """True for a built-in dataset's source (a bare id counts when no such folder exists)."""
    kind = source.partition(":")[0]
    if kind in ("builtin", "folder", "manifest"):
        return kind == "builtin"
    return not os.path.exists(source) and source in {info.id for info in list_builtins()}


def _load(path: str) -> SplitManifest:
    try:
        return load_manifest(path)
    except SplitError as exc:
        raise PipelineError(f"manifest: {exc}") from exc


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_whole(value: object, low: int, high: int) -> bool:
    """True for an int (not a bool) from ``low`` to ``high``."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and low <= value <= high


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


def plan(data: DataSpec, report: Report, cancel: Cancel, cache_bytes: int | None) -> Plan:
    """Open, split and check the dataset of ``data`` and decide how to feed it.

    Args:
        data: What to train on.
        report: Progress from 0 to 0.8 (opening, splitting, the mask's colour table, the
            in-memory images).
        cancel: Polled throughout.
        cache_bytes: Memory allowed for caching decoded images; None allows a quarter of the
            available memory.

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
                    cache_bytes, validation, recorded)


def plan_items(dataset: Dataset, data: DataSpec, items: Sequence[int], *, report: Report,
               cancel: Cancel) -> Plan:
    """Plan feeding just ``items`` of an open dataset as one training subset (no validation).

    This is how the Augment tab shows what the model sees: the same size, channels, mask and
    chain as :func:`plan` decides for ``data``, on a few chosen images, with no scan and no split.
    Labels are the dataset's own.
    """
    chosen = np.asarray(items, np.int64).reshape(-1)
    if not len(chosen) or chosen.min() < 0 or chosen.max() >= len(dataset):
        raise PipelineError(f"items: choose images of the dataset (0 to {len(dataset) - 1})")
    none = (np.zeros(0, np.int64), np.zeros(0, np.int32))
    subsets = {"train": (chosen, dataset.labels[chosen].astype(np.int32)), "val": none}
    return _prepare(dataset, data, list(dataset.classes), [], subsets, [], report, cancel, 0, "none", data)


def _prepare(dataset: Dataset, data: DataSpec, classes: list[str], warnings: list[str],
             subsets: dict[str, tuple[np.ndarray, np.ndarray]], skipped: list[dict], report: Report,
             cancel: Cancel, cache_bytes: int | None, validation: str, recorded: DataSpec) -> Plan:
    """Size, channels, mask, cache and in-memory images for the chosen subsets."""
    mask = training_mask(data.mask_params())
    shape = input_shape(dataset, image_size=data.image_size, masked=mask is not None)
    pixels = dataset.pixels
    items = np.concatenate([s[0] for s in subsets.values()])
    planned = Plan(dataset, classes, subsets, shape[:2], shape[2], data.chain_spec(), skipped, warnings,
                   validation=validation, data=recorded)
    per_image = shape[0] * shape[1] * shape[2] + 512  # pixels plus tf.data's bookkeeping
    planned.cached = pixels is None and len(items) * per_image <= _cache_budget(cache_bytes)
    if mask is not None:
        n_pixels = len(items) * int(np.prod(pixels.shape[1:3])) if pixels is not None \
            else int(np.prod(dataset.sizes[items], axis=1, dtype=np.int64).sum())
        planned.masker = _masker(mask, n_pixels, pixels is None and not planned.cached, report)
    check_cancel(cancel)
    if pixels is not None:
        report.progress(0.75, "Preparing the images")
        planned.arrays = {s: _memory_images(planned, s, cancel) for s in subsets}
    return planned


def training_mask(mask: MaskParams | None) -> MaskParams | None:
    """The mask as training applies it: a model sees the masked photo, never the mask itself."""
    if mask is not None and mask.output in ("alpha", "mask"):
        return replace(mask, output="black")
    return mask


def input_shape(dataset: Dataset, *, image_size: tuple[int, int] | None = None,
                longest: int | None = None, masked: bool = False) -> tuple[int, int, int]:
    """The (height, width, channels) a model trained on ``dataset`` takes: the one rule.

    In-memory grayscale arrays (MNIST, (N, H, W) or (N, H, W, 1)) stay one channel unless masked
    (a mask makes colour images); everything else is RGB. The size is ``image_size`` when given,
    else the dataset's most common size fitted by :func:`fitted_size` (with ``longest``, scaled
    so its longer side is ``longest``).
    """
    pixels = dataset.pixels
    gray = pixels is not None and (pixels.ndim == 3 or pixels.shape[3] == 1)
    channels = 1 if gray and not masked else 3
    if image_size is not None:
        return int(image_size[0]), int(image_size[1]), channels
    if pixels is not None:
        height, width = int(pixels.shape[1]), int(pixels.shape[2])
    elif len(dataset):
        uniq, freq = np.unique(dataset.sizes, axis=0, return_counts=True)
        width, height = (int(v) for v in uniq[int(np.argmax(freq))])
    else:
        height = width = AUTO_SIDE
    return (*fitted_size(height, width, longest), channels)


def image_size_for(dataset: Dataset, longest: int | None) -> tuple[int, int] | None:
    """The ``DataSpec.image_size`` of a chosen longer side (None: the dataset's own, fitted)."""
    return None if longest is None else input_shape(dataset, longest=longest)[:2]


def _open(data: DataSpec, report: Report, cancel: Cancel) -> tuple[Dataset, SplitManifest | None]:
    """The dataset, and the split when the spec records one or names a manifest file (a file
    is checked against the dataset)."""
    source, path = data.source, data.manifest_path()
    manifest = data.split_manifest()
    if path is not None:
        manifest = _load(path)
        if source.startswith("manifest:"):
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
        note = (f"{why}: validating on {data.val_fraction:.0%} of {folders['train']}/ (stratified, "
                f"seed {data.seed}), never on test images")
    if "test" in folders:
        note += (f"; {folders['test']}/ ({len(dataset.select(subset='test')):,} images) is kept for "
                 "evaluation and never read")
    return manifest, [note]


def _same_source(recorded: str, dataset: Dataset) -> bool:
    if recorded == dataset.source:
        return True
    kind, _, rest = recorded.partition(":")
    if kind != "folder" or dataset.root is None:
        return False
    return os.path.realpath(rest) == os.path.realpath(dataset.root)


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


def fitted_size(height: int, width: int, longest: int | None = None) -> tuple[int, int]:
    """The (height, width) to train on for images mostly ``height`` x ``width``.

    With ``longest``, scaled so the longer side is ``longest``. Without, the size itself up to
    AUTO_MAX_SIDE (digits, icons, small crops), larger photos scaled to AUTO_SIDE on the longer
    side, as the chapter trains on 150 px photos: a phone photo at its own 4032 x 3024 would make
    a model of millions of weights and an input cache of gigabytes. The aspect ratio is kept.
    """
    if longest is None:
        if max(height, width) <= AUTO_MAX_SIDE:
            return height, width
        longest = AUTO_SIDE
    scale = longest / max(height, width)
    return max(1, int(height * scale + 0.5)), max(1, int(width * scale + 0.5))


def _masker(mask: MaskParams, n_pixels: int, every_epoch: bool, report: Report
            ) -> Callable[[np.ndarray], np.ndarray]:
    """The mask as a function of an RGB image, safe to call from tf.data's threads.

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


def prepare_image(image: np.ndarray, size: tuple[int, int], masker: Callable | None) -> np.ndarray:
    """Mask (at the image's own resolution, as the Mask tab shows it), then resize (INTER_AREA)."""
    if masker is not None:
        image = masker(image)
    if image.shape[:2] != tuple(size):
        image = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return image


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
