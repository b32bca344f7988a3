"""Datasets that come split into train/val/test folders: recognising the layout, scanning it as one
dataset with subsets, its own split (never made again), and masked copies that keep it."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport, RecordingReport
from filterscope.core.data.datasets import Dataset, scan_folder
from filterscope.core.data.source import FolderSource
from filterscope.core.data.splits import (
    SplitError,
    folder_split,
    load_manifest,
    make_split,
    save_manifest,
    split_counts,
)
from filterscope.core.masking.batch import mask_dataset
from filterscope.core.masking.colordist import builtin_preset

from tests.corpus import tree_digest
from tests.split_tree import make_split_tree

PURSE = "Shepherd’s Purse"
UNICODE = "Ünïcødé 植物"
LAYOUT = {
    "train": {"cat": 6, "dog": 5, PURSE: 4},
    "Validation": {"cat": 2, "dog": 2, PURSE: 1},
    "test": {"cat": 2, "dog": 1, UNICODE: 3},  # no PURSE; UNICODE only here
}


def scan(root: Path) -> Dataset:
    return scan_folder(root, report=RecordingReport(), cancel=threading.Event())


@pytest.fixture(scope="module")
def parent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("split") / "Photos ’split’"
    make_split_tree(root, LAYOUT)
    (root / "README.txt").write_text("where the photos come from", encoding="utf-8")
    (root / "test" / "unsorted.jpg").write_bytes((root / "test" / "cat" / "cat 01.jpg").read_bytes())
    (root / "train" / "dog" / "notes.txt").write_text("x", encoding="utf-8")
    (root / "Validation" / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    shutil.copy(root / "train" / "cat" / "cat 00.png", root / "test" / "cat" / "leaked.png")
    return root


@pytest.fixture(scope="module")
def scanned(parent: Path) -> tuple[Dataset, str, str]:
    before = tree_digest(parent)
    dataset = scan(parent)
    return dataset, before, tree_digest(parent)


def test_one_dataset_over_the_union_of_classes_keyed_by_subset(scanned, parent: Path) -> None:
    ds, before, after = scanned
    assert before == after
    assert ds.split_folders == {"train": "train", "val": "Validation", "test": "test"}
    assert ds.classes == sorted(["cat", "dog", PURSE, UNICODE])
    assert len(ds) == sum(sum(c.values()) for c in LAYOUT.values()) + 1  # + the leaked copy
    assert all(ds.path(i).is_file() and ds.path(i).parent.parent.parent == parent for i in range(len(ds)))
    assert "Validation/cat/cat 01.jpg" in ds.keys and f"test/{UNICODE}/{UNICODE} 02.bmp" in ds.keys
    first = ds.keys.index("train/cat/cat 00.png")
    assert ds.classes[ds.labels[first]] == "cat" and ds.load(first).shape == (30, 40, 3)


def test_counts_and_missing_classes_per_subset(scanned) -> None:
    ds = scanned[0]
    by_name = {s: dict(zip(ds.classes, ds.counts(s).tolist())) for s in ds.subsets()}
    assert ds.subsets() == ["train", "val", "test"]
    assert by_name["train"] == {"cat": 6, "dog": 5, PURSE: 4, UNICODE: 0}
    assert by_name["val"] == {"cat": 2, "dog": 2, PURSE: 1, UNICODE: 0}
    assert by_name["test"] == {"cat": 3, "dog": 1, PURSE: 0, UNICODE: 3}
    assert ds.counts().tolist() == [sum(n[c] for n in by_name.values()) for c in ds.classes]
    assert ds.missing() == {"train": [UNICODE], "val": [UNICODE], "test": [PURSE]}
    warnings = ds.split_warnings()
    assert warnings[0].startswith(f"train/ has no images of '{UNICODE}'") and "cannot learn" in warnings[0]
    assert warnings[2] == f"test/ has no images of '{PURSE}'"
    assert len(ds.select(label=ds.classes.index("cat"), subset="test")) == 3


def test_problems_name_the_file_and_never_the_subset_folders(scanned) -> None:
    ds = scanned[0]
    problems = {p.path: p.kind for p in ds.problems}
    assert problems == {
        "README.txt": "not-in-class",
        "test/unsorted.jpg": "not-in-class",
        "train/dog/notes.txt": "not-image",
        "Validation/dog/broken.png": "corrupt",
        "test/cat/leaked.png": "duplicate",
    }
    leaked = next(p for p in ds.problems if p.kind == "duplicate")
    assert "train/cat/cat 00.png" in leaked.reason and "train/ and test/" in leaked.reason


def test_summary_json_adds_the_layout_subsets_and_missing(scanned) -> None:
    ds = scanned[0]
    summary = json.loads(json.dumps(ds.summary(), ensure_ascii=False))
    assert summary["layout"] == "split-folders" and summary["total"] == len(ds)
    assert {"name", "source", "total", "classes", "sizes", "imbalance", "problems"} <= set(summary)
    assert list(summary["subsets"]) == ["train", "val", "test"]
    val = summary["subsets"]["val"]
    assert val["folder"] == "Validation" and val["total"] == 5
    assert val["classes"][ds.classes.index("dog")] == {"name": "dog", "count": 2}
    assert summary["missing"]["test"] == [PURSE]


def test_plain_folders_keep_their_layout(tmp_path: Path) -> None:
    # Classes called "train" and "test" that hold images are classes, not subsets.
    make_split_tree(tmp_path / "flat", {"x": {"train": 2, "test": 3}})
    ds = scan(tmp_path / "flat" / "x")
    assert ds.split_folders is None and ds.classes == ["test", "train"] and ds.subsets() == []
    assert ds.summary()["layout"] == "classes" and "subsets" not in ds.summary()
    assert ds.missing() == {} and ds.split_warnings() == []
    # A lone train/ folder is not a split either (nothing to validate or test on).
    make_split_tree(tmp_path / "lone", {"train": {"a": 2, "b": 2}})
    assert scan(tmp_path / "lone").split_folders is None


@pytest.mark.parametrize(("names", "expected"), [
    (["TRAIN", "valid"], {"train": "TRAIN", "val": "valid"}),
    (["train", "Test"], {"train": "train", "test": "Test"}),
    (["train", "val", "validation", "test"], {"train": "train", "val": "val", "test": "test"}),
])  # fmt: skip
def test_folder_names_in_any_case_and_spelling(tmp_path: Path, names: list[str], expected: dict) -> None:
    make_split_tree(tmp_path, {name: {"a": 2, "b": 2} for name in names})
    ds = scan(tmp_path)
    assert ds.split_folders == expected
    assert len(ds) == 4 * len(expected)
    ignored = [p for p in ds.problems if p.kind == "not-a-subset"]
    assert [p.path for p in ignored] == [n for n in names if n not in expected.values()]


def test_an_empty_subset_is_a_problem_and_misses_every_class(tmp_path: Path) -> None:
    make_split_tree(tmp_path, {"train": {"a": 2, "b": 3}, "val": {"a": 0}})
    (tmp_path / "test").mkdir()
    ds = scan(tmp_path)
    assert ds.subsets() == ["train", "val", "test"]
    assert ds.missing() == {"train": [], "val": ["a", "b"], "test": ["a", "b"]}
    assert {(p.path, p.kind) for p in ds.problems} == {
        ("val/a", "empty-class"), ("val", "empty-subset"), ("test", "empty-subset")}


def test_the_folders_split_validates_on_val_and_lists_test_for_evaluation(scanned) -> None:
    ds = scanned[0]
    split = folder_split(ds, val_fraction=0.5, seed=0)
    assert split.method == "folders" and split.value == 0 and list(split.subsets) == ["train", "val", "test"]
    for subset, folder in ds.split_folders.items():
        keys = [k for lists in split.subsets[subset].values() for k in lists]
        assert sorted(keys) == sorted(ds.keys[i] for i in ds.select(subset=subset))
        assert all(k.startswith(f"{folder}/") for k in keys)
    assert split.counts()["dog"] == {"train": 5, "val": 2, "test": 1}
    path = save_manifest(split, Path(ds.root).parent / "folders-split.json")
    assert load_manifest(path).subsets == split.subsets


def test_without_val_validation_is_a_seeded_stratified_part_of_train(tmp_path: Path) -> None:
    make_split_tree(tmp_path, {"train": {"a": 10, "b": 5}, "test": {"a": 3, "b": 3}})
    ds = scan(tmp_path)
    split = folder_split(ds, val_fraction=0.2, seed=4)
    assert split.method == "folders+fraction" and split.value == 0.2 and split.seed == 4
    assert {c: n["val"] for c, n in split.counts().items()} == {"a": 2, "b": 1}
    val = [k for keys in split.subsets["val"].values() for k in keys]
    train = [k for keys in split.subsets["train"].values() for k in keys]
    assert all(k.startswith("train/") for k in val + train) and len(val) + len(train) == 15
    assert split.subsets["test"]["a"] == [f"test/a/a {i:02d}{s}" for i, s in enumerate((".png", ".jpg", ".bmp"))]
    assert folder_split(ds, val_fraction=0.2, seed=4).subsets == split.subsets
    assert folder_split(ds, val_fraction=0.2, seed=5).subsets["val"] != split.subsets["val"]


def test_a_split_dataset_is_never_split_again(scanned) -> None:
    ds = scanned[0]
    for split in (make_split, split_counts):
        with pytest.raises(SplitError, match="comes split into train/, Validation/, test/ folders"):
            split(ds, val_fraction=0.2)
    plain = Dataset("plain", FolderSource("/x"), ["a"], ["a/1.png"], np.zeros(1, np.int32), np.ones((1, 2), np.int32))
    with pytest.raises(SplitError, match="no train/val/test folders"):
        folder_split(plain, val_fraction=0.2)


def test_masked_copies_keep_the_split(parent: Path, scanned, tmp_path: Path) -> None:
    ds = scanned[0]
    before = tree_digest(parent)
    result = mask_dataset(ds, tmp_path / "masked", builtin_preset("chapter"), report=NullReport(),
                          cancel=threading.Event())
    assert result.written == len(ds) and tree_digest(parent) == before
    copy = scan(tmp_path / "masked")
    assert copy.split_folders == ds.split_folders
    assert [copy.counts(s).tolist() for s in copy.subsets()] == [ds.counts(s).tolist() for s in ds.subsets()]
