"""A dataset's images as EfficientNet-Lite0 feature vectors, every subset included, cached."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from filterscope.core.base.jobs import NullReport, RecordingReport
from filterscope.core.quality.features import dataset_features

from tests.corpus import tree_digest

JOB = {"report": NullReport(), "cancel": threading.Event()}


def test_every_subset_of_a_split_folder_with_its_subset_and_label(results_photos: Path, tmp_path: Path) -> None:
    before = tree_digest(results_photos)
    report = RecordingReport()
    found = dataset_features(f"folder:{results_photos}", cache_dir=tmp_path / "cache", report=report,
                             cancel=threading.Event())
    assert max(f for f, _ in report.progress_calls) <= 1.0 + 1e-9
    assert found.classes == ["cat", "dog"] and found.features.shape == (len(found), 1280)
    counts = {s: int(np.sum(found.subsets == s)) for s in ("train", "val", "test")}
    assert counts == {"train": 16, "val": 6, "test": 7}  # test/ too, which training never reads
    for key, subset, label in zip(found.keys, found.subsets, found.labels):
        assert key.split("/")[0] == subset and key.split("/")[1] == found.classes[label]
    assert all(Path(p).is_file() for p in found.paths) and np.all(np.isfinite(found.features))
    again = dataset_features(f"folder:{results_photos}", cache_dir=tmp_path / "cache", **JOB)
    assert np.array_equal(again.features, found.features) and again.keys == found.keys
    assert tree_digest(results_photos) == before
