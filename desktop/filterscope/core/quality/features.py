"""Every image of a dataset as a vector: EfficientNet-Lite0's pooled ImageNet features, cached.

The data-quality checks (suspect labels, near-copies, the map of the data) all compare images in
one feature space: the 1,280 averaged maps of the offline pretrained base (shipped with the app,
:mod:`~filterscope.core.transfer.package_weights`), at 224 px, through the feature cache training
uses (:mod:`~filterscope.core.transfer.features`: computed once, resumable, never inside the
dataset). Every subset is included: the training and validation images a run would use, and the
``test/`` folder of a dataset split into folders (which training never reads), each image
labelled with the subset it lies in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, SubReport
from filterscope.core.data.source import Source
from filterscope.core.training.base_spec import base_templates
from filterscope.core.training.data_plan import Plan, plan, plan_items
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.model_input import preprocessing
from filterscope.core.transfer.features import OK
from filterscope.core.transfer.run import cache_features, default_cache_dir

BASE = "efficientnet-lite0"
SIZE = 224
SUBSETS = ("train", "val", "test")


@dataclass
class DatasetFeatures:
    """A dataset's readable images as feature vectors.

    Attributes:
        source: The dataset (``Source.to_json()`` text form).
        classes: Class names, in label order.
        features: float32 (N, D), one row per readable image.
        labels: int32 (N,) the class each image is filed under.
        subsets: (N,) ``train``, ``val`` or ``test``: where the image lies (a split folder, or the
            seeded split a run of this dataset would make).
        keys: (N,) the dataset's key of each image (its path inside the dataset folder, or an
            in-memory image's key).
        paths: (N,) the file of each image (its key for an in-memory image).
        skipped: ``{"path", "reason"}`` of the images that could not be read.
        base: The base the features come from.
        notes: Plain sentences (cache entries not reused, and why).
    """

    source: str
    classes: list[str]
    features: np.ndarray = field(repr=False)
    labels: np.ndarray
    subsets: np.ndarray
    keys: list[str]
    paths: list[str]
    skipped: list[dict] = field(default_factory=list)
    base: str = BASE
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)


def dataset_features(source: str | Source, *, report: Report, cancel: Cancel,
                     cache_dir: str | os.PathLike | None = None, batch_size: int = 32,
                     seed: int = 0) -> DatasetFeatures:
    """The features of every readable image of a dataset (computing what the cache lacks).

    Args:
        source: A dataset folder (split into ``train/``, ``val/``, ``test/`` or not), a
            built-in dataset or a split manifest.
        report: Progress; the base's forward passes are most of it (the first time).
        cancel: Polled between batches; a cancelled extraction resumes where it stopped.
        cache_dir: The feature cache (default: the app's).
        batch_size: Images per forward pass.
        seed: The seed of the split that says which images are validation ones.

    Raises:
        PipelineError: The dataset cannot be opened.
        WeightsUnavailable, WeightsError, FeatureCacheError: The base's weights or the cache.
        Cancelled: ``cancel`` was set.
    """
    model = base_templates()[BASE]
    mode = preprocessing(model)
    parsed = source if isinstance(source, Source) else Source.parse(str(source), bare=True)
    data = DataSpec(parsed, image_size=(SIZE, SIZE), seed=seed)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    planned = plan(data, SubReport(report, 0.0, 0.05), cancel, 0, mode)
    dataset = planned.dataset
    test = dataset.select(subset="test") if "test" in dataset.subsets() else np.zeros(0, np.int64)
    parts: list[tuple[Plan, dict[str, np.ndarray]]] = [
        (planned, {name: items for name, (items, _labels) in planned.subsets.items()})]
    if len(test):
        parts.append((plan_items(dataset, data, test, report=SubReport(report, 0.05, 0.01), cancel=cancel,
                                 preprocessing=mode), {"test": test}))
    by_class = {c: i for i, c in enumerate(planned.classes)}
    vectors, labels, subsets, keys, paths, skipped, notes = [], [], [], [], [], list(planned.skipped), []
    start, share = 0.06, 0.94 / len(parts)
    for n, (part, named) in enumerate(parts):
        found = cache_features(part, model, seed, folder, batch_size=batch_size, cancel=cancel,
                               report=SubReport(report, start + n * share, share))
        skipped += found.skipped
        notes += found.notes
        for subset, items in named.items():
            for item in np.asarray(items, np.int64):
                row = found.rows.get(int(item))
                if row is None or found.status[row] != OK:
                    continue
                name = dataset.classes[int(dataset.labels[item])]
                if name not in by_class:
                    continue
                vectors.append(np.asarray(found.features[row], np.float32).reshape(-1))
                labels.append(by_class[name])
                subsets.append(subset)
                keys.append(dataset.keys[item])
                file = dataset.path(int(item))
                paths.append(str(file) if file is not None else dataset.keys[item])
    width = vectors[0].shape[0] if vectors else 0
    report.progress(1.0, f"Features of {len(keys):,} images")
    return DatasetFeatures(parsed.to_json(),
                           list(planned.classes), np.asarray(vectors, np.float32).reshape(-1, width),
                           np.asarray(labels, np.int32), np.asarray(subsets, dtype="<U5"), keys, paths,
                           skipped, BASE, notes)
