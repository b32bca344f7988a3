"""The Visualise tab's jobs (open a model, look at an image, draw weights) and writing pictures,
run as the CLI and the tests run them: without Qt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport, never_cancel
from filterscope.core.data.images import read_image
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.visualize.export import LEAST_SIDE, save_picture
from filterscope.core.visualize.jobs import MAPS_SHOWN, draw_weights, open_model, probe_image
from filterscope.core.visualize.model_source import imagenet_weights_missing, vgg16_weights_file

from tests.visualize_models import loaded, mnist_digit, rgb_model


@pytest.fixture(scope="module")
def opened(mnist_run: Path):
    return open_model(mnist_run, report=NullReport(), cancel=never_cancel())


def test_open_model_gives_the_layer_table_and_class_names(opened) -> None:
    assert opened.session.loaded.name == "mnist-1-epoch"
    assert [row.name for row in opened.layers if row.conv] == ["block1_conv", "block2_conv"]
    assert opened.classes == [str(d) for d in range(10)] and opened.classes_note is None


def test_open_model_says_why_a_model_has_no_classes() -> None:
    base = open_model("vgg16", weights="random", size=32, report=NullReport(), cancel=never_cancel())
    assert base.classes is None and "only at 224 px" in base.classes_note
    assert base.layers[0].name == "block1_conv1"


def test_a_cancelled_open_loads_nothing(mnist_run: Path) -> None:
    cancel = never_cancel()
    cancel.set()
    with pytest.raises(Cancelled):
        open_model(mnist_run, report=NullReport(), cancel=cancel)


def test_probe_image_gives_maps_and_grad_cams_of_the_best_classes(opened) -> None:
    report = RecordingReport()
    probe = probe_image(opened.session, mnist_digit(3), "block1_conv", report=report, cancel=never_cancel())
    assert probe.maps.maps.shape == (26, 26, 6) and probe.shown == 6
    assert probe.maps_picture.dtype == np.uint8 and probe.maps_picture.ndim == 3
    probabilities = [cam.probability for cam in probe.cams]
    assert len(probe.cams) == 3 and probabilities == sorted(probabilities, reverse=True)
    assert probe.cams[0].class_index == probe.cams[0].predicted["index"]
    assert [cam.class_index for cam in probe.cams] == [t["index"] for t in probe.cams[0].top[:3]]
    assert all(overlay.shape == (28, 28, 3) for overlay in probe.overlays)
    assert report.progress_calls[-1][0] == 1.0 and probe.note is None


def test_probe_image_without_classes_shows_maps_and_says_why() -> None:
    base = open_model("vgg16", weights="random", size=32, report=NullReport(), cancel=never_cancel())
    photo = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    probe = probe_image(base.session, photo, "block1_conv1", report=NullReport(), cancel=never_cancel())
    assert probe.shown == MAPS_SHOWN and probe.maps.maps.shape == (32, 32, 64)
    assert probe.cams == [] and "has no classes" in probe.note


def test_draw_weights_of_the_first_convolution_and_a_limit() -> None:
    session = open_model("vgg16", weights="random", size=32, report=NullReport(),
                         cancel=never_cancel()).session
    drawn = draw_weights(session, report=NullReport(), cancel=never_cancel())
    assert drawn.weights.layer == "block1_conv1" and drawn.weights.colour and drawn.shown == MAPS_SHOWN
    few = draw_weights(session, "block2_conv1", limit=8, report=NullReport(), cancel=never_cancel())
    assert few.shown == 8 and not few.weights.colour


def test_save_picture_enlarges_small_pictures_and_refuses_the_dataset(tmp_path: Path) -> None:
    picture = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    model = loaded(rgb_model())
    written = save_picture(tmp_path / "p.png", picture, model)
    factor = -(-LEAST_SIDE // 20)
    assert written == {"out": str(tmp_path / "p.png"), "scale": factor, "size": [20 * factor, 30 * factor]}
    np.testing.assert_array_equal(read_image(tmp_path / "p.png")[::factor, ::factor], picture)
    dataset = tmp_path / "photos"
    (dataset / "a").mkdir(parents=True)
    model.data = DataSpec(f"folder:{dataset}")
    with pytest.raises(ValueError, match="refusing to write inside the dataset folder"):
        save_picture(dataset / "a" / "p.png", picture, model)
    with pytest.raises(ValueError, match="is the image itself"):
        save_picture(tmp_path / "p.png", picture, model, refuse=tmp_path / "p.png")
    assert list(dataset.rglob("*.png")) == []


def test_imagenet_weights_missing_names_the_file_until_it_is_there(data_dir: Path) -> None:
    message = imagenet_weights_missing(True)
    assert "never downloads" in message and vgg16_weights_file(True).name in message
    vgg16_weights_file(True).parent.mkdir(parents=True)
    vgg16_weights_file(True).write_bytes(b"weights")
    assert imagenet_weights_missing(True) is None and imagenet_weights_missing(False) is not None
