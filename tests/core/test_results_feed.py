"""Training, evaluation and prediction feed a model the same arrays for the same files.

The arrays the model receives are recorded on their way in (the real trained model behind a
recorder) and compared with the training pipeline's validation stream, built from the run's own
``run.json``: a masked and augmented photo run, and a one-channel run on the built-in digits
(whose digits, saved as gray PNG files and predicted, must give the same arrays again).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.augment.chain import builtin_chain
from filterscope.core.base.jobs import NullReport
from filterscope.core.masking.colordist import MaskParams, Target
from filterscope.core.results.eval_sets import open_eval_set
from filterscope.core.results.evaluate import evaluate_model
from filterscope.core.results.predict import predict
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.pipeline import build_inputs
from filterscope.core.training.saved_model import open_model
from PIL import Image

from tests.results_runs import train_run


class Recorder:
    """The model, with every batch it is fed kept."""

    def __init__(self, model) -> None:
        self.model, self.output_shape, self.fed = model, model.output_shape, []

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        self.fed.append(np.array(x))
        return self.model.predict_on_batch(x)

    def arrays(self, n: int) -> np.ndarray:
        return np.concatenate(self.fed)[:n]


def _validation_stream(run: Path) -> tuple[np.ndarray, list[str]]:
    """What training fed as validation: the run's recorded data through build_inputs."""
    data = DataSpec.from_json(json.loads((run / "run.json").read_text())["run"]["data"])
    inputs = build_inputs(data, batch_size=4, report=NullReport(), cancel=threading.Event())
    return np.concatenate([x.numpy() for x, _ in inputs.val]), inputs.classes


def _opened(run: Path):
    opened = open_model(run, report=NullReport(), cancel=threading.Event())
    opened.model = Recorder(opened.model)
    return opened


@pytest.fixture(scope="module")
def masked_run(results_photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained with a mask keeping reddish pixels (saved with the alpha output, which
    training turns into black) and the chapter's augmentation chain."""
    mask = MaskParams(targets=(Target((220, 80, 80), 20000.0),), median=3, output="alpha")
    return train_run(results_photos, tmp_path_factory.mktemp("masked"), mask=mask.to_json(),
                     chain=builtin_chain("chapter").to_json(), image_size=(20, 20))


def test_evaluation_and_prediction_feed_what_validation_fed(masked_run, results_photos) -> None:
    expected, _ = _validation_stream(masked_run)
    assert expected.shape == (6, 20, 20, 3) and expected.dtype == np.float32
    black = (expected == 0).all(axis=3).mean()
    assert 0.2 < black < 0.9  # masked: black where the mask removed the background

    opened = _opened(masked_run)
    assert opened.rule.mask is not None and opened.rule.size == (20, 20)
    evaluated = open_eval_set(opened, subset="val", report=NullReport(), cancel=threading.Event())
    result = evaluate_model(opened, evaluated, report=NullReport(), cancel=threading.Event())
    assert np.array_equal(opened.model.arrays(6), expected)  # bit for bit, in the same order

    opened.model.fed.clear()
    predicted = predict(None, results_photos / "val", report=NullReport(), cancel=threading.Event(),
                        opened=opened, batch_size=4)
    by_path = dict(zip(map(str, predicted.paths), opened.model.arrays(6)))
    assert all(np.array_equal(by_path[p], x) for p, x in zip(result.rows.paths, expected))


def test_a_one_channel_run_on_digits_feeds_the_same_gray_arrays(tmp_path: Path) -> None:
    run = train_run("builtin:mnist", tmp_path / "runs", image_size=None)
    expected, classes = _validation_stream(run)
    assert expected.shape == (1000, 28, 28, 1)

    opened = _opened(run)
    assert opened.rule.channels == 1 and opened.classes == classes
    evaluated = open_eval_set(opened, report=NullReport(), cancel=threading.Event())
    assert evaluated.kind == "val" and len(evaluated.images) == 1000
    result = evaluate_model(opened, evaluated, report=NullReport(), cancel=threading.Event())
    assert np.array_equal(opened.model.arrays(1000), expected)

    digits = tmp_path / "digits"
    digits.mkdir()
    for k in range(5):  # the first five validation digits, as gray PNG files
        gray = np.rint(expected[k, ..., 0] * 255).astype(np.uint8)
        Image.fromarray(gray, "L").save(digits / f"{k}.png")
    opened.model.fed.clear()
    predicted = predict(None, digits, report=NullReport(), cancel=threading.Event(), opened=opened)
    assert np.array_equal(opened.model.arrays(5), expected[:5])
    assert np.allclose(predicted.probabilities, result.rows.probabilities[:5], atol=1e-6)


def test_a_pretrained_base_run_is_fed_with_its_own_preprocessing(results_photos, tmp_path) -> None:
    """A VGG16 run records Caffe-style preprocessing; evaluation feeds exactly what its
    validation stream fed (BGR, ImageNet's mean subtracted), not 1/255 pixels."""
    from dataclasses import replace

    from filterscope.core.training.base_spec import base_templates
    from filterscope.core.training.runs import RunSpec
    from filterscope.core.transfer.run import train_run as train_on_base

    spec = base_templates()["vgg16"]
    spec = replace(spec, base=replace(spec.base, weights="random"))
    run = RunSpec(DataSpec(f"folder:{results_photos}", image_size=(32, 32)), spec, epochs=1,
                  batch_size=8, name="vgg")
    run_dir = train_on_base(run, tmp_path / "runs", report=NullReport(), cancel=threading.Event()).run_dir
    info = json.loads((run_dir / "run.json").read_text())
    assert info["preprocessing"] == "caffe"
    data = DataSpec.from_json(info["run"]["data"])
    inputs = build_inputs(data, batch_size=4, report=NullReport(), cancel=threading.Event(),
                          preprocessing="caffe")
    expected = np.concatenate([x.numpy() for x, _ in inputs.val])
    assert expected.min() < -50  # mean subtracted, not [0, 1]

    opened = _opened(run_dir)
    assert opened.rule.preprocessing == "caffe"
    evaluated = open_eval_set(opened, subset="val", report=NullReport(), cancel=threading.Event())
    evaluate_model(opened, evaluated, report=NullReport(), cancel=threading.Event())
    assert np.array_equal(opened.model.arrays(len(expected)), expected)
