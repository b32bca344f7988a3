"""Model sources: run folders, .keras files in safe mode, VGG16 without downloads, EfficientNet-Lite0
with its package's weights, the layer table, inputs that are not one image, ImageNet's class names
and the ImageNet models' preprocessing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport, never_cancel
from filterscope.core.data.source import BuiltinSource
from filterscope.core.transfer.imagenet import imagenet_classes, imagenet_models
from filterscope.core.transfer.weights import find_weights
from filterscope.core.visualize.layers import VisualizeError, layer_table
from filterscope.core.visualize.model_source import (
    RANDOM_WEIGHTS,
    WeightsUnavailable,
    imagenet_weights_missing,
    load_pretrained,
    load_source,
    vgg16_weights_file,
)
from filterscope.core.visualize.session import VisualSession

from tests.visualize_models import lambda_model_file

# Keras saving test models through np.array() on numpy 2 (see core/training/runs.py).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _load(source, **kwargs):
    return load_source(source, report=NullReport(), cancel=never_cancel(), **kwargs)


def test_a_run_folder_gives_its_model_classes_and_input(mnist_run: Path) -> None:
    loaded = _load(mnist_run)
    assert loaded.kind == "run" and loaded.weights == "best.keras" and loaded.path == mnist_run
    assert loaded.input_shape == (28, 28, 1) and loaded.preprocessing == "unit"
    assert loaded.classes == [str(d) for d in range(10)]
    assert loaded.data is not None and loaded.data.source == BuiltinSource("mnist")
    rows = layer_table(loaded.model)
    assert [r.name for r in rows if r.conv] == ["block1_conv", "block2_conv"]
    conv = next(r for r in rows if r.name == "block2_conv")
    assert conv.output_shape == (11, 11, 12) and conv.channels == 12 and conv.kind == "Conv2D"
    assert next(r for r in rows if r.name == "flatten").maps is False


def test_a_run_without_best_keras_falls_back_to_last(mnist_run: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(mnist_run, tmp_path / "run")
    (copy / "best.keras").unlink()
    assert _load(copy).weights == "last.keras"
    (copy / "last.keras").unlink()
    with pytest.raises(VisualizeError, match="the run has no best.keras: it ended before its first epoch"):
        _load(copy)


def test_a_keras_file_borrows_its_runs_classes_or_goes_without(mnist_run: Path, tmp_path: Path) -> None:
    inside = _load(mnist_run / "last.keras")
    assert inside.kind == "file" and inside.classes == [str(d) for d in range(10)]
    alone = shutil.copy(mnist_run / "best.keras", tmp_path / "digits.keras")
    loaded = _load(alone)
    assert loaded.classes == [str(d) for d in range(10)] and loaded.name == "digits.keras"  # 0..N-1
    assert VisualSession(loaded).class_names()[:2] == ["0", "1"]


def test_safe_mode_refuses_a_lambda_layer(tmp_path: Path) -> None:
    path = lambda_model_file(tmp_path / "lambda.keras")
    with pytest.raises(VisualizeError, match="lambda.keras: refused: the model contains a Lambda layer.*loading the model would run it"):
        _load(path)


def test_safe_mode_refuses_custom_code(tmp_path: Path) -> None:
    import keras

    class Twice(keras.layers.Layer):  # not registered: Keras cannot rebuild it from the file
        def call(self, x):
            return x * 2.0

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3), Twice(),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    model.save(tmp_path / "custom.keras")
    with pytest.raises(VisualizeError, match="custom.keras: refused: the model contains 'Twice' from outside Keras"):
        _load(tmp_path / "custom.keras")


def test_things_that_are_not_models(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    (tmp_path / "folder").mkdir()
    for path, message in ((tmp_path / "notes.txt", "notes.txt: not a readable Keras model"),
                          (tmp_path / "broken.keras", "broken.keras: not a readable Keras model"),
                          (tmp_path / "folder", "folder: not a run folder"),
                          (tmp_path / "missing", "no such run folder or .keras file")):
        with pytest.raises(VisualizeError, match=message):
            _load(path)


def test_models_that_do_not_take_one_image(tmp_path: Path) -> None:
    import keras

    a, b = keras.Input((8, 8, 1)), keras.Input((8, 8, 1))
    two = keras.Model([a, b], keras.layers.Dense(2)(keras.layers.Flatten()(a + b)))
    two.save(tmp_path / "two.keras")
    with pytest.raises(VisualizeError, match="two.keras: the model has 2 inputs"):
        _load(tmp_path / "two.keras")
    table = keras.Sequential([keras.Input((10,)), keras.layers.Dense(2)])
    table.save(tmp_path / "table.keras")
    with pytest.raises(VisualizeError, match=r"table.keras: the model takes \(None, 10\), not images"):
        _load(tmp_path / "table.keras")


def test_vgg16_never_downloads_its_imagenet_weights(data_dir: Path) -> None:
    with pytest.raises(WeightsUnavailable) as caught:
        _load("vgg16")
    message = str(caught.value)
    assert "never downloads" in message and "random weights" in message
    assert str(vgg16_weights_file(True).parent) in message
    assert "vgg16_weights_tf_dim_ordering_tf_kernels.h5" in message
    with pytest.raises(VisualizeError, match="no such weights file"):
        load_pretrained("vgg16", str(data_dir / "nothing.h5"), size=64)


def test_vgg16_with_random_weights_and_a_small_input() -> None:
    loaded = _load("VGG16", weights="random", size=64)
    assert loaded.weights == RANDOM_WEIGHTS and loaded.kind == "vgg16" and loaded.classes is None
    assert loaded.input_shape == (64, 64, 3) and loaded.preprocessing == "caffe"
    rows = layer_table(loaded.model)
    assert rows[0].name == "block1_conv1" and rows[-1].name == "block5_pool"
    assert sum(r.conv for r in rows) == 13


def test_vgg16_imagenet_weights_found_in_the_keras_cache(data_dir: Path) -> None:
    """A weights file in Keras's cache, in the legacy HDF5 layout Keras's own files have, is used
    as ImageNet's (the values are random here: the test must not download 58 MB)."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    source = keras.applications.VGG16(weights=None, include_top=False, input_shape=(64, 64, 3))
    file = vgg16_weights_file(top=False)
    file.parent.mkdir(parents=True)
    with h5py.File(file, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, source)
    loaded = _load("vgg16", size=64)
    assert loaded.weights == "ImageNet" and loaded.path == file
    for name in ("block1_conv1", "block5_conv3"):
        np.testing.assert_array_equal(np.asarray(loaded.model.get_layer(name).kernel),
                                      np.asarray(source.get_layer(name).kernel))


def test_imagenet_class_names_ship_with_the_app() -> None:
    from importlib.resources import files

    names = imagenet_classes()
    assert len(names) == 1000 and names[0] == "tench" and names[184] == "Irish Terrier"
    assert names[999] == "toilet paper"
    wnids = json.loads((files("filterscope.resources") / "imagenet" / "classes.json")
                       .read_text(encoding="utf-8"))["wnids"]
    assert wnids == sorted(set(wnids)) and len(wnids) == 1000  # Keras's order: sorted WordNet ids
    assert wnids[184] == "n02093991"


def test_caffe_preprocessing_is_keras_vgg16s() -> None:
    import keras

    loaded = _load("vgg16", weights="random", size=32)
    rgb = np.random.default_rng(0).random((2, 5, 5, 3)).astype(np.float32)
    expected = keras.applications.vgg16.preprocess_input(rgb * 255.0)
    np.testing.assert_allclose(loaded.to_model(rgb), expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(loaded.to_rgb01(loaded.to_model(rgb)), rgb, atol=1e-5)
    assert loaded.pixel_range == 255.0


def test_efficientnet_lite0_is_an_imagenet_model_with_its_packages_weights(data_dir: Path) -> None:
    """Offered first (it works offline), its weights from its package (never "not on this
    computer"), its own preprocessing, its 1,000 classes at 224 px, whatever size is asked."""
    assert imagenet_models()[0] == "efficientnet-lite0" and imagenet_models()[-1] == "vgg16"
    assert imagenet_weights_missing(True, "efficientnet-lite0") is None
    loaded = _load("EfficientNet-Lite0", size=64)
    assert loaded.kind == "efficientnet-lite0" and loaded.imagenet and loaded.name == "EfficientNet-Lite0"
    assert loaded.input_shape == (224, 224, 3) and loaded.preprocessing == "lite"
    assert loaded.weights == "ImageNet" and loaded.classes == imagenet_classes()
    source = find_weights("efficientnet-lite0", "imagenet", top=True)
    assert source.origin == "package" and loaded.path == source.file
    session = VisualSession(loaded)
    assert session.class_names()[1] == "goldfish" and session.head().count == 1000
    rgb = np.full((1, 2, 2, 3), 0.5, np.float32)
    np.testing.assert_allclose(loaded.to_model(rgb), (127.5 - 127.0) / 128.0)
    assert loaded.describe()["classes"] == 1000
