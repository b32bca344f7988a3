"""The map of the data: t-SNE of features (with landmark placement), deterministic, separating."""

from __future__ import annotations

import csv
import threading

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport
from filterscope.core.quality.embedding import (
    CSV_COLUMNS,
    DataMap,
    embed,
    evaluation_map,
    features_map,
    inside,
    write_map_csv,
)
from filterscope.core.quality.embedding import class_agreement as knn_agreement
from filterscope.core.quality.features import DatasetFeatures


def clusters(n: int, k: int, d: int = 64, seed: int = 0, spread: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """``n`` vectors around ``k`` random class centres (noise 1, centres ~spread*sqrt(d) apart)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, spread, (k, d))
    labels = rng.integers(0, k, n)
    return (centres[labels] + rng.normal(0, 1, (n, d))).astype(np.float32), labels.astype(np.int32)


def run(features: np.ndarray, **kwargs) -> np.ndarray:
    return embed(features, report=NullReport(), cancel=threading.Event(), max_iter=350, **kwargs)


def test_shape_range_and_seeded_determinism() -> None:
    x, _ = clusters(300, 4)
    a, b = run(x, seed=3), run(x, seed=3)
    assert a.shape == (300, 2) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1 + 1e-6 and np.isclose(a.max(0).max(), 1.0)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, run(x, seed=4))


@pytest.mark.parametrize("landmarks", [10_000, 250])
def test_distinct_classes_separate(landmarks: int) -> None:
    """Ten classes: chance is ~0.1; the 2-D neighbours agree with the labels (also for the points
    placed by their nearest landmarks), while a map of shuffled labels does not."""
    x, labels = clusters(600, 10, spread=0.7)
    xy = run(x, landmarks=landmarks)
    assert knn_agreement(xy, labels) > 0.75
    assert knn_agreement(xy, np.random.default_rng(0).permutation(labels)) < 0.3


def test_cancel_before_and_between_stages() -> None:
    x, _ = clusters(200, 3)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        embed(x, report=NullReport(), cancel=cancel)

    class CancelAtTsne:
        def progress(self, fraction: float, message: str = "") -> None:
            if message.startswith("t-SNE"):
                later.set()

        def partial(self, payload) -> None:
            pass

    later = threading.Event()
    with pytest.raises(Cancelled):
        embed(x, report=CancelAtTsne(), cancel=later, max_iter=350)


def features_of(n: int = 120) -> DatasetFeatures:
    x, labels = clusters(n, 3)
    return DatasetFeatures("dir", ["a", "b", "c"], x, labels, np.array(["train"] * n), [f"k{i}" for i in range(n)],
                           [f"/data/{i}.png" for i in range(n)])


def test_features_map_and_csv(tmp_path) -> None:
    found = features_of()
    data_map = features_map(found, report=NullReport(), cancel=threading.Event())
    assert len(data_map) == 120 and data_map.predicted is None
    out = tmp_path / "map.csv"
    write_map_csv(data_map, out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 120
    assert rows[5]["path"] == "/data/5.png" and rows[5]["label"] == found.classes[found.labels[5]]
    assert float(rows[5]["x"]) == pytest.approx(data_map.xy[5, 0], abs=1e-5)


def test_evaluation_map_keeps_the_evaluated_photos_in_their_order() -> None:
    found = features_of()
    paths = ["/data/7.png", "/elsewhere/x.png", "/data/3.png"]
    data_map = evaluation_map(found, paths, np.array([0, 1, 2]), np.array([0, 2, 2]), found.classes,
                              report=NullReport(), cancel=threading.Event())
    assert data_map.paths == ["/data/7.png", "/data/3.png"]
    assert list(data_map.labels) == [0, 2] and list(data_map.predicted) == [0, 2]
    assert any("1 evaluated photos have no features" in n for n in data_map.notes)
    assert [r["predicted"] for r in data_map.rows()] == ["a", "c"] and list(data_map.eval_rows) == [0, 2]


def test_inside_polygon() -> None:
    xy = np.array([[0.1, 0.1], [0.5, 0.5], [0.9, 0.9], [0.45, 0.55]], np.float32)
    square = np.array([[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.3, 0.7]])
    assert list(inside(xy, square)) == [1, 3]
    assert len(inside(xy, square[:2])) == 0
    ell = np.array([[0, 0], [1, 0], [1, 0.4], [0.4, 0.4], [0.4, 1], [0, 1]])  # concave: the notch is out
    probe = np.array([[0.2, 0.2], [0.8, 0.2], [0.2, 0.8], [0.8, 0.8], [0.5, 0.5], [1.5, 0.2]])
    assert list(inside(probe, ell)) == [0, 1, 2]
    assert isinstance(DataMap(xy, list("abcd"), np.zeros(4, np.int32), np.array(["train"] * 4), ["a"]), DataMap)


def test_the_selection_csv_has_the_chosen_points_and_never_lands_in_the_dataset(tmp_path) -> None:
    from filterscope.core.data.source import FolderSource

    folder = tmp_path / "data"
    paths = [str(folder / "a" / f"{i}.png") for i in range(4)]
    data_map = DataMap(np.array([[0, 0], [0.5, 1], [1, 0.25], [0.2, 0.2]], np.float32), paths,
                       np.array([0, 1, 1, 0], np.int32), np.array(["train", "val", "test", "train"]), ["x", "y"],
                       source=FolderSource.at(folder).to_json())
    out = write_map_csv(data_map, tmp_path / "sel.csv", np.array([2, 0]))
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["path"], r["label"], r["subset"], r["x"]) for r in rows] == [(paths[2], "y", "test", "1.0"),
                                                                            (paths[0], "x", "train", "0.0")]
    for inside_it in (folder / "sel.csv", folder / "a" / "sub" / "sel.csv"):
        with pytest.raises(ValueError, match="inside the dataset"):
            write_map_csv(data_map, inside_it, np.array([1]))
        assert not inside_it.exists()


def test_item_thumbnails_hand_over_pixels_and_reasons(tmp_path) -> None:
    from filterscope.core.base.opencv import cv2
    from filterscope.core.data.item_images import item_thumbnails

    cv2.imwrite(str(tmp_path / "a.png"), np.full((30, 90, 3), 200, np.uint8))
    batches: list = []

    class Collect(NullReport):
        def partial(self, payload) -> None:
            batches.append(payload)

    names = [str(tmp_path / "gone.png"), str(tmp_path / "a.png")]
    assert item_thumbnails(names, [1, 0], None, 30, report=Collect(), cancel=threading.Event()) == 2
    got = [t for batch in batches for t in batch]
    assert [t.item for t in got] == [1, 0]
    assert got[0].rgb.shape == (10, 30, 3) and got[1].rgb is None and got[1].error


def two_groups(source: str, n: int = 40) -> DataMap:
    """A map of two far-apart groups of ``n // 2`` points, one per class."""
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], n // 2).astype(np.int32)
    xy = (rng.normal(0, 0.02, (n, 2)) + np.where(labels[:, None] == 0, 0.2, 0.8)).astype(np.float32)
    return DataMap(xy, [f"/photos/{i}.png" for i in range(n)], labels,
                   np.array(["train", "val", "test", "train"] * (n // 4)), ["cat", "dog"], None, source,
                   ["t-SNE of test features (PCA to 50)"])


def test_a_saved_map_round_trips_and_a_missing_or_damaged_one_is_none(tmp_path) -> None:
    from filterscope.core.quality.embedding import save_map, saved_map

    source, cache = f"folder:{tmp_path / 'photos'}", tmp_path / "cache"
    assert saved_map(source, cache) is None
    made = two_groups(source)
    path = save_map(made, cache)
    assert path.is_relative_to(cache) and made.created
    back = saved_map(source, cache)
    np.testing.assert_array_equal(back.xy, made.xy)
    assert back.xy.dtype == np.float32 and back.labels.dtype == np.int32
    np.testing.assert_array_equal(back.labels, made.labels)
    assert back.subsets.tolist() == made.subsets.tolist() and back.paths == made.paths
    assert (back.classes, back.notes, back.created, back.source) == (made.classes, made.notes, made.created, source)
    assert saved_map(f"folder:{tmp_path / 'other'}", cache) is None
    path.write_text('{"version": 1, "x": [0.5]', encoding="utf-8")
    assert saved_map(source, cache) is None


def test_the_map_is_keyed_by_the_dataset_as_the_near_copy_check_is(tmp_path, monkeypatch) -> None:
    """One rule: the folder written relative with a trailing separator is the same dataset, and the
    map's file is named as the near-copy check's of the same dataset."""
    from filterscope.core.quality.duplicates import NearCopies, save_near_copies
    from filterscope.core.quality.embedding import save_map, saved_map

    (tmp_path / "photos").mkdir()
    monkeypatch.chdir(tmp_path)
    cache = tmp_path / "cache"
    copies = save_near_copies(NearCopies(f"folder:{tmp_path / 'photos'}", "m", 8, 0), cache)
    drawn = save_map(two_groups("folder:photos/"), cache)
    assert drawn.name == copies.name and drawn.parent.name == "data-maps" and copies.parent.name == "near-copies"
    assert saved_map(f"folder:{tmp_path / 'photos'}", cache) is not None


def test_class_agreement() -> None:
    from filterscope.core.quality.embedding import class_agreement

    grouped = two_groups("folder:x")
    assert class_agreement(grouped.xy, grouped.labels) == 1.0
    mixed = np.random.default_rng(0).permutation(grouped.labels)
    assert class_agreement(grouped.xy, mixed) < 0.8
    assert class_agreement(grouped.xy[:5], grouped.labels[:5]) is None
