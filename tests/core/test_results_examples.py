"""The Train tab's example strip: a few validation images per class, predicted as evaluation does."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.results.eval_sets import EvalSetError
from filterscope.core.results.evaluate import evaluate
from filterscope.core.results.examples import class_examples

from tests.results_runs import constant_model, make_photos, train_run


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("examples")
    return train_run(make_photos(root / "photos"), root / "runs")


def test_a_few_validation_images_per_class_predicted_as_evaluation_does(run: Path) -> None:
    examples = class_examples(run, per_class=2, report=NullReport(), cancel=threading.Event())
    assert [e.true for e in examples] == ["cat", "cat", "dog", "dog"]
    assert all("/val/" in e.name for e in examples)  # the run's validation images, never test/
    assert all(e.thumbnail.dtype == np.uint8 and max(e.thumbnail.shape[:2]) <= 96 for e in examples)
    evaluation = evaluate(run, subset="val", report=NullReport(), cancel=threading.Event())
    rows = evaluation.rows
    for e in examples:
        row = rows.paths.index(e.name)
        assert e.predicted == evaluation.classes[int(rows.predicted[row])]
        assert e.probability == pytest.approx(float(rows.confidence[row]), abs=1e-6)
        assert e.correct == (e.predicted == e.true)


def test_more_than_a_class_holds_gives_all_of_it_and_picks_are_seeded(run: Path) -> None:
    everything = class_examples(run, per_class=10, report=NullReport(), cancel=threading.Event())
    assert len(everything) == 6  # three validation images per class
    again = [class_examples(run, per_class=1, seed=s, report=NullReport(), cancel=threading.Event())
             for s in (5, 5)]
    assert [e.name for e in again[0]] == [e.name for e in again[1]]


def test_a_model_that_always_says_dog_is_wrong_on_every_cat(run: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    constant_model(copy, winner=1)
    examples = class_examples(copy, per_class=3, report=NullReport(), cancel=threading.Event())
    assert [e.correct for e in examples] == [False] * 3 + [True] * 3
    assert all(e.predicted == "dog" and e.probability > 0.99 for e in examples)


def test_a_run_whose_dataset_is_gone_is_a_clear_error(run: Path, tmp_path: Path) -> None:
    import json
    import shutil

    copy = tmp_path / "moved"
    shutil.copytree(run, copy)
    info = json.loads((copy / "run.json").read_text())
    info["run"]["data"]["source"] = f"folder:{tmp_path / 'nowhere'}"
    (copy / "run.json").write_text(json.dumps(info))
    with pytest.raises(EvalSetError):
        class_examples(copy, report=NullReport(), cancel=threading.Event())
