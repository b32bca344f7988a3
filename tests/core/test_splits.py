"""Tests for filterscope.core.data.splits: stratified, seeded split manifests and their files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.source import FolderSource
from filterscope.core.data.splits import (
    MANIFEST_VERSION,
    SplitError,
    SplitManifest,
    load_manifest,
    make_split,
    save_manifest,
    split_counts,
    split_job,
)


def _dataset(counts: dict[str, int]) -> Dataset:
    """An in-memory folder-like dataset, items interleaved across classes as a scan never is."""
    classes = list(counts)
    rows = [(f"{name}/img_{i:03d}.png", label) for label, name in enumerate(classes)
            for i in range(counts[name])]
    rows = rows[::2] + rows[1::2]
    return Dataset(
        name="mem", source=FolderSource("/data/mem"), classes=classes,
        keys=[key for key, _ in rows],
        labels=np.array([label for _, label in rows], np.int32),
        sizes=np.full((len(rows), 2), 8, np.int32),
    )


def _items_by_class(ds: Dataset) -> dict[str, set[str]]:
    return {name: {k for k, lab in zip(ds.keys, ds.labels) if lab == label}
            for label, name in enumerate(ds.classes)}


def _check_partition(ds: Dataset, manifest: SplitManifest) -> None:
    """Train and val are disjoint, within their class, and together exactly the dataset."""
    by_class = _items_by_class(ds)
    assert manifest.classes == ds.classes
    assert set(manifest.subsets) == {"train", "val"}
    for name, members in by_class.items():
        train = manifest.subsets["train"][name]
        val = manifest.subsets["val"][name]
        assert len(set(train)) == len(train) and len(set(val)) == len(val)
        assert not set(train) & set(val)
        assert set(train) | set(val) == members


# --- Per-class N ---------------------------------------------------------------------------


def test_per_class_exact_counts() -> None:
    ds = _dataset({"a": 20, "b": 13, "c": 31})
    manifest = make_split(ds, val_per_class=12, seed=0)
    assert manifest.counts() == {"a": {"train": 8, "val": 12}, "b": {"train": 1, "val": 12},
                                 "c": {"train": 19, "val": 12}}
    assert manifest.warnings == []
    assert (manifest.method, manifest.value, manifest.seed) == ("per-class", 12, 0)
    _check_partition(ds, manifest)


def test_small_class_keeps_one_for_training_and_warns() -> None:
    ds = _dataset({"big": 10, "small": 4, "exact": 5, "single": 1, "none": 0})
    manifest = make_split(ds, val_per_class=4, seed=3)
    assert manifest.counts() == {
        "big": {"train": 6, "val": 4},
        "small": {"train": 1, "val": 3},
        "exact": {"train": 1, "val": 4},
        "single": {"train": 1, "val": 0},
        "none": {"train": 0, "val": 0},
    }
    warned = " ".join(manifest.warnings)
    assert len(manifest.warnings) == 3
    assert "'small' has only 4 images: 3 for validation" in manifest.warnings
    assert "'single'" in warned and "'none'" in warned
    assert "'big'" not in warned and "'exact'" not in warned
    _check_partition(ds, manifest)


# --- Fraction ------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "fraction", "n_val"), [
    (10, 0.2, 2),
    (7, 0.2, 1),     # 1.4 rounds down
    (9, 0.2, 2),     # 1.8 rounds up
    (100, 0.33, 33),
    (3, 0.1, 1),     # 0.3 would round to none: at least one when the class can spare it
    (2, 0.9, 1),     # 1.8 -> 2, but one must stay for training
    (40, 0.7, 28),
    (1, 0.5, 0),     # nothing to spare
])  # fmt: skip
def test_fraction_rounding(n: int, fraction: float, n_val: int) -> None:
    ds = _dataset({"k": n, "other": 60})
    manifest = make_split(ds, val_fraction=fraction, seed=1)
    assert manifest.counts()["k"] == {"train": n - n_val, "val": n_val}
    assert manifest.counts()["other"]["val"] == max(1, round(60 * fraction))
    assert (manifest.method, manifest.value) == ("fraction", fraction)
    assert bool(manifest.warnings) == (n < 2)
    _check_partition(ds, manifest)


# --- Determinism -----------------------------------------------------------------------------


def test_same_seed_same_split_different_seed_different() -> None:
    ds = _dataset({"a": 40, "b": 40, "c": 40})
    first = make_split(ds, val_per_class=8, seed=42)
    again = make_split(ds, val_per_class=8, seed=42)
    other = make_split(ds, val_per_class=8, seed=43)
    assert first.subsets == again.subsets
    assert first.subsets != other.subsets
    for name in ds.classes:  # a different seed reshuffles every class, not just one
        assert first.subsets["val"][name] != other.subsets["val"][name]
    _check_partition(ds, other)


def test_split_does_not_depend_on_item_order() -> None:
    ds = _dataset({"a": 30, "b": 30})
    order = np.random.default_rng(0).permutation(len(ds))
    shuffled = Dataset(name="mem", source=ds.source, classes=ds.classes,
                       keys=[ds.keys[i] for i in order], labels=ds.labels[order],
                       sizes=ds.sizes[order])
    assert make_split(ds, val_fraction=0.2, seed=5).subsets == \
        make_split(shuffled, val_fraction=0.2, seed=5).subsets


def test_validation_is_not_just_the_first_items() -> None:
    ds = _dataset({"a": 100})
    val = make_split(ds, val_per_class=10, seed=0).subsets["val"]["a"]
    assert val != sorted(ds.keys)[:10] and val != sorted(ds.keys)[-10:]


# --- Manifest files ----------------------------------------------------------------------------


def test_manifest_round_trip(tmp_path: Path) -> None:
    ds = _dataset({"Shepherd’s Purse": 9, "Ünïcødé 植物": 8, "one": 1})
    manifest = make_split(ds, val_fraction=0.25, seed=9)
    path = save_manifest(manifest, tmp_path / "split.json")
    assert path == tmp_path / "split.json"
    assert [p.name for p in tmp_path.iterdir()] == ["split.json"]  # no temp file left behind
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == MANIFEST_VERSION and data["source"] == "folder:/data/mem"
    name = "Shepherd’s Purse"
    assert data["subsets"]["val"][name] == manifest.subsets["val"][name]
    loaded = load_manifest(path)
    assert loaded == manifest
    assert loaded.counts() == manifest.counts()
    assert loaded.created and loaded.warnings == manifest.warnings


def test_save_replaces_an_existing_manifest(tmp_path: Path) -> None:
    ds = _dataset({"a": 10, "b": 10})
    path = tmp_path / "split.json"
    save_manifest(make_split(ds, val_per_class=2, seed=0), path)
    newer = make_split(ds, val_per_class=3, seed=1)
    save_manifest(newer, path)
    assert load_manifest(path) == newer


def _valid_json() -> dict:
    return make_split(_dataset({"a": 5, "b": 5}), val_per_class=1, seed=0).to_json()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(SplitError, match="cannot read") as info:
        load_manifest(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text", ["", "{not json", "\ufffe\x00", "[1, 2"])
def test_load_not_json(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SplitError) as info:
        load_manifest(path)
    assert str(path) in str(info.value)


def test_load_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(b'{"source": "\xff\xfe"}')
    with pytest.raises(SplitError) as info:
        load_manifest(path)
    assert str(path) in str(info.value)


def test_load_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SplitError) as info:
        load_manifest(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_load_newer_version(tmp_path: Path) -> None:
    data = _valid_json()
    data["version"] = MANIFEST_VERSION + 1
    path = _write(tmp_path, json.dumps(data))
    with pytest.raises(SplitError, match="version") as info:
        load_manifest(path)
    assert str(path) in str(info.value)


def _broken(data: dict, change: str) -> object:
    """``data`` with one structural fault, by name."""
    if change == "a list":
        return [data]
    if change == "a string":
        return "manifest"
    data = dict(data)
    if change == "missing subsets":
        del data["subsets"]
    elif change == "unknown field":
        data["colour"] = "green"
    elif change == "version text":
        data["version"] = "1"
    elif change == "version null":
        data["version"] = None
    elif change == "subsets a list":
        data["subsets"] = [["a/1.png"]]
    elif change == "subset a list":
        data["subsets"] = {"train": ["a/1.png"], "val": {}}
    elif change == "keys a string":
        data["subsets"] = {"train": {"a": "a/img_000.png"}, "val": {}}
    elif change == "keys not strings":
        data["subsets"] = {"train": {"a": [1, 2]}, "val": {}}
    elif change == "unknown class":
        data["subsets"] = {"train": {"zebra": ["zebra/1.png"]}, "val": {}}
    elif change == "no val subset":
        data["subsets"] = {"train": data["subsets"]["train"]}
    elif change == "classes null":
        data["classes"] = None
    return data


@pytest.mark.parametrize("change", [
    "a list", "a string", "missing subsets", "unknown field", "version text", "version null",
    "subsets a list", "subset a list", "keys a string", "keys not strings", "unknown class",
    "no val subset", "classes null",
])  # fmt: skip
def test_load_wrong_structure(tmp_path: Path, change: str) -> None:
    path = _write(tmp_path, json.dumps(_broken(_valid_json(), change)))
    with pytest.raises(SplitError) as info:
        load_manifest(path)
    assert str(path) in str(info.value)


def test_load_older_manifest_without_optional_fields(tmp_path: Path) -> None:
    data = _valid_json()
    for optional in ("warnings", "created", "app_version", "version"):
        del data[optional]
    loaded = load_manifest(_write(tmp_path, json.dumps(data)))
    assert loaded.subsets == data["subsets"] and loaded.version == MANIFEST_VERSION


# --- Bad arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {},
    {"val_per_class": 2, "val_fraction": 0.2},
    {"val_per_class": 0},
    {"val_per_class": -3},
    {"val_fraction": 0.0},
    {"val_fraction": 1.0},
    {"val_fraction": 1.5},
    {"val_fraction": -0.2},
    {"val_fraction": math.nan},
])  # fmt: skip
def test_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(SplitError):
        make_split(_dataset({"a": 10, "b": 10}), **kwargs)
    with pytest.raises(SplitError):
        split_counts(_dataset({"a": 10, "b": 10}), **kwargs)


@pytest.mark.parametrize("kwargs", [{"val_per_class": 3}, {"val_per_class": 50},
                                    {"val_fraction": 0.25}, {"val_fraction": 0.01}])
def test_counts_without_splitting_are_what_the_split_gives(kwargs: dict) -> None:
    ds = _dataset({"a": 1, "b": 7, "c": 40, "d": 0})
    counts, warnings = split_counts(ds, **kwargs)
    manifest = make_split(ds, seed=3, **kwargs)
    assert counts == manifest.counts() and warnings == manifest.warnings


def test_split_job_saves_the_manifest_it_returns(tmp_path: Path) -> None:
    import threading

    cancel = threading.Event()
    manifest = split_job(_dataset({"a": 5, "b": 5}), val_per_class=2, seed=1,
                         save_to=tmp_path / "split.json", report=NullReport(), cancel=cancel)
    assert load_manifest(tmp_path / "split.json").subsets == manifest.subsets
    cancel.set()
    with pytest.raises(Cancelled):
        split_job(_dataset({"a": 5, "b": 5}), val_per_class=2, report=NullReport(), cancel=cancel)
