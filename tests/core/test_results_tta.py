"""Test-time augmentation: the views (a mirror, shifts of 4 % with reflected edges), the
averaged probabilities a real trained model gives, the gain an evaluation measures (saved and
read back; older evaluations without it still read), prediction's record of it, cancel between
views, and that it is off unless asked for."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport
from filterscope.core.base.settings import declared_default
from filterscope.core.results.eval_sets import open_eval_set
from filterscope.core.results.evaluate import evaluate
from filterscope.core.results.feed import DatasetImages, predict_images
from filterscope.core.results.predict import predict
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.results.store import load_evaluation, save_evaluation
from filterscope.core.results.tta import VIEWS, shift_pixels, tta_sentence
from filterscope.core.training.saved_model import open_model

from tests.results_runs import copy_run


def _image(height: int = 50, width: int = 100) -> np.ndarray:
    """One (1, H, W, 3) uint8 image, every pixel different: asymmetric in both directions."""
    values = np.arange(height * width * 3, dtype=np.int64).reshape(1, height, width, 3)
    return (values % 251).astype(np.uint8)


def _view(name_start: str):
    (view,) = [v for v in VIEWS if v.name.startswith(name_start)]
    return view


def test_the_views_identity_first_a_mirror_and_shifts_of_four_percent_with_reflected_edges() -> None:
    image = _image()
    assert VIEWS[0].name == "identity" and np.array_equal(VIEWS[0].apply(image), image)
    assert len(VIEWS) == 6 and len({v.name for v in VIEWS}) == 6
    mirrored = _view("horizontal flip").apply(image)
    assert np.array_equal(mirrored[0, :, 0], image[0, :, -1])  # left column <- right column
    assert not np.array_equal(mirrored, image) and np.array_equal(mirrored[:, :, ::-1], image)
    assert all(v.dy == 0 or not v.flip for v in VIEWS)  # no vertical flip among them

    right = _view("shift right").apply(image)  # 4 % of 100 columns: 4
    assert right.shape == image.shape and right.dtype == np.uint8
    assert np.array_equal(right[:, :, 4:], image[:, :, :-4])
    assert np.array_equal(right[:, :, :4], image[:, :, 4:0:-1])  # reflected, edge not repeated
    left = _view("shift left").apply(image)
    assert np.array_equal(left[:, :, :-4], image[:, :, 4:])
    down = _view("shift down").apply(image)  # 4 % of 50 rows: 2
    assert np.array_equal(down[:, 2:], image[:, :-2]) and np.array_equal(down[:, :2], image[:, 2:0:-1])
    up = _view("shift up").apply(image)
    assert np.array_equal(up[:, :-2], image[:, 2:])

    assert shift_pixels(150, 0.04) == 6 and shift_pixels(28, -0.04) == -1  # a digit moves a pixel
    assert shift_pixels(12, 0.04) == 1 and shift_pixels(1, 0.04) == 0 and shift_pixels(40, 0) == 0


class Recorder:
    """A real model with every batch it is fed, and every answer, kept."""

    def __init__(self, model, cancel: threading.Event | None = None, after: int = 0) -> None:
        self.model, self.output_shape, self.fed, self.out = model, model.output_shape, [], []
        self.cancel, self.after = cancel, after

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        self.fed.append(np.array(x))
        self.out.append(np.asarray(self.model.predict_on_batch(x)))
        if self.cancel is not None and len(self.fed) == self.after:
            self.cancel.set()
        return self.out[-1]


def _validation(run: Path):
    opened = open_model(run, report=NullReport(), cancel=threading.Event())
    evaluated = open_eval_set(opened, subset="val", report=NullReport(), cancel=threading.Event())
    return opened, evaluated.images


def test_probabilities_are_the_mean_over_the_views_of_the_runs_own_scaled_images(results_run) -> None:
    opened, images = _validation(results_run)
    assert isinstance(images, DatasetImages) and len(images) == 6
    model, plain_model = Recorder(opened.model), Recorder(opened.model)
    with_tta = predict_images(model, images, opened.rule, report=NullReport(), cancel=threading.Event(),
                              tta=True)
    without = predict_images(plain_model, images, opened.rule, report=NullReport(),
                             cancel=threading.Event())
    assert len(model.fed) == len(VIEWS) and len(plain_model.fed) == 1  # one batch, every view
    # The run scales each pixel on its own (1/255), so a view of the scaled batch is the scaled view.
    for view, fed in zip(VIEWS, model.fed):
        np.testing.assert_allclose(fed, view.apply(plain_model.fed[0]), atol=1e-6)
    assert np.array_equal(model.fed[0], plain_model.fed[0])
    np.testing.assert_allclose(with_tta.probabilities, np.mean(model.out, axis=0), atol=1e-6)
    np.testing.assert_allclose(with_tta.plain, without.probabilities, atol=1e-6)
    assert not np.allclose(with_tta.probabilities, without.probabilities, atol=1e-4)
    assert without.plain is None  # off by default


def test_cancel_is_heard_between_the_views_of_a_batch(results_run) -> None:
    opened, images = _validation(results_run)
    cancel = threading.Event()
    model = Recorder(opened.model, cancel, after=2)
    with pytest.raises(Cancelled):
        predict_images(model, images, opened.rule, report=NullReport(), cancel=cancel, tta=True)
    assert len(model.fed) == 2  # not the six views of the batch


def test_evaluate_measures_the_gain_saves_it_and_reads_old_evaluations_without_it(results_run,
                                                                                 tmp_path) -> None:
    assert declared_default(EvaluateSettings, "tta") is False
    run = copy_run(results_run, tmp_path / "run")
    plain = evaluate(run, report=NullReport(), cancel=threading.Event())
    assert plain.tta is None and plain.to_json()["tta"] is None
    result = evaluate(run, tta=True, report=NullReport(), cancel=threading.Event(), batch_size=3)
    tta = result.tta
    assert tta["views"] == [v.name for v in VIEWS]
    assert tta["accuracy_with"] == result.scores.accuracy
    assert tta["accuracy_without"] == plain.scores.accuracy  # the identity view, as without TTA
    assert tta["gain"] == pytest.approx(tta["accuracy_with"] - tta["accuracy_without"])
    assert not np.allclose(result.rows.probabilities, plain.rows.probabilities, atol=1e-4)
    points = 100 * tta["gain"]
    assert tta_sentence(tta).startswith(f"test-time augmentation: {len(VIEWS)} views, accuracy ")
    assert f"(gain {points:+.1f} points)" in tta_sentence(tta)

    saved = save_evaluation(result)
    assert json.loads(saved.read_text())["tta"] == tta
    assert load_evaluation(saved, report=NullReport(), cancel=threading.Event()).tta == tta
    old = json.loads(saved.read_text())
    del old["tta"]  # saved before test-time augmentation existed
    saved.write_text(json.dumps(old))
    assert load_evaluation(saved, report=NullReport(), cancel=threading.Event()).tta is None


def test_prediction_records_whether_it_used_tta(results_run, results_photos) -> None:
    image = sorted((results_photos / "test" / "cat").iterdir())[0]
    kwargs = {"report": NullReport(), "cancel": threading.Event()}
    plain, averaged = predict(results_run, image, **kwargs), predict(results_run, image, tta=True, **kwargs)
    assert plain.to_json()["tta"] is False and averaged.to_json()["tta"] is True
    assert not np.allclose(plain.probabilities, averaged.probabilities, atol=1e-4)
