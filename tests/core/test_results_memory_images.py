"""Evaluated images of a built-in dataset held in memory (MNIST: keys, not files): the gallery's
thumbnails are the digits themselves, Why? explains them fed as evaluation fed them, the opened
dataset is kept for the next request, and an image that is really gone still says so."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport, RecordingReport
from filterscope.core.data import item_images
from filterscope.core.data.images import to_rgb
from filterscope.core.data.source import BuiltinSource
from filterscope.core.data.sources import open_source
from filterscope.core.data.thumbnails import downscale
from filterscope.core.results import evaluate as evaluate_module
from filterscope.core.results.evaluate import evaluate
from filterscope.core.results.jobs import row_thumbnails
from filterscope.core.visualize.explain import explain_run_image
from filterscope.core.visualize.layers import VisualizeError
from PIL import Image

from tests.core.test_results_feed import Recorder

JOB = {"report": NullReport(), "cancel": threading.Event()}


@pytest.fixture(scope="module")
def digits():
    return open_source(BuiltinSource("mnist"), **JOB)


@pytest.fixture(scope="module")
def evaluated(mnist_run: Path):
    """The MNIST run evaluated on its validation digits, with every batch its model was fed."""
    fed: list[Recorder] = []
    opener = evaluate_module.open_model

    def recording(*args, **kwargs):
        opened = opener(*args, **kwargs)
        opened.model = Recorder(opened.model)
        fed.append(opened.model)
        return opened

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(evaluate_module, "open_model", recording)
        ev = evaluate(mnist_run, **JOB)
    return ev, np.concatenate(fed[0].fed)


def _thumbnails(paths, rows, size, source) -> dict:
    report = RecordingReport()
    assert row_thumbnails(paths, rows, size, source=source, report=report, cancel=threading.Event()) == len(rows)
    return {t.item: t for batch in report.partials for t in batch}


def test_row_thumbnails_of_a_builtin_mnist_evaluation_are_its_digits(evaluated, digits) -> None:
    ev, _ = evaluated
    assert ev.eval_set["source"] == "builtin:mnist" and len(ev.rows) >= 100
    assert not Path(ev.rows.paths[0]).exists()  # keys of digits held in memory, not files
    rows = [int(r) for r in ev.rows.wrong()[:6]] + [0, len(ev.rows) - 1]
    index = {key: i for i, key in enumerate(digits.keys)}
    for size in (16, 96):  # downscaled as the gallery does; never upscaled
        made = _thumbnails(ev.rows.paths, rows, size, ev.eval_set["source"])
        assert sorted(made) == sorted(set(rows))
        for row in rows:
            digit = digits.pixels[index[ev.rows.paths[row]]]
            assert made[row].error is None, made[row].error
            assert np.array_equal(made[row].rgb, downscale(to_rgb(digit), size))
            assert made[row].rgb.shape == ((16, 16, 3) if size == 16 else (28, 28, 3))
        assert len({made[r].rgb.tobytes() for r in rows}) == len(set(rows))  # not one picture
    without = _thumbnails(ev.rows.paths, rows[:2], 16, None)  # no source: nothing to read them from
    assert all(t.rgb is None and t.error == item_images.GONE for t in without.values())


def test_the_opened_dataset_is_kept_for_the_next_request(monkeypatch) -> None:
    opened = []

    def counting(source, **job):
        opened.append(source)
        return open_source(source, **job)

    monkeypatch.setattr(item_images, "open_source", counting)
    item_images.forget_opened()
    keys = [f"mnist5k/{i:05d}" for i in range(40)]
    first = _thumbnails(keys, range(0, 20), 16, "builtin:mnist")
    second = _thumbnails(keys, range(20, 40), 16, "builtin:mnist")
    assert opened == [BuiltinSource("mnist")]
    assert all(t.rgb is not None for t in [*first.values(), *second.values()])


def test_an_image_that_is_gone_says_so_and_a_file_is_still_read(tmp_path: Path) -> None:
    photo = tmp_path / "here.png"
    Image.fromarray(np.full((40, 20, 3), 200, np.uint8)).save(photo)
    paths = [str(tmp_path / "moved" / "cat" / "a.png"), str(photo), "mnist5k/99999"]
    made = _thumbnails(paths, [0, 1], 16, f"folder:{tmp_path / 'moved'}")
    assert made[0].rgb is None and made[0].error == "not a file (moved or deleted)"
    assert made[1].error is None and made[1].rgb.shape == (16, 8, 3)
    stray = _thumbnails(paths, [2], 16, "builtin:mnist")  # a key the built-in does not have
    assert stray[2].rgb is None and "nor an image of builtin:mnist" in stray[2].error


def test_why_explains_a_digit_fed_as_evaluation_fed_it(mnist_run, evaluated) -> None:
    ev, fed = evaluated
    row = int(ev.rows.wrong()[0]) if len(ev.rows.wrong()) else 0
    key, predicted, true = ev.rows.paths[row], int(ev.rows.predicted[row]), int(ev.rows.true[row])
    explained = explain_run_image(mnist_run, key, [predicted, true], data=ev.eval_set["source"], **JOB)
    assert [c.class_index for c in explained.cams] == [predicted, true]
    for cam in explained.cams:
        assert np.array_equal(cam.image.batch, fed[row:row + 1])  # bit for bit
        assert cam.heatmap.ndim == 2 and np.isfinite(cam.heatmap).all()
    np.testing.assert_allclose(explained.cams[0].probability, ev.rows.probabilities[row, predicted], atol=1e-5)
    with pytest.raises(VisualizeError, match="not a file .moved or deleted.: there is no photo"):
        explain_run_image(mnist_run, key, [predicted], data=None, session=explained.session, **JOB)
