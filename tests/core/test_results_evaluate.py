"""Evaluating a real (tiny) trained run: the sets it can be evaluated on, saving and listing,
bad input, cancel, and warnings from constructed runs."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport
from filterscope.core.data.datasets import scan_folder
from filterscope.core.data.splits import make_split, save_manifest
from filterscope.core.results.eval_sets import EvalSetError
from filterscope.core.results.evaluate import evaluate
from filterscope.core.results.review import ReviewEntry, ReviewError, load_review, mark_for_review, unmark
from filterscope.core.results.store import (
    EVALUATIONS,
    list_evaluations,
    load_evaluation,
    save_evaluation,
)
from filterscope.core.training.saved_model import ModelLoadError

from tests.corpus import tree_digest
from tests.results_runs import constant_model, copy_run, train_run
from tests.split_tree import damage_bodies, make_split_tree


def _evaluate(run: Path, **kwargs):
    return evaluate(run, report=NullReport(), cancel=threading.Event(), **kwargs)


def test_the_test_folder_by_default_saved_beside_the_run_and_listed(results_run, results_photos,
                                                                     tmp_path) -> None:
    before = tree_digest(results_photos)
    run = copy_run(results_run, tmp_path / "run")
    report = RecordingReport()
    result = evaluate(run, report=report, cancel=threading.Event(), batch_size=3)
    assert result.eval_set["kind"] == "subset" and result.eval_set["name"] == "test"
    assert result.classes == ["cat", "dog"] and result.n_images == 7 and result.skipped == []
    assert sorted(Path(p).relative_to(results_photos).parts[:2] for p in result.rows.paths) == \
        [("test", "cat")] * 4 + [("test", "dog")] * 3
    assert result.rows.true.tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert result.scores.confusion.sum() == 7 and result.scores.confusion.sum(axis=1).tolist() == [4, 3]
    assert result.baseline.to_json() == {"class": "cat", "accuracy": pytest.approx(4 / 7),
                                         "basis": "training", "count": 8, "tied": 2, "n_classes": 2}
    assert result.epoch == 1 and result.model == "best" and result.input["size"] == [12, 16]
    dones = [p["done"] for p in report.partials if p["kind"] == "evaluated"]
    assert dones == [3, 6, 7] and report.progress_calls[-1][0] == 1.0

    saved = save_evaluation(result)
    assert saved.parent == run / EVALUATIONS and saved.with_suffix(".csv").is_file()
    data = json.loads(saved.read_text())
    assert data["rows"] == saved.with_suffix(".csv").name and data["n_images"] == 7
    (listed,), problems = list_evaluations(run)
    assert problems == [] and listed.name == saved.stem and listed.n_images == 7
    assert listed.accuracy == result.scores.accuracy and listed.baseline_class == "cat"
    back = load_evaluation(saved, report=NullReport(), cancel=threading.Event())
    assert back.to_json() == {**result.to_json(), "name": saved.stem}
    assert np.allclose(back.rows.probabilities, result.rows.probabilities, atol=1e-6)
    assert back.intervals == result.intervals
    assert data["intervals"]["accuracy"]["value"] == result.scores.accuracy
    assert data["intervals"]["balanced_accuracy"]["value"] == pytest.approx(result.scores.balanced_accuracy)
    assert {d["level"] for d in data["intervals"].values()} == {0.95}
    older = saved.with_name("older.json")  # saved before intervals were computed
    older.write_text(json.dumps({k: v for k, v in data.items() if k != "intervals"}))
    assert load_evaluation(older, report=NullReport(), cancel=threading.Event()).intervals is None
    assert save_evaluation(result).name != saved.name  # a second one never replaces the first
    assert tree_digest(results_photos) == before


def test_the_runs_validation_images(results_run, results_photos) -> None:
    result = _evaluate(results_run, subset="val")
    assert result.eval_set["kind"] == "val" and result.n_images == 6
    assert {Path(p).relative_to(results_photos).parts[0] for p in result.rows.paths} == {"val"}
    assert "its val folder" in result.eval_set["description"]
    assert not [w for w in result.warnings if w.kind == "trained-on"]


def test_another_folder_extra_classes_refused_and_missing_ones_noted(results_run, tmp_path) -> None:
    other = tmp_path / "other"
    make_split_tree(other, {"cats": {"cat": 3, "owl": 2}})
    with pytest.raises(EvalSetError, match=r"not trained on: 'owl' \(2 images\)"):
        _evaluate(results_run, data=str(other / "cats"))
    shutil.rmtree(other / "cats" / "owl")
    result = _evaluate(results_run, data=str(other / "cats"))
    assert result.eval_set["kind"] == "folder" and result.n_images == 3
    assert result.notes == ["no images of 'dog' in this set: their rows of the confusion matrix are empty"]
    assert result.scores.confusion[1].tolist() == [0, 0] and result.scores.per_class[1].support == 0
    with pytest.raises(EvalSetError, match="not split into train/"):
        _evaluate(results_run, data=str(other / "cats"), subset="test")


def test_unreadable_images_are_named_and_skipped(results_run, tmp_path) -> None:
    broken = tmp_path / "broken"
    make_split_tree(broken, {"set": {"cat": 6, "dog": 6}})
    damaged = damage_bodies(broken / "set")  # the scan keeps them, decoding fails
    (broken / "set" / "dog" / "empty.jpg").write_bytes(b"")  # the scan refuses it
    result = _evaluate(results_run, data=str(broken / "set"))
    assert result.n_images == 12 - len(damaged)
    reasons = {Path(s["path"]).name: s["reason"] for s in result.skipped}
    assert reasons["empty.jpg"].startswith("empty file (0 bytes)")
    assert {p.name for p in damaged} <= set(reasons)
    assert all("corrupt" in reasons[p.name] for p in damaged)


def test_a_manifest_and_a_run_whose_dataset_has_no_test_folder_or_has_moved(results_run, tmp_path) -> None:
    plain = tmp_path / "plain"
    make_split_tree(plain, {"all": {"cat": 5, "dog": 5}})
    dataset = scan_folder(plain / "all", report=NullReport(), cancel=threading.Event())
    manifest = save_manifest(make_split(dataset, val_per_class=2, seed=1), tmp_path / "split.json")
    result = _evaluate(results_run, data=str(manifest))
    assert result.eval_set["kind"] == "manifest" and result.n_images == 4
    with pytest.raises(EvalSetError, match="lists no test subset"):
        _evaluate(results_run, data=str(manifest), subset="test")

    run = train_run(plain / "all", tmp_path / "runs")  # validates on 20 % of each class
    first = _evaluate(run)
    assert first.eval_set["kind"] == "val" and first.n_images == 2
    shutil.move(plain / "all", tmp_path / "moved")
    with pytest.raises(EvalSetError, match="folder does not exist.*if the dataset has moved"):
        _evaluate(run)
    moved = _evaluate(run, data=str(tmp_path / "moved"), subset="val")
    assert [Path(p).name for p in moved.rows.paths] == [Path(p).name for p in first.rows.paths]
    assert str(tmp_path / "moved") in moved.eval_set["description"]


def test_a_run_without_its_model_or_with_a_damaged_one(results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "interrupted")
    (run / "best.keras").unlink()
    (run / "last.keras").unlink()
    history = json.loads((run / "history.json").read_text())
    (run / "history.json").write_text(json.dumps({**history, "status": "running"}))
    with pytest.raises(ModelLoadError, match="the run has no best.keras: it was interrupted before "
                                             "its first epoch was saved"):
        _evaluate(run)
    damaged = copy_run(results_run, tmp_path / "damaged")
    (damaged / "last.keras").write_bytes((damaged / "last.keras").read_bytes()[:300])
    with pytest.raises(ModelLoadError, match="last.keras: not a readable Keras model: the file is damaged"):
        _evaluate(damaged, which="last")
    with pytest.raises(ModelLoadError, match="no such run folder"):
        _evaluate(tmp_path / "nowhere")
    with pytest.raises(ModelLoadError, match="not a run folder"):
        _evaluate(tmp_path)


def test_cancel_midway_leaves_nothing(results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    cancel = threading.Event()

    class CancelAfterFirstBatch(RecordingReport):
        def partial(self, payload) -> None:
            super().partial(payload)
            cancel.set()

    report = CancelAfterFirstBatch()
    with pytest.raises(Cancelled):
        evaluate(run, report=report, cancel=cancel, batch_size=2)
    assert len(report.partials) == 1 and not (run / EVALUATIONS).exists()


def test_a_model_answering_one_class_gets_the_baseline_and_never_predicted_warnings(
        results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "constant")
    constant_model(run, winner=0)
    result = _evaluate(run)
    assert result.scores.accuracy == pytest.approx(4 / 7) == result.baseline.accuracy
    kinds = [w.kind for w in result.warnings]
    assert kinds[:2] == ["baseline", "rarely-predicted"]
    assert result.warnings[0].message.startswith(
        f"Accuracy {result.intervals['accuracy'].describe()} is not clearly above the 57.1 % of always 'cat'")
    assert result.intervals["accuracy"].describe().startswith("57.1 % (95 % CI ")
    assert result.warnings[1].message.startswith("'dog' (3 images) was never predicted")


def test_an_overfitting_history_is_named_with_its_best_epoch(results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "overfit")
    val = [0.5, 0.6, 0.7, 0.75, 0.7, 0.65, 0.6]
    train = [0.5, 0.65, 0.75, 0.8, 0.9, 0.95, 0.99]
    history = json.loads((run / "history.json").read_text())
    history.update(best_epoch=4, epochs=[{"epoch": i + 1, "loss": 1.0, "accuracy": t, "val_loss": 1.0,
                                          "val_accuracy": v} for i, (v, t) in enumerate(zip(val, train))])
    (run / "history.json").write_text(json.dumps(history))
    result = _evaluate(run)
    (warning,) = [w for w in result.warnings if w.kind == "overfitting"]
    assert "peaked at 75.0 % in epoch 4 and fell to 60.0 % by epoch 7" in warning.message
    assert result.epoch == 4


def test_evaluating_the_training_images_is_flagged(results_run, results_photos) -> None:
    result = _evaluate(results_run, data=str(results_photos), subset="val")
    assert result.eval_set["name"] == "val" and result.eval_set["trained_on"] == 0
    plain = _evaluate(results_run, data=str(results_photos / "train"))
    assert plain.eval_set["trained_on"] == 16
    assert plain.warnings[0].kind == "trained-on"


def test_nothing_is_saved_inside_a_dataset_folder(results_run, results_photos, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    other = tmp_path / "other"
    make_split_tree(other, {"s": {"cat": 2, "dog": 2}})
    result = _evaluate(run, data=str(other / "s"))
    for inside in (other / "s" / "e.json", results_photos / "test" / "e.json"):  # the set's, the run's
        with pytest.raises(ValueError, match="refusing to write inside the dataset folder"):
            save_evaluation(result, out=inside)
    assert save_evaluation(result, out=tmp_path / "e").name == "e.json"


def test_a_review_list_is_kept_beside_the_run(results_run, results_photos, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    before = tree_digest(results_photos)
    result = _evaluate(run)
    rows = result.rows
    entries = [ReviewEntry(rows.paths[i], result.classes[rows.true[i]], result.classes[rows.predicted[i]],
                           float(rows.confidence[i]), "first") for i in range(3)]
    assert load_review(run) == []
    mark_for_review(run, entries[0])
    mark_for_review(run, entries[1])
    marked = mark_for_review(run, entries[0])  # marked again: moves to the end, once
    assert [e.path for e in marked] == [entries[1].path, entries[0].path]
    assert all(e.marked for e in marked) and load_review(run) == marked
    assert [e.path for e in unmark(run, entries[1].path)] == [entries[0].path]
    (run / "review.json").write_text('{"images": [{"path": 1}]}')
    with pytest.raises(ReviewError, match="review.json"):
        load_review(run)
    assert tree_digest(results_photos) == before


def test_a_run_without_best_keras_opens_its_last_model_and_says_so(results_run, tmp_path) -> None:
    from filterscope.core.base.jobs import NullReport
    from filterscope.core.training.saved_model import open_model

    run = copy_run(results_run, tmp_path / "no-best")
    (run / "best.keras").unlink()
    opened = open_model(run, which="best", report=NullReport(), cancel=threading.Event())
    assert opened.which == "last" and opened.path.name == "last.keras"
    assert any("no best.keras" in note for note in opened.notes)
