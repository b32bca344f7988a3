"""``filterscope labels DATA_OR_RUN --out suspects.csv``: a dataset's suspect labels, end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.corpus import tree_digest
from tests.results_runs import copy_run


def test_json_keys_csv_rows_and_the_dataset_untouched(run_cli, results_photos, tmp_path) -> None:
    before = tree_digest(results_photos)
    out = tmp_path / "suspects.csv"
    code, stdout, err = run_cli("labels", results_photos, "--out", out, "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert {"source", "classes", "k", "head", "accuracy", "n_images", "n_issues", "images", "out",
            "saved"} <= set(data)
    assert data["n_images"] == 29 and data["classes"] == ["cat", "dog"] and data["saved"] is None
    assert set(data["images"][0]) == {"key", "path", "subset", "given", "suggested", "score",
                                      "suggested_probability", "issue"}
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 29 and [float(r["score"]) for r in rows] == sorted(float(r["score"]) for r in rows)
    assert {r["subset"] for r in rows} == {"train", "val", "test"}
    assert not list(tmp_path.glob("*.tmp*")) and tree_digest(results_photos) == before


def test_a_run_means_its_dataset_and_keeps_the_result(run_cli, results_run, results_photos, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    code, stdout, err = run_cli("labels", run, "--out", tmp_path / "s.csv")
    assert code == 0, err
    assert "label issue(s)" in stdout and "kept with the run" in stdout
    kept = json.loads((run / "suspect_labels.json").read_text(encoding="utf-8"))
    assert kept["n_images"] == 29 and Path(kept["images"][0]["path"]).is_relative_to(results_photos)
    assert (run / "suspect_labels.csv").read_bytes() == (tmp_path / "s.csv").read_bytes()


@pytest.mark.parametrize("inside", ["suspects.csv", "train/cat/suspects.csv"])
def test_refuses_writing_into_the_dataset(run_cli, results_photos, inside) -> None:
    before = tree_digest(results_photos)
    code, stdout, err = run_cli("labels", results_photos, "--out", results_photos / inside)
    assert code == 1 and stdout == ""
    assert "refusing to write inside the dataset folder" in err and len(err.strip().splitlines()) == 1
    assert tree_digest(results_photos) == before


def test_errors_are_one_line(run_cli, tmp_path) -> None:
    code, _out, err = run_cli("labels", tmp_path / "missing", "--out", tmp_path / "s.csv")
    assert code == 1 and err.startswith("filterscope labels: error:") and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exited:  # --out is required: argparse's usage error
        run_cli("labels", tmp_path)
    assert exited.value.code == 2
