"""Gradient ascent on a real model (the chapter's ConvNet trained for one epoch on MNIST):
the objective rises, the chapter's recipe is reproduced, batches equal single runs, the clean
preset is smoother, partials, Stop, NaN, seeds, bad targets, memory."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport, never_cancel
from filterscope.core.visualize.ascent import AscentFrame, MosaicTiles, ascend, start_images
from filterscope.core.visualize.layers import VisualizeError
from filterscope.core.visualize.model_source import load_source
from filterscope.core.visualize.render import deprocess, total_variation
from filterscope.core.visualize.session import VisualSession
from filterscope.core.visualize.settings import AscentSettings, Target, preset

from tests.chapter_reference import chapter_deprocess_image, chapter_gradient_ascent
from tests.visualize_models import loaded

LAYER = "block2_conv"


@pytest.fixture(scope="module")
def session(mnist_run: Path) -> VisualSession:
    return VisualSession(load_source(mnist_run, report=NullReport(), cancel=never_cancel()))


def _run(session: VisualSession, target: Target, settings: AscentSettings, **kwargs):
    return ascend(session, target, settings, report=kwargs.pop("report", NullReport()),
                  cancel=kwargs.pop("cancel", never_cancel()), **kwargs)


def test_the_objective_rises_tenfold_for_a_filter_of_a_trained_convnet(session) -> None:
    result = _run(session, Target.filters(LAYER, range(12)), preset("chapter"))
    start, end = result.objective_start, result.objective_end
    assert result.status == "finished" and result.history.shape == (501, 12)
    assert np.all(end > start), (start, end)
    chosen = int(np.argmax(start))  # the filter that responds most to noise: the hardest to lift
    assert start[chosen] > 0 and end[chosen] >= 10 * start[chosen], (start[chosen], end[chosen])
    assert result.images.shape == (12, 28, 28, 3) and result.images.dtype == np.uint8
    assert result.raw.shape == (12, 28, 28, 1)
    assert result.labels[0] == f"{LAYER} filter 0"


def test_a_class_score_rises(session) -> None:
    result = _run(session, Target.classes([3, 7]), preset("chapter", steps=200))
    assert result.lr == 0.01
    assert np.all(result.objective_end > 0.9) and np.all(result.objective_start < 0.5)
    assert result.labels == ["class 3 (3)", "class 7 (7)"]


@pytest.mark.parametrize("layer", ["block1_conv", LAYER])
def test_the_chapter_preset_is_the_chapters_recipe(session, layer: str) -> None:
    """Same start image, same steps: the compiled, batched ascent follows the chapter's own loop
    (on the model cut at the layer), at the first layer and deeper."""
    settings = preset("chapter", steps=60)
    result = _run(session, Target.filters(layer, [0, 5]), settings)
    cut = session.cut(("layer", layer), lambda: session.output_of(layer))
    for column, index in enumerate([0, 5]):
        start = start_images(session, settings, [index])
        image, losses = chapter_gradient_ascent(cut, start, index, alpha=0.1, steps=60)
        np.testing.assert_allclose(result.history[:60, column], losses, rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(result.raw[column], image[0], rtol=1e-3, atol=2e-3)
        assert np.abs(result.images[column].astype(int)
                      - chapter_deprocess_image(image[0]).repeat(3, axis=2)).max() <= 1


def test_computing_only_the_chosen_filters_gives_the_layers_activations() -> None:
    """VGG16's convolutions (same padding, ReLU inside): the objective from the chosen kernels
    alone equals the mean of the layer's own output."""
    import tensorflow as tf
    from filterscope.core.visualize.steps import chosen_filters_objective, filter_objective

    vgg = VisualSession(load_source("vgg16", weights="random", size=32, report=NullReport(),
                                    cancel=never_cancel()))
    x = tf.constant(np.random.default_rng(0).normal(0, 50, (3, 32, 32, 3)).astype(np.float32))
    indices = tf.constant([5, 0, 63], tf.int32)
    for name in ("block1_conv1", "block2_conv1"):
        layer = vgg.model.get_layer(name)
        before = vgg.input_of(name)
        cut = None if before is None else vgg.cut(("before", name), lambda: before)
        whole = filter_objective(vgg.cut(("layer", name), lambda: vgg.output_of(name)))
        np.testing.assert_allclose(chosen_filters_objective(cut, layer)(x, indices).numpy(),
                                   whole(x, indices).numpy(), rtol=1e-4, atol=1e-4)


def test_deprocess_is_the_chapters() -> None:
    rng = np.random.default_rng(1)
    for x in (rng.normal(3.0, 40.0, (16, 16, 3)), rng.random((9, 7, 1)), np.full((4, 4, 3), 7.0)):
        ours = deprocess(x)
        assert ours.dtype == np.uint8 and ours.shape == x.shape
        assert np.abs(ours.astype(int) - chapter_deprocess_image(x)).max() <= 1
    wide = deprocess(rng.normal(0.0, 1.0, (64, 64, 3)))
    assert abs(wide.mean() - 127.5) < 1.0 and abs(wide.std() - 25.5) < 1.0  # mean 0.5, std 0.1
    assert deprocess(np.full((4, 4, 3), 7.0)).tolist() == np.full((4, 4, 3), 127).tolist()


def test_a_batch_gives_the_pictures_single_runs_give(session) -> None:
    for settings in (preset("chapter", steps=40), preset("clean", steps=40, seed=3)):
        together = _run(session, Target.filters(LAYER, [1, 4, 9]), settings, batch=3)
        for column, index in enumerate([1, 4, 9]):
            alone = _run(session, Target.filters(LAYER, index), settings)
            np.testing.assert_allclose(together.history[:, column], alone.history[:, 0], rtol=1e-3,
                                       atol=1e-4)
            assert np.abs(together.images[column].astype(int) - alone.images[0]).max() <= 2


def test_clean_is_smoother_than_the_chapter_at_the_same_objective(session) -> None:
    for index in (0, 7):
        clean = _run(session, Target.filters(LAYER, index), preset("clean"))
        level = float(clean.objective_end[0])
        plain = _run(session, Target.filters(LAYER, index), preset("chapter"))
        step = int(np.argmax(plain.history[:, 0] >= level))  # first step the chapter gets there
        assert plain.history[step, 0] >= level > plain.history[0, 0]
        there = _run(session, Target.filters(LAYER, index), preset("chapter", steps=max(step, 1)))
        smooth = total_variation(deprocess(clean.raw[0]) / 255.0)
        noisy = total_variation(deprocess(there.raw[0]) / 255.0)
        assert smooth < 0.7 * noisy, (index, smooth, noisy)
        assert smooth < total_variation(deprocess(plain.raw[0]) / 255.0)


def test_partials_stop_and_seeds(session) -> None:
    report = RecordingReport()
    first = _run(session, Target.filters(LAYER, range(5)), preset("chapter", steps=20), batch=2,
                 every=5, report=report)
    frames = [p for p in report.partials if isinstance(p, AscentFrame)]
    tiles = [p for p in report.partials if isinstance(p, MosaicTiles)]
    assert [f.step for f in frames] == [5, 10, 15, 20] * 3
    assert [t.positions for t in tiles] == [[0, 1], [2, 3], [4]]
    assert frames[1].history.shape == (10, 2) and frames[1].images.shape == (2, 28, 28, 3)
    assert np.array_equal(tiles[1].images, first.images[2:4])
    assert np.array_equal(tiles[2].history, first.history[:, 4:5]) and tiles[2].history.shape == (21, 1)
    assert report.progress_calls[-1][0] == 1.0
    again = _run(session, Target.filters(LAYER, range(5)), preset("chapter", steps=20))
    assert np.array_equal(again.images, first.images)
    other = _run(session, Target.filters(LAYER, range(5)), preset("chapter", steps=20, seed=1))
    assert not np.array_equal(other.images, first.images)


class _StopAfter:
    """A cancel token that turns set after ``n`` polls (Stop pressed mid-run)."""

    def __init__(self, n: int) -> None:
        self.polls, self.n = 0, n

    def is_set(self) -> bool:
        self.polls += 1
        return self.polls > self.n


def test_stop_takes_effect_within_one_step(session) -> None:
    report = RecordingReport()
    cancel = _StopAfter(7)
    with pytest.raises(Cancelled):
        _run(session, Target.filters(LAYER, range(4)), preset("chapter"), every=1, report=report,
             cancel=cancel)
    frames = [p for p in report.partials if isinstance(p, AscentFrame)]
    assert frames[-1].step == 7 and cancel.polls == 8  # the 8th poll stopped it, before step 8


def test_bad_targets_are_refused_with_the_valid_choices(session) -> None:
    with pytest.raises(VisualizeError, match="no layer called 'block9_conv'.*block1_conv, block2_conv"):
        _run(session, Target.filters("block9_conv", 0), preset("chapter"))
    with pytest.raises(VisualizeError, match="'block1_relu' is an Activation layer, not a convolution"):
        _run(session, Target.filters("block1_relu", 0), preset("chapter"))
    with pytest.raises(VisualizeError, match=r"filter 12 is out of range: block2_conv has 12 filters "
                                             r"\(0 to 11\)"):
        _run(session, Target.filters(LAYER, [3, 12]), preset("chapter"))
    with pytest.raises(VisualizeError, match=r"class 10 is out of range: the model has 10 classes "
                                             r"\(0 to 9\)"):
        _run(session, Target.classes(10), preset("chapter"))
    with pytest.raises(VisualizeError, match="steps"):
        preset("chapter", steps=0)
    with pytest.raises(VisualizeError, match="no preset called 'fancy'"):
        preset("fancy")


def test_nan_gradients_stop_with_an_explanation() -> None:
    import keras

    model = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    kernel = model.get_layer("conv").kernel
    kernel.assign(np.where(np.arange(kernel.shape[-1]) == 1, np.nan, 0.1) * np.ones(kernel.shape))
    result = _run(VisualSession(loaded(model)), Target.filters("conv", [0, 1]), preset("chapter"))
    assert result.status == "diverged" and "conv filter 1" in result.diverged
    assert "NaN or infinite" in result.diverged and "stopped at step 1" in result.diverged
    assert result.images.dtype == np.uint8 and np.isfinite(result.raw).all()


def test_a_filter_that_never_fires_gets_a_note() -> None:
    import keras

    model = keras.Sequential([keras.Input((10, 10, 1)),
                              keras.layers.Conv2D(2, 3, activation="relu", name="conv",
                                                  kernel_initializer="zeros", bias_initializer="zeros"),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    result = _run(VisualSession(loaded(model)), Target.filters("conv", 0), preset("chapter", steps=5))
    assert result.status == "finished" and "did not move" in result.notes[0]


def test_ten_pictures_in_a_row_neither_retrace_nor_grow(session) -> None:
    import psutil

    process = psutil.Process()
    _run(session, Target.filters(LAYER, range(12)), preset("clean", steps=30))
    cached = session.cached()
    gc.collect()
    before = process.memory_info().rss
    for seed in range(10):
        _run(session, Target.filters(LAYER, range(12)), preset("clean", steps=30, seed=seed))
    gc.collect()
    after = process.memory_info().rss
    assert session.cached() == cached
    assert after < 1.10 * before, (before, after)


def test_release_drops_the_cached_cuts_and_steps(mnist_run: Path) -> None:
    own = VisualSession(load_source(mnist_run, report=NullReport(), cancel=threading.Event()))
    _run(own, Target.filters(LAYER, 0), preset("chapter", steps=2))
    _run(own, Target.classes(0), preset("chapter", steps=2))
    assert own.cached() == 4  # two cuts, two compiled steps
    own.release()
    assert own.cached() == 0
    result = _run(own, Target.filters(LAYER, 0), preset("chapter", steps=2))  # and works again
    assert result.status == "finished"
