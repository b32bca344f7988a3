"""``filterscope scan``, ``split`` and ``train`` on a dataset that comes split into folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.corpus import tree_digest
from tests.split_tree import make_split_tree

UNICODE = "Ünïcødé 植物"


@pytest.fixture
def parent(tmp_path: Path) -> Path:
    root = tmp_path / "split photos"
    make_split_tree(root, {"train": {"cat": 6, UNICODE: 6}, "val": {"cat": 2, UNICODE: 2},
                           "test": {"cat": 3}})
    return root


def test_scan_json_reports_each_subset_and_what_it_misses(run_cli, parent: Path) -> None:
    code, out, err = run_cli("scan", parent, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["layout"] == "split-folders" and data["total"] == 19 and data["problems"] == []
    assert [c["name"] for c in data["classes"]] == ["cat", UNICODE]
    assert {s: d["total"] for s, d in data["subsets"].items()} == {"train": 12, "val": 4, "test": 3}
    assert data["subsets"]["test"]["classes"] == [{"name": "cat", "count": 3}, {"name": UNICODE, "count": 0}]
    assert data["missing"] == {"train": [], "val": [], "test": [UNICODE]}


def test_scan_human_prints_a_subset_table(run_cli, parent: Path) -> None:
    code, out, _ = run_cli("scan", parent)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("split photos: 19 images in 2 classes, split into train/, val/, test/")
    assert lines[1].split() == ["class", "train/", "val/", "test/", "all"]
    assert lines[2].split() == ["cat", "6", "2", "3", "11"]
    assert lines[4].split() == ["total", "12", "4", "3", "19"]
    assert f"warning: test/ has no images of '{UNICODE}'" in lines


def test_plain_scan_json_only_gains_its_layout(run_cli, parent: Path) -> None:
    code, out, _ = run_cli("scan", parent / "train", "--json")
    data = json.loads(out)
    assert data["layout"] == "classes" and "subsets" not in data and "missing" not in data


def test_split_refuses_a_dataset_split_by_its_folders(run_cli, parent: Path, tmp_path: Path) -> None:
    code, out, err = run_cli("split", parent, "--val-fraction", "0.2", "--out", tmp_path / "s.json")
    assert code == 1 and out == ""
    assert "comes split into train/, val/, test/ folders" in err
    assert not (tmp_path / "s.json").exists()


def test_train_uses_the_folders_and_records_where_validation_came_from(run_cli, parent: Path,
                                                                        tmp_path: Path) -> None:
    before = tree_digest(parent)
    code, out, err = run_cli("train", "--data", parent, "--model", "logistic", "--epochs", 1,
                             "--batch-size", 4, "--out", tmp_path / "runs", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["classes"] == ["cat", UNICODE]
    assert result["warnings"] == ["validating on val/ (4 images); test/ (3 images) is kept for "
                                  "evaluation and never read"]
    saved = json.loads((Path(result["run_dir"]) / "run.json").read_text(encoding="utf-8"))
    assert (saved["n_train"], saved["n_val"], saved["validation"]) == (12, 4, "folders")
    assert tree_digest(parent) == before
    split = saved["run"]["data"]["split"]
    assert split["method"] == "folders" and set(split["subsets"]) == {"train", "val"}  # no test/
    assert all(key.startswith("train/") for keys in split["subsets"]["train"].values() for key in keys)

    code, out, err = run_cli("train", "--spec", Path(result["run_dir"]) / "run.json", "--name", "again",
                             "--out", tmp_path / "runs", "--json")
    assert code == 0, err
    again = json.loads((tmp_path / "runs" / "again" / "run.json").read_text(encoding="utf-8"))
    assert (again["n_train"], again["n_val"], again["validation"]) == (12, 4, "folders")
    assert again["run"]["data"]["split"] == split
    assert tree_digest(parent) == before
