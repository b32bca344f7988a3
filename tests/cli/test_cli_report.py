"""``filterscope report`` end to end on a tiny trained run: the JSON summary, the human lines,
and a folder that is not a run."""

from __future__ import annotations

import json
from pathlib import Path

from tests.results_runs import copy_run

SECTIONS = ["Model card", "Data", "Mask and augmentation", "Model", "Training", "Evaluation",
            "Calibration and decisions", "Per-class metrics", "Confusion matrix", "Most confidently wrong",
            "Environment"]


def test_report_json_reports_the_held_out_set_evaluate_scores(run_cli, results_run, tmp_path) -> None:
    out = tmp_path / "reports" / "tiny.html"
    code, stdout, err = run_cli("report", results_run, "--out", out, "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert data["path"] == str(out) and out.is_file()
    assert data["sections"] == SECTIONS and data["evaluation_skipped"] is None
    assert (data["baseline_class"], data["n_images"]) == ("cat", 7)  # test/: 4 + 3
    run = copy_run(results_run, tmp_path / "run")  # evaluate saves beside the run
    code, stdout, err = run_cli("evaluate", run, "--json")
    assert code == 0, err
    evaluated = json.loads(stdout)
    assert (data["accuracy"], data["baseline"]) == (evaluated["accuracy"], evaluated["majority_baseline"]["accuracy"])
    assert data["intervals"] == evaluated["intervals"]  # the same seeded bootstrap, one function
    shown = data["evaluated"]
    assert (shown["description"], shown["subset"], shown["n_images"]) == \
        (evaluated["set"]["description"], "test", 7)
    assert shown["saved_evaluation"] is None and shown["chose_epoch"] is False
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    code, stdout, err = run_cli("report", results_run, "--out", tmp_path / "again.html")
    assert code == 0, err
    lines = stdout.splitlines()
    assert "(95 % CI " in lines[2] and lines[2].startswith("accuracy ") and "(majority baseline " in lines[2]
    assert lines[3] == f"measured on 7 images: {evaluated['set']['description']}"


def test_report_of_a_saved_validation_evaluation_says_it_chose_the_epoch(run_cli, results_run,
                                                                         tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    code, stdout, err = run_cli("evaluate", run, "--subset", "val", "--json")
    assert code == 0, err
    evaluated = json.loads(stdout)
    name = Path(evaluated["saved"]).stem
    code, stdout, err = run_cli("report", run, "--out", tmp_path / "val.html", "--evaluation", name, "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert (data["accuracy"], data["n_images"]) == (evaluated["accuracy"], 6)
    assert data["evaluated"]["saved_evaluation"] == name and data["evaluated"]["chose_epoch"] is True
    code, stdout, err = run_cli("report", run, "--out", tmp_path / "val.html", "--evaluation", name)
    assert code == 0, err
    assert stdout.splitlines()[3] == f"measured on 6 images: {evaluated['set']['description']} " \
                                     f"(the saved evaluation {name})"
    assert stdout.splitlines()[4].startswith("warning: these images also chose the epoch (best.keras)")


def test_report_human_output_and_a_run_without_a_model(run_cli, results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    (run / "best.keras").unlink()
    (run / "last.keras").unlink()
    code, stdout, err = run_cli("report", run, "--out", tmp_path / "r.html")
    assert code == 0, err
    lines = stdout.splitlines()
    assert lines[0] == f"wrote {tmp_path / 'r.html'}"
    assert lines[1] == "sections: Model card, Data, Mask and augmentation, Model, Training, Evaluation, " \
                       "Environment"
    assert lines[2].startswith("evaluation skipped: ") and "best.keras" in lines[2]


def test_report_of_a_folder_that_is_not_a_run_fails_with_its_name(run_cli, tmp_path: Path) -> None:
    code, stdout, err = run_cli("report", tmp_path, "--out", tmp_path / "r.html")
    assert code == 1 and stdout == ""
    assert err.startswith(f"filterscope report: error: {tmp_path} is not a run folder")
    assert not (tmp_path / "r.html").exists()


def test_report_intended_use_is_saved_with_the_run_and_in_the_json_model_card(run_cli, results_run,
                                                                              tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    code, stdout, err = run_cli("report", run, "--out", tmp_path / "a.html", "--json",
                                "--intended-use", "Sorting shelter photos: cats & dogs only")
    assert code == 0, err
    card = json.loads(stdout)["model_card"]
    assert card["intended_use"] == "Sorting shelter photos: cats & dogs only"
    assert json.loads((run / "model_card.json").read_text(encoding="utf-8"))["intended_use"] == \
        card["intended_use"]
    assert card["metrics"] == json.loads(stdout)["intervals"]  # metrics with their intervals
    assert card["calibration"].startswith("calibration: temperature ")
    assert "Sorting shelter photos: cats &amp; dogs only" in (tmp_path / "a.html").read_text(encoding="utf-8")
    use = tmp_path / "use.txt"
    use.write_text("Line one\nline two\n", encoding="utf-8")
    code, stdout, err = run_cli("report", run, "--out", tmp_path / "b.html", "--json", "--intended-use-file", use)
    assert code == 0, err
    assert json.loads(stdout)["model_card"]["intended_use"] == "Line one\nline two"
    code, stdout, err = run_cli("report", run, "--out", tmp_path / "c.html", "--intended-use-file",
                                tmp_path / "missing.txt")
    assert code == 1 and "cannot read the intended use from" in err and not (tmp_path / "c.html").exists()
