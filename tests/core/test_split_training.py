"""Training on a dataset that comes split into folders: train/ trains, val/ validates (or a seeded
part of train/ when there is none), and test/ is never read."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.training import data_plan
from filterscope.core.training.data_spec import DataSpec, PipelineError
from filterscope.core.training.pipeline import build_inputs

from tests.corpus import tree_digest
from tests.split_tree import damage_bodies, make_split_tree


def _plan(spec: DataSpec) -> data_plan.Plan:
    return data_plan.plan(spec, NullReport(), threading.Event(), None)


def _epoch_labels(ds) -> np.ndarray:
    return np.concatenate([y.numpy() for _, y in ds])


def test_trains_on_train_validates_on_val_and_never_reads_test(tmp_path: Path, reads) -> None:
    root = tmp_path / "Split ’photos’"
    make_split_tree(root, {"train": {"cat": 6, "dog": 5}, "valid": {"cat": 2, "dog": 3},
                           "test": {"cat": 3, "dog": 2, "owl": 2}}, png_only=True)
    damage_bodies(root / "test")  # headers scan; decoding any of them would list it as skipped
    (root / "test" / "dog" / "empty.png").write_bytes(b"")  # refused by the scan: not for training
    before = tree_digest(root)
    inputs = build_inputs(DataSpec(f"folder:{root}", val_fraction=0.5, seed=1), batch_size=4,
                          report=NullReport(), cancel=threading.Event())
    assert (inputs.n_train, inputs.n_val) == (11, 5) and inputs.classes == ["cat", "dog"]
    assert inputs.validation == "folders"
    assert inputs.warnings[0] == ("validating on valid/ (5 images); test/ (7 images) is kept for "
                                  "evaluation and never read")
    assert "'owl' has no training images: left out" in inputs.warnings
    assert sorted(_epoch_labels(inputs.train).tolist()) == [0] * 6 + [1] * 5
    assert sorted(_epoch_labels(inputs.val).tolist()) == [0] * 2 + [1] * 3
    assert sorted(p.relative_to(root).parts[0] for p in reads) == ["train"] * 11 + ["valid"] * 5
    assert inputs.skipped == []
    assert tree_digest(root) == before


def test_train_and_test_only_validates_on_a_seeded_part_of_train(tmp_path: Path, reads) -> None:
    make_split_tree(tmp_path, {"Train": {"a": 10, "b": 5}, "Test": {"a": 4, "b": 4}}, png_only=True)
    damage_bodies(tmp_path / "Test")
    spec = DataSpec(str(tmp_path), val_fraction=0.2, seed=3)
    planned = _plan(spec)
    keys = {s: sorted(planned.dataset.keys[i] for i in planned.subsets[s][0]) for s in ("train", "val")}
    assert planned.validation == "folders+fraction"
    assert (len(keys["train"]), len(keys["val"])) == (12, 3)
    assert all(k.startswith("Train/") for k in keys["train"] + keys["val"])
    assert planned.warnings == ["no val/ folder: validating on 20 % of Train/ (stratified, seed 3), "
                                "never on test images; Test/ (8 images) is kept for evaluation and "
                                "never read"]
    again = _plan(spec)
    assert sorted(again.dataset.keys[i] for i in again.subsets["val"][0]) == keys["val"]
    inputs = build_inputs(spec, batch_size=8, report=NullReport(), cancel=threading.Event())
    _epoch_labels(inputs.train), _epoch_labels(inputs.val)
    assert reads and not any("Test" in p.relative_to(tmp_path).parts for p in reads)
    assert inputs.skipped == []


def test_plain_folders_still_split_each_class(tmp_path: Path) -> None:
    make_split_tree(tmp_path, {"a": {"x": 5}, "b": {"x": 5}})  # classes a and b, nested x/ folders
    with pytest.raises(PipelineError, match="at least two classes"):
        _plan(DataSpec(str(tmp_path)))
    make_split_tree(tmp_path / "flat", {"x": {"a": 5, "b": 5}})
    planned = _plan(DataSpec(str(tmp_path / "flat" / "x"), val_fraction=0.2))
    assert planned.validation == "fraction" and planned.warnings == []
    assert len(planned.subsets["val"][0]) == 2
