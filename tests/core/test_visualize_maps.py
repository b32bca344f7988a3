"""Activation maps, the weights of a convolution as pictures, Grad-CAM, and images fed as in
training (gray, resized, masked)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport, never_cancel
from filterscope.core.training.data_plan import DataSpec
from filterscope.core.visualize.activations import activation_maps, filter_weights, maps_layers
from filterscope.core.visualize.gradcam import grad_cam
from filterscope.core.visualize.inputs import prepare
from filterscope.core.visualize.layers import VisualizeError
from filterscope.core.visualize.model_source import load_source
from filterscope.core.visualize.render import DIVERGING, colormap, mosaic, overlay, signed_colours
from filterscope.core.visualize.session import VisualSession

from tests.visualize_models import loaded, mnist_digit, rgb_model


@pytest.fixture(scope="module")
def session(mnist_run: Path) -> VisualSession:
    return VisualSession(load_source(mnist_run, report=NullReport(), cancel=never_cancel()))


def _reference_grad_cam(model, layer: str, batch: np.ndarray, index: int) -> np.ndarray:
    """Grad-CAM as Keras's own example writes it (eager, on the softmax-free score)."""
    import keras
    import tensorflow as tf

    inputs = keras.Input(batch.shape[1:])
    x, maps = inputs, None
    for each in model.layers[:-1]:  # up to the logits: the Sequential's softmax is its last layer
        x = each(x)
        if each.name == layer:
            maps = x
    probe = keras.Model(inputs, [maps, x])
    with tf.GradientTape() as tape:
        conv, logits = probe(batch)
        score = logits[:, index]
    grads = tape.gradient(score, conv)
    pooled = tf.reduce_mean(grads, axis=(0, 1, 2))
    heat = tf.nn.relu(conv[0] @ pooled[..., None])[..., 0]
    return (heat / tf.reduce_max(heat)).numpy()


def test_a_gray_digit_is_fed_as_in_training(session) -> None:
    digit = mnist_digit(7)
    prepared = prepare(session.loaded, digit)
    assert prepared.batch.shape == (1, 28, 28, 1) and prepared.batch.dtype == np.float32
    np.testing.assert_allclose(prepared.batch[0, ..., 0], digit / 255.0, atol=1e-6)
    assert prepared.fed.shape == (28, 28, 3) and prepared.seen.shape == (28, 28, 3)
    photo = np.random.default_rng(0).integers(0, 256, (60, 90, 3), dtype=np.uint8)
    big = prepare(session.loaded, photo)  # an RGB photo: gray, resized with INTER_AREA
    assert big.batch.shape == (1, 28, 28, 1) and big.seen.shape == (60, 90, 3)


def test_the_runs_mask_is_applied_before_resizing(session) -> None:
    from filterscope.core.masking.colordist import builtin_preset

    mask = builtin_preset("chapter").to_json()
    masked = replace(session.loaded, data=DataSpec("builtin:mnist", mask=mask), input_shape=(28, 28, 3))
    soil = np.full((40, 40, 3), (120, 90, 60), np.uint8)  # brown: far from every leaf green
    soil[10:30, 10:30] = (71, 86, 38)  # one of the chapter's greens
    prepared = prepare(masked, soil)
    assert prepared.seen[0, 0].tolist() == [0, 0, 0] and prepared.seen[20, 20].tolist() == [71, 86, 38]
    assert prepared.batch.shape == (1, 28, 28, 3) and prepared.batch[0, 0, 0].tolist() == [0, 0, 0]


def test_activation_maps_of_a_layer(session) -> None:
    assert maps_layers(session) == ["block1_conv", "block1_relu", "block1_maxpool", "block2_conv",
                                    "block2_relu", "block2_maxpool"]
    digit = mnist_digit(3)
    conv = activation_maps(session, digit, "block1_conv")
    assert conv.maps.shape == (26, 26, 6) and conv.signed  # no ReLU inside: both signs
    relu = activation_maps(session, digit, "block1_relu")
    assert not relu.signed
    np.testing.assert_allclose(relu.maps, np.maximum(conv.maps, 0), atol=1e-5)
    tiles = conv.tiles()
    assert tiles.shape == (6, 52, 52, 3) and tiles.dtype == np.uint8  # 26 px enlarged twice
    assert conv.picture(limit=4, columns=2).shape == (52 * 2 + 2, 52 * 2 + 2, 3)
    with pytest.raises(VisualizeError, match="'flatten' is a Flatten layer without feature maps; "
                                             "layers with feature maps are block1_conv"):
        activation_maps(session, digit, "flatten")


def test_the_signed_maps_use_a_diverging_map_with_zero_white() -> None:
    values = np.array([[-2.0, 0.0, 2.0]])
    colours = signed_colours(values)
    assert colours[0, 1].tolist() == colormap(np.array([0.5]), DIVERGING, 0, 1)[0].tolist()
    assert colours[0, 0, 2] > colours[0, 0, 0] and colours[0, 2, 0] > colours[0, 2, 2]  # blue, red
    assert min(colours[0, 1]) > 240  # near white


def test_first_layer_weights_of_a_gray_and_an_rgb_model(session) -> None:
    gray = filter_weights(session)
    assert gray.layer == "block1_conv" and gray.kernels.shape == (3, 3, 1, 6) and not gray.colour
    assert gray.tiles().shape == (6, 48, 48, 3)
    assert filter_weights(session, "block2_conv").tiles(limit=4, channels=6).shape == (24, 48, 48, 3)
    model = rgb_model()
    rgb = filter_weights(VisualSession(loaded(model)))
    assert rgb.colour and rgb.tiles().shape == (8, 48, 48, 3)
    kernel = np.asarray(model.get_layer("conv1").kernel)
    expected = np.clip(0.5 + kernel[..., 0] / (2 * np.abs(kernel).max()), 0, 1) * 255
    assert np.abs(rgb.tiles()[0, ::16, ::16].astype(float) - expected).max() <= 1
    with pytest.raises(VisualizeError, match="'pool1' is a MaxPooling2D layer, not a convolution"):
        filter_weights(VisualSession(loaded(model)), "pool1")


def test_vgg16_first_layer_weights_are_turned_to_rgb() -> None:
    vgg = VisualSession(load_source("vgg16", weights="random", size=32, report=NullReport(),
                                    cancel=never_cancel()))
    weights = filter_weights(vgg)
    bgr = np.asarray(vgg.model.get_layer("block1_conv1").kernel)
    assert weights.colour and np.array_equal(weights.kernels, bgr[:, :, ::-1, :])


def test_grad_cam_of_the_predicted_class(session) -> None:
    digit = mnist_digit(0)
    cam = grad_cam(session, digit)
    assert cam.layer == "block2_relu"  # the last convolution's maps, after its ReLU
    assert cam.heatmap.shape == (11, 11) and cam.heatmap.dtype == np.float32
    assert cam.heatmap.min() >= 0 and cam.heatmap.max() == pytest.approx(1.0)
    probabilities = [t["probability"] for t in cam.top]
    assert len(cam.top) == 5 and probabilities == sorted(probabilities, reverse=True)
    assert cam.class_index == cam.predicted["index"] and cam.probability == probabilities[0]
    assert cam.overlay().shape == (28, 28, 3) and cam.overlay().dtype == np.uint8
    np.testing.assert_allclose(cam.heatmap, _reference_grad_cam(session.model, "block2_relu",
                                                                cam.image.batch, cam.class_index),
                               atol=1e-4)


def test_grad_cam_of_a_chosen_class_and_layer(session) -> None:
    digit = mnist_digit(4)
    cam = grad_cam(session, digit, class_index=9, layer="block1_relu")
    assert cam.class_index == 9 and cam.class_name == "9" and cam.heatmap.shape == (26, 26)
    summary = cam.to_json()
    assert summary["class"] == 9 and summary["predicted"] == cam.top[0]
    with pytest.raises(VisualizeError, match="class 10 is out of range"):
        grad_cam(session, digit, class_index=10)


def test_grad_cam_on_a_dense_softmax_head_and_a_big_photo() -> None:
    model = rgb_model(classes=3)
    cam = grad_cam(VisualSession(loaded(model, classes=["a", "b", "c"])),
                   np.random.default_rng(2).integers(0, 256, (90, 120, 3), dtype=np.uint8))
    assert cam.layer == "conv2" and cam.heatmap.shape == (9, 9)
    assert {t["name"] for t in cam.top} == {"a", "b", "c"}
    assert sum(t["probability"] for t in cam.top) == pytest.approx(1.0, abs=1e-5)
    assert cam.overlay().shape == (90, 120, 3)  # drawn over the image at its own size


def test_a_model_without_convolutions_has_no_grad_cam() -> None:
    import keras

    flat = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(3, activation="softmax")])
    with pytest.raises(VisualizeError, match="no convolution layer"):
        grad_cam(VisualSession(loaded(flat)), np.zeros((8, 8), np.uint8))


def test_mosaic_and_overlay_shapes() -> None:
    tiles = np.zeros((5, 4, 6, 3), np.uint8)
    assert mosaic(tiles).shape == (2 * 4 + 2, 3 * 6 + 2 * 2, 3)
    assert mosaic(tiles, columns=5, gap=0).shape == (4, 30, 3)
    heat = np.zeros((3, 3), np.float32)
    heat[1, 1] = 1.0
    image = np.full((30, 30, 3), 128, np.uint8)
    mixed = overlay(image, heat)
    assert mixed.shape == (30, 30, 3) and mixed[15, 15, 0] > mixed[0, 0, 0]  # hot centre is red
