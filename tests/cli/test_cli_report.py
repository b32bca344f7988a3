"""``filterscope report`` end to end on a tiny trained run: the JSON summary, the human lines,
and a folder that is not a run."""

from __future__ import annotations

import json
from pathlib import Path

from tests.results_runs import copy_run

SECTIONS = ["Data", "Mask and augmentation", "Model", "Training", "Evaluation", "Per-class metrics",
            "Confusion matrix", "Most confidently wrong", "Environment"]


def test_report_json_has_path_sections_accuracy_and_baseline(run_cli, results_run, tmp_path) -> None:
    out = tmp_path / "reports" / "tiny.html"
    code, stdout, err = run_cli("report", results_run, "--out", out, "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert data["path"] == str(out) and out.is_file()
    assert data["sections"] == SECTIONS and data["evaluation_skipped"] is None
    assert (data["baseline"], data["baseline_class"], data["n_images"]) == (0.5, "cat", 6)
    run = copy_run(results_run, tmp_path / "run")  # evaluate saves beside the run
    code, stdout, err = run_cli("evaluate", run, "--subset", "val", "--json")
    assert code == 0, err
    evaluated = json.loads(stdout)
    assert data["accuracy"] == evaluated["accuracy"]
    assert data["intervals"] == evaluated["intervals"]  # the same seeded bootstrap, one function
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    code, stdout, err = run_cli("report", results_run, "--out", tmp_path / "again.html")
    assert code == 0, err
    assert "(95 % CI " in stdout.splitlines()[2] and stdout.splitlines()[2].startswith("accuracy ")


def test_report_human_output_and_a_run_without_a_model(run_cli, results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    (run / "best.keras").unlink()
    (run / "last.keras").unlink()
    code, stdout, err = run_cli("report", run, "--out", tmp_path / "r.html")
    assert code == 0, err
    lines = stdout.splitlines()
    assert lines[0] == f"wrote {tmp_path / 'r.html'}"
    assert lines[1] == "sections: Data, Mask and augmentation, Model, Training, Evaluation, Environment"
    assert lines[2].startswith("evaluation skipped: ") and "best.keras" in lines[2]


def test_report_of_a_folder_that_is_not_a_run_fails_with_its_name(run_cli, tmp_path: Path) -> None:
    code, stdout, err = run_cli("report", tmp_path, "--out", tmp_path / "r.html")
    assert code == 1 and stdout == ""
    assert err.startswith(f"filterscope report: error: {tmp_path} is not a run folder")
    assert not (tmp_path / "r.html").exists()
