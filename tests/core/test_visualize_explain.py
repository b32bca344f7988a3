"""Why a run's model answered what it did: Grad-CAM of a run's photo, fed by the run's rule
(masked, resized, scaled bit for bit as evaluation feeds it), for the classes asked for."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport
from filterscope.core.results.predict import predict
from filterscope.core.training.saved_model import open_model
from filterscope.core.visualize.explain import explain_image, explain_run_image
from filterscope.core.visualize.layers import VisualizeError

from tests.core.test_results_feed import Recorder


def _photo(photos: Path) -> Path:
    return sorted((photos / "test" / "cat").iterdir())[0]


def test_a_run_photo_is_explained_as_evaluation_feeds_it(results_conv_run, results_photos) -> None:
    photo = _photo(results_photos)
    opened = open_model(results_conv_run, report=NullReport(), cancel=threading.Event())
    assert opened.rule.mask is not None and opened.rule.size == (32, 32)
    opened.model = Recorder(opened.model)
    predicted = predict(None, photo, report=NullReport(), cancel=threading.Event(), opened=opened)
    fed = opened.model.arrays(1)
    assert fed.shape == (1, 32, 32, 3) and 0.0 <= fed.min() and fed.max() <= 1.0
    assert (fed == 0).all(axis=3).mean() > 0.1  # the run's mask blacked the background out

    explained = explain_run_image(results_conv_run, photo, [1, 0], report=NullReport(),
                                  cancel=threading.Event())
    cams = explained.cams
    assert [c.class_index for c in cams] == [1, 0] and [c.class_name for c in cams] == ["dog", "cat"]
    for cam in cams:
        assert np.array_equal(cam.image.batch, fed)  # the very array evaluation fed, bit for bit
        assert cam.heatmap.dtype == np.float32 and cam.heatmap.ndim == 2
        assert 0.0 <= cam.heatmap.min() and cam.heatmap.max() <= 1.0
    probabilities = predicted.probabilities[0]
    assert [c.probability for c in cams] == pytest.approx([probabilities[1], probabilities[0]], abs=1e-5)


def test_without_classes_the_two_most_probable_are_explained(results_conv_run, results_photos) -> None:
    first = explain_run_image(results_conv_run, _photo(results_photos), report=NullReport(),
                              cancel=threading.Event())
    cams = explain_image(first.session, _photo(results_photos), report=NullReport(),
                         cancel=threading.Event())  # the session again: no new model opened
    order = [c["index"] for c in cams[0].top[:2]]
    assert [c.class_index for c in cams] == order and sorted(order) == [0, 1]
    assert cams[0].probability >= cams[1].probability


def test_a_model_without_convolutions_says_so(results_run, results_photos) -> None:
    with pytest.raises(VisualizeError, match="no convolution layer"):
        explain_run_image(results_run, _photo(results_photos), report=NullReport(), cancel=threading.Event())


def test_cancel_stops_it(results_conv_run, results_photos) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        explain_run_image(results_conv_run, _photo(results_photos), report=NullReport(), cancel=cancel)
