"""A run's data as it is recorded: the split's file lists in the DataSpec, the dataset by its
absolute source, and the same data found at another place (``DataSpec.relocated``)."""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.source import BuiltinSource, FolderSource
from filterscope.core.data.sources import open_source
from filterscope.core.data.splits import make_split, save_manifest, split_to_json
from filterscope.core.training.data_plan import plan
from filterscope.core.training.data_spec import DataSpec, PipelineError
from PIL import Image


def _folder(root: Path, counts: dict[str, int]) -> Path:
    rng = np.random.default_rng(0)
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


def _plan(data: DataSpec):
    return plan(data, NullReport(), threading.Event(), None)


def _keys(planned) -> dict[str, list[str]]:
    """The files of each subset, by key, as the plan feeds them."""
    return {subset: sorted(planned.dataset.keys[i] for i in items)
            for subset, (items, _) in planned.subsets.items()}


SPLIT = {"classes": ["a", "b"], "method": "per-class", "value": 1, "seed": 3,
         "subsets": {"train": {"a": ["a/0.png"], "b": ["b/0.png"]}, "val": {"a": ["a/1.png"]}}}


def test_a_recorded_split_round_trips_through_json() -> None:
    spec = DataSpec("folder:/data/plants", seed=2, split=SPLIT)
    again = DataSpec.from_json(json.loads(json.dumps(spec.to_json())))
    assert again == spec and again.split_manifest().subsets == SPLIT["subsets"]
    assert again.split_manifest().source == FolderSource("/data/plants")


@pytest.mark.parametrize("split, message", [
    ("a.json", "split: must be an object or null"),
    ({**SPLIT, "source": "x"}, "split: unknown or missing field.*source"),
    ({k: v for k, v in SPLIT.items() if k != "seed"}, "split: unknown or missing field.*seed"),
    ({**SPLIT, "seed": "3"}, "split: .*seed a whole number"),
    ({**SPLIT, "subsets": {"train": {"c": ["c/0.png"]}, "val": {}}}, "split: bad entry for class 'c'"),
    ({**SPLIT, "subsets": {"train": {"a": "a/0.png"}, "val": {}}}, "split: bad entry for class 'a'"),
    ({**SPLIT, "subsets": {"train": {}}}, "split: expected .* 'train' and 'val'"),
])
def test_a_bad_recorded_split_names_the_field(split, message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        DataSpec.from_json({"source": "folder:/data", "split": split})


def test_a_split_and_a_manifest_file_do_not_mix() -> None:
    for data in ({"source": "folder:/d", "manifest": "/s.json", "split": SPLIT},
                 {"source": "manifest:/s.json", "split": SPLIT}):
        with pytest.raises(PipelineError, match="split: a run records its split or names a manifest"):
            DataSpec.from_json(data)


def test_a_folder_given_by_a_relative_path_is_recorded_whole(tmp_path: Path, monkeypatch) -> None:
    root = _folder(tmp_path / "shapes", {"a": 5, "b": 5})
    monkeypatch.chdir(tmp_path)
    planned = _plan(DataSpec("shapes", val_fraction=0.4, seed=1))
    recorded = planned.data
    assert recorded.source == FolderSource(str(root)) and recorded.manifest is None
    assert recorded.split == split_to_json(make_split(planned.dataset, val_fraction=0.4, seed=1))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert _keys(_plan(recorded)) == _keys(planned)  # the same files, from another folder


def test_a_manifest_is_recorded_and_no_longer_needed(tmp_path: Path, monkeypatch) -> None:
    root = _folder(tmp_path / "shapes", {"a": 5, "b": 5})
    dataset = open_source(FolderSource(str(root)), report=NullReport(), cancel=threading.Event())
    save_manifest(make_split(dataset, val_per_class=2, seed=4), tmp_path / "split.json")
    monkeypatch.chdir(tmp_path)
    planned = _plan(DataSpec("manifest:split.json"))
    Path("split.json").unlink()
    recorded = planned.data
    assert recorded.source == FolderSource(str(root)) and recorded.split["seed"] == 4
    assert _keys(_plan(recorded)) == _keys(planned)
    assert [len(v) for v in _keys(planned).values()] == [6, 4]


def test_a_builtin_split_on_the_fly_is_not_recorded_but_its_manifest_is(tmp_path: Path) -> None:
    planned = _plan(DataSpec("mnist", seed=2))
    assert planned.data.source == BuiltinSource("mnist") and planned.data.split is None
    path = save_manifest(make_split(planned.dataset, val_per_class=3, seed=5), tmp_path / "m.json")
    from_file = _plan(DataSpec("builtin:mnist", manifest=str(path))).data
    assert from_file.manifest is None and from_file.split["seed"] == 5
    assert sum(map(len, from_file.split["subsets"]["val"].values())) == 30


def test_relocated_moves_only_the_location(tmp_path: Path) -> None:
    root = _folder(tmp_path / "shapes", {"a": 4, "b": 4, "c": 3})
    recorded = _plan(DataSpec(str(root), seed=3, mask={})).data
    moved = tmp_path / "moved"
    shutil.move(root, moved)
    with pytest.raises(PipelineError, match="source: .*shapes: folder does not exist"):
        _plan(recorded)
    there = recorded.relocated(moved)
    assert there == DataSpec(f"folder:{moved}", seed=3, mask={}, split=recorded.split)
    assert recorded.folder() == str(root) and there.folder() == str(moved)
    assert _plan(there).data == there
    shutil.move(moved / "c", tmp_path / "c")
    with pytest.raises(PipelineError, match=rf"^{re.escape(str(moved))}: 1 class\(es\) the run trained on are "
                                            r"missing: 'c'$"):
        _plan(there)
    shutil.move(tmp_path / "c", moved / "c")
    (moved / "a" / "2.png").unlink()
    (moved / "c" / "0.png").unlink()
    with pytest.raises(PipelineError, match=rf"^{re.escape(str(moved))}: 2 file\(s\) the run trained on are "
                                            r"missing: (a/2\.png|c/0\.png), (a/2\.png|c/0\.png)$"):
        _plan(there)


def test_relocated_takes_an_older_specs_manifest_along(tmp_path: Path) -> None:
    root = _folder(tmp_path / "shapes", {"a": 4, "b": 4})
    dataset = open_source(FolderSource(str(root)), report=NullReport(), cancel=threading.Event())
    split = make_split(dataset, val_fraction=0.25, seed=6)
    path = save_manifest(split, tmp_path / "split.json")
    moved = tmp_path / "moved"
    shutil.copytree(root, moved)
    for old in (DataSpec(f"manifest:{path}"), DataSpec(str(root), manifest=str(path))):
        assert old.relocated(moved) == DataSpec(f"folder:{moved}", split=split_to_json(split))
    assert DataSpec(f"manifest:{path}").folder() is None


def test_a_built_in_dataset_has_no_location_to_change(tmp_path: Path) -> None:
    for source in ("builtin:mnist", "mnist"):
        assert DataSpec(source).folder() is None
        with pytest.raises(PipelineError, match="^builtin:mnist is built in|^mnist is built in"):
            DataSpec(source).relocated(tmp_path)
    mnist = open_source(BuiltinSource("mnist"), report=NullReport(), cancel=threading.Event())
    path = save_manifest(make_split(mnist, val_per_class=1), tmp_path / "m.json")
    with pytest.raises(PipelineError, match="^builtin:mnist is built in"):
        DataSpec(f"manifest:{path}").relocated(tmp_path)
