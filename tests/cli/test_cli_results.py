"""``filterscope evaluate`` and ``filterscope predict`` end to end on a tiny trained run."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from tests.corpus import tree_digest
from tests.results_runs import copy_run
from tests.split_tree import damage_bodies, make_split_tree


@pytest.fixture
def run(results_run: Path, tmp_path: Path) -> Path:
    """A copy of the shared run (evaluate saves into the run folder)."""
    return copy_run(results_run, tmp_path / "run")


def test_evaluate_json_has_the_scores_the_baseline_and_the_matrix(run_cli, run, results_photos) -> None:
    before = tree_digest(results_photos)
    code, out, err = run_cli("evaluate", run, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert {"accuracy", "balanced_accuracy", "majority_baseline", "per_class", "confusion_matrix",
            "warnings", "n_images", "skipped"} <= set(data)
    assert data["n_images"] == 7 and data["skipped"] == [] and data["set"]["name"] == "test"
    assert data["majority_baseline"] == {"class": "cat", "accuracy": pytest.approx(4 / 7),
                                         "basis": "training", "count": 8, "tied": 2, "n_classes": 2}
    matrix = data["confusion_matrix"]
    assert matrix["classes"] == ["cat", "dog"] and (matrix["rows"], matrix["columns"]) == ("true", "predicted")
    assert [sum(row) for row in matrix["matrix"]] == [4, 3]
    assert [c["class"] for c in data["per_class"]] == ["cat", "dog"]
    assert all({"kind", "message", "advice"} == set(w) for w in data["warnings"])
    intervals = data["intervals"]
    assert set(intervals) == {"accuracy", "balanced_accuracy", "macro_f1"}
    assert intervals["accuracy"]["value"] == data["accuracy"]
    for interval in intervals.values():
        assert set(interval) == {"value", "low", "high", "level", "resamples", "seed"}
        assert interval["low"] <= interval["value"] <= interval["high"]
        assert (interval["level"], interval["resamples"], interval["seed"]) == (0.95, 1000, 0)
    saved = Path(data["saved"])
    assert saved.parent == run / "evaluations" and json.loads(saved.read_text())["n_images"] == 7
    with open(data["rows_csv"], encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 7
    assert tree_digest(results_photos) == before


def test_evaluate_human_output_puts_accuracy_next_to_its_baseline(run_cli, run, tmp_path) -> None:
    out_file = tmp_path / "elsewhere" / "eval.json"
    code, out, err = run_cli("evaluate", run, "--subset", "val", "--model", "last", "--out", out_file)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"run: {run}, last.keras (epoch 1)"
    assert lines[1].startswith("images: the run's validation images (its val folder of ")
    assert lines[1].endswith(": 6 evaluated")
    # cat and dog have 8 training images each: the baseline says they tie
    assert lines[2].startswith("accuracy ") and lines[2].endswith(
        " %: always 'cat', the first of all 2 classes, which tie as largest in training (8 images each))")
    assert "(majority baseline 50.0 %" in lines[2]
    # each figure with its interval: "accuracy 50.0 % (95 % CI 16.7–83.3 %) (majority baseline..."
    assert re.match(r"accuracy \d+\.\d % \(95 % CI \d+\.\d–\d+\.\d %\) \(majority", lines[2])
    assert re.fullmatch(r"balanced accuracy \d+\.\d % \(95 % CI \d+\.\d–\d+\.\d %\), "
                        r"macro-F1 \d+\.\d % \(95 % CI \d+\.\d–\d+\.\d %\)", lines[3])
    # calibrated on the validation images (last.keras, fitted now), no threshold nor costs: one line
    assert re.fullmatch(r"calibration: temperature \d+\.\d\d, fitted on the run's validation images .*; "
                        r"on these images ECE \d+\.\d % → \d+\.\d %", lines[4])
    assert lines[6].split() == ["class", "precision", "recall", "F1", "support", "predicted"]
    assert lines[7].split()[0] == "cat" and lines[7].split()[-2:] == ["3", lines[7].split()[-1]]
    at = lines.index("confusion matrix (rows: true class; columns: predicted class)")
    assert lines[at + 1].split() == ["cat", "dog"] and lines[at + 2].split()[0] == "cat"  # short: named
    assert lines[-1] == f"saved: {out_file} (+ {out_file.with_suffix('.csv')}, one row per image)"
    assert out_file.is_file() and not (run / "evaluations").exists()


def test_evaluate_errors_are_one_line(run_cli, run, results_photos, tmp_path) -> None:
    code, _, err = run_cli("evaluate", tmp_path / "nowhere")
    assert code == 1 and err.startswith("filterscope evaluate: error: ") and "no such run folder" in err
    other = tmp_path / "other"
    make_split_tree(other, {"s": {"cat": 2, "owl": 1}})
    code, _, err = run_cli("evaluate", run, "--data", other / "s")
    assert code == 1 and "class(es) the model was not trained on: 'owl' (1 images)" in err
    code, _, err = run_cli("evaluate", run, "--data", results_photos, "--out", results_photos / "e.json")
    assert code == 1 and "refusing to write inside the dataset folder" in err
    with pytest.raises(SystemExit) as exit_:
        run_cli("evaluate", run, "--subset", "train")
    assert exit_.value.code == 2


def test_predict_a_folder_writes_a_csv_with_broken_files_as_rows(run_cli, run, tmp_path) -> None:
    photos = tmp_path / "new"
    make_split_tree(photos, {"batch": {"cat": 3, "dog": 3}}, png_only=True)
    (broken,) = damage_bodies(photos / "batch" / "dog")[:1]
    for extra in damage_bodies(photos / "batch" / "dog")[1:]:
        extra.unlink()
    out = tmp_path / "preds.csv"
    code, text, err = run_cli("predict", run, photos, "--out", out, "--top-k", 1)
    assert code == 0, err
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["path"] for r in rows] == sorted(str(p) for p in photos.rglob("*.png"))
    (bad,) = [r for r in rows if r["error"]]
    assert bad["path"] == str(broken) and "corrupt PNG" in bad["error"]
    assert list(rows[0]) == ["path", "predicted", "confidence", "calibrated_confidence", "decision",
                             "class_1", "probability_1", "error", "run_id", "model_sha256"]
    assert bad["decision"] == "needs_review" and bad["calibrated_confidence"] == ""
    assert all(r["decision"] == r["predicted"] for r in rows if not r["error"])  # no threshold, no costs
    lines = text.splitlines()
    assert lines[0] == f"model: best.keras of run {run.name} (epoch 1 of 1)"
    assert "predicted 3 of 4 image(s); 1 could not be read" in lines
    assert lines[-2] == f"wrote {out} (one row per image)"
    assert lines[-1].startswith(f"audit: {out}.json (run, model SHA-256")
    code, _, err = run_cli("predict", run, photos, "--out", photos / "p.csv")
    assert code == 1 and "refusing to write inside the dataset folder" in err
    with pytest.raises(SystemExit) as exit_:
        run_cli("predict", run, photos)
    assert exit_.value.code == 2


def test_predict_refuses_an_existing_csv_unless_overwrite_and_json_has_the_audit(
        run_cli, run, results_photos, tmp_path, monkeypatch) -> None:
    import hashlib

    from filterscope.core.results import predict as predict_module

    out = tmp_path / "preds.csv"
    out.write_text("earlier\n")
    with monkeypatch.context() as patch:  # refused before any model is opened
        patch.setattr(predict_module, "open_model", lambda *a, **k: pytest.fail("the model was opened"))
        code, text, err = run_cli("predict", run, results_photos / "test", "--out", out)
    assert code == 1 and f"{out}: the file exists" in err and "--overwrite" in err
    assert out.read_text() == "earlier\n" and not (tmp_path / "preds.csv.json").exists()
    code, text, err = run_cli("predict", run, results_photos / "test", "--out", out, "--overwrite", "--json")
    assert code == 0, err
    audit = json.loads(text)["audit"]
    assert audit == json.loads((tmp_path / "preds.csv.json").read_text(encoding="utf-8"))
    assert audit["model"]["sha256"] == hashlib.sha256((run / "best.keras").read_bytes()).hexdigest()
    assert audit["run"]["name"] == run.name and audit["counts"]["images"] == 7
    assert {"threshold", "costs", "time", "app_version", "temperature", "target_accuracy"} <= set(audit)
    assert audit["csv"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_predict_one_image_as_json(run_cli, run, results_photos) -> None:
    image = sorted((results_photos / "test" / "dog").iterdir())[0]
    code, out, err = run_cli("predict", run, image, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["classes"] == ["cat", "dog"] and data["n_images"] == 1 and data["out"] is None
    (row,) = data["rows"]
    assert row["path"] == str(image) and row["predicted"] in ("cat", "dog") and row["error"] is None
    assert [t["class"] for t in row["top"]][0] == row["predicted"]
    assert data["audit"]["input"] == {"path": str(image), "kind": "image"} and data["audit"]["csv"] is None
    code, out, _ = run_cli("predict", run, image)
    assert out.splitlines()[1].startswith(f"{image}: {row['predicted']} ")


def test_predict_refuses_a_model_with_custom_code(run_cli, tmp_path) -> None:
    import keras

    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Flatten()(keras.layers.Lambda(lambda t: t + 1)(inputs))
    keras.Model(inputs, outputs).save(tmp_path / "lambda.keras")
    make_split_tree(tmp_path / "img", {"s": {"c": 1}}, png_only=True)
    code, _, err = run_cli("predict", tmp_path / "lambda.keras", tmp_path / "img", "--out", tmp_path / "p.csv")
    assert code == 1 and "refused: the model contains a Lambda layer" in err
    assert not (tmp_path / "p.csv").exists()


def test_tta_evaluates_with_the_gain_measured_and_predicts_with_it_recorded(run_cli, run,
                                                                           results_photos) -> None:
    from filterscope.core.results.tta import VIEWS, tta_sentence

    code, out, err = run_cli("evaluate", run, "--json")
    assert code == 0, err
    plain = json.loads(out)
    assert plain["tta"] is None  # off unless asked for
    code, out, err = run_cli("evaluate", run, "--tta", "--json")
    assert code == 0, err
    data = json.loads(out)
    tta = data["tta"]
    assert tta["views"] == [v.name for v in VIEWS]
    assert tta["accuracy_with"] == data["accuracy"] and tta["accuracy_without"] == plain["accuracy"]
    assert tta["gain"] == pytest.approx(tta["accuracy_with"] - tta["accuracy_without"])
    assert json.loads(Path(data["saved"]).read_text())["tta"] == tta

    code, out, err = run_cli("evaluate", run, "--tta")
    assert code == 0, err
    assert tta_sentence(tta) in out.splitlines()
    assert re.search(r"^test-time augmentation: 6 views, accuracy [\d.]+ % without, [\d.]+ % with "
                     r"\(gain [+-]\d+\.\d points\)$", out, re.MULTILINE)
    code, out, err = run_cli("evaluate", run)
    assert code == 0 and "test-time augmentation" not in out

    image = sorted((results_photos / "test" / "dog").iterdir())[0]
    code, out, err = run_cli("predict", run, image, "--tta", "--json")
    assert code == 0, err
    averaged = json.loads(out)
    code, out, err = run_cli("predict", run, image, "--json")
    assert code == 0, err
    assert averaged["tta"] is True and json.loads(out)["tta"] is False
    assert averaged["rows"][0]["top"] != json.loads(out)["rows"][0]["top"]
