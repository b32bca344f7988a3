"""``filterscope duplicates``: JSON, CSV, never inside the dataset; ``evaluate`` then warns."""

from __future__ import annotations

import csv
import json

from tests.core.test_quality_duplicates import leaky_photos
from tests.corpus import tree_digest


def test_duplicates_json_csv_and_the_warning_in_evaluate(run_cli, results_run, tmp_path, data_dir) -> None:
    root = tmp_path / "leaky"
    copies = leaky_photos(root)
    before = tree_digest(root)
    code, out, err = run_cli("duplicates", root, "--out", root / "groups.csv")
    assert code == 1 and "refusing to write inside the dataset folder" in err
    code, out, err = run_cli("duplicates", root, "--json", "--out", tmp_path / "groups.csv")
    assert code == 0, err
    data = json.loads(out)
    assert data["cross_subset"] == {"train-test": 3, "train-val": 0, "val-test": 0}
    assert data["n_groups"] == 3 and data["threshold"] == 8 and data["method"].startswith("perceptual hash")
    assert data["test_with_copy_in_training"] == 3
    assert {m["path"] for g in data["groups"] for m in g["members"] if m["subset"] == "test"} == copies
    rows = list(csv.DictReader((tmp_path / "groups.csv").open(encoding="utf-8")))
    assert len(rows) == 6 and {r["subset"] for r in rows} == {"train", "test"}
    assert tree_digest(root) == before
    code, out, err = run_cli("duplicates", root)
    assert code == 0 and out.startswith("3 group(s) of near-copies (6 of 27 images")
    assert "warning: 3 test photo(s) have a near-copy in training" in out
    code, out, err = run_cli("evaluate", results_run, "--data", root, "--subset", "test",
                             "--out", tmp_path / "e" / "eval.json")
    assert code == 0, err
    assert "without the 3 test photos with a near-copy in training: accuracy " in out
    assert "warning: 3 of the 11 test photos have a near-copy in training" in out
    code, out, err = run_cli("duplicates", tmp_path / "missing")
    assert code == 1 and err.count("\n") == 1
