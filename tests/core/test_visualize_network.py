"""The network view: one image through every layer of a trained model, and each clicked
convolution, ReLU or pooling tile worked out by the Filters tab's arithmetic to the tile's value
(random tiles of the chapter's MNIST ConvNet and of a colour model with stride, 'same' padding,
batch normalisation and inputs larger than the tab's crop)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport, never_cancel
from filterscope.core.filters.source import MAX_CROP
from filterscope.core.visualize.inputs import prepare
from filterscope.core.visualize.layers import VisualizeError
from filterscope.core.visualize.model_source import load_source
from filterscope.core.visualize.network import IMAGE, network_view
from filterscope.core.visualize.network_step import tile_step
from filterscope.core.visualize.session import VisualSession

from tests.visualize_models import colour_model, loaded, mnist_digit

TILES = 12  # random tiles per layer


@pytest.fixture(scope="module")
def mnist(mnist_run: Path):
    session = VisualSession(load_source(mnist_run, report=NullReport(), cancel=never_cancel()))
    return network_view(session, mnist_digit(3), report=NullReport(), cancel=never_cancel())


@pytest.fixture(scope="module")
def colour():
    session = VisualSession(loaded(colour_model(), "colour", ["a", "b", "c", "d"]))
    photo = np.random.default_rng(1).integers(0, 256, (200, 180, 3), dtype=np.uint8)
    return network_view(session, photo, report=NullReport(), cancel=never_cancel())


def check_random_tiles(view, seed: int) -> int:
    """Every stepped layer: random tiles' Filters-tab value equals the model's; returns how many."""
    rng, checked = np.random.default_rng(seed), 0
    for layer in view.layers:
        if layer.kind not in ("conv", "relu", "pool"):
            continue
        height, width, channels = layer.values.shape
        scale = max(1.0, float(np.abs(layer.values).max()))
        for _ in range(TILES):
            row, col, channel = (int(rng.integers(n)) for n in (height, width, channels))
            step = tile_step(view, layer.index, row, col, channel)
            assert max(step.image.shape[:2]) <= MAX_CROP
            assert step.tile == pytest.approx(float(layer.values[row, col, channel]))
            assert abs(step.computed() - step.tile) <= 1e-4 * scale, (layer.name, row, col, channel)
            checked += 1
    return checked


def test_every_layer_of_the_mnist_convnet_comes_out_of_one_run(mnist) -> None:
    kinds = [(layer.name, layer.kind) for layer in mnist.layers]
    assert kinds[:3] == [("block1_conv", "conv"), ("block1_relu", "relu"), ("block1_maxpool", "pool")]
    assert kinds[-1][1] == "softmax" and any(kind == "dense" for _, kind in kinds)
    assert mnist.layers[0].source == IMAGE and mnist.layers[1].source == 0
    assert mnist.image.batch.shape == (1, 28, 28, 1)
    first = mnist.layers[0]
    manual = mnist.input_of(first)
    np.testing.assert_array_equal(manual, mnist.image.batch[0])
    # Each layer's output is what the next one took: the softmax's is the model's prediction.
    probabilities = mnist.layers[-1].values
    np.testing.assert_allclose(mnist.probabilities, probabilities, atol=1e-5)
    assert mnist.probabilities.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(np.exp(mnist.logits) / np.exp(mnist.logits).sum(), probabilities, atol=1e-5)
    sentences = mnist.softmax_sentences()
    best = mnist.class_names[int(np.argmax(probabilities))]
    assert "exp" in sentences[0] and sentences[1].startswith(f"{best}: logit")


def test_random_mnist_tiles_equal_the_filters_tab_sum(mnist) -> None:
    assert check_random_tiles(mnist, seed=0) >= 5 * TILES


def test_random_colour_model_tiles_equal_the_filters_tab_sum(colour) -> None:
    first = colour.layers[0]
    assert colour.input_of(first).shape == (150, 150, 3)  # larger than the tab's crop
    assert first.conv.stride == 2 and first.conv.padding == "same"
    assert check_random_tiles(colour, seed=1) >= 6 * TILES


def test_a_conv_step_uses_the_real_kernel_window_and_crop(colour) -> None:
    conv = colour.layers[0]
    step = tile_step(colour, 0, 40, 70, 5)  # far from the corner: a crop of the padded input
    assert step.stage == "convolution" and step.padding == "valid" and step.image.shape[2] == 3
    np.testing.assert_array_equal(step.kernels[..., 0], conv.conv.kernel[..., 5])
    window = step.layer.conv_step(step.position).window
    padded = np.pad(colour.input_of(conv).astype(np.float64), ((0, 1), (0, 1), (0, 0)))  # TF's 'same'
    np.testing.assert_array_equal(window, padded[80:83, 140:143])
    assert (step.layer.conv_step(step.position).row, step.layer.conv_step(step.position).col) == (15, 26)
    assert any("model's row 26, column 45, and the clicked value is its row 16, column 27" in note
               for note in step.notes)
    assert "conv_a" in step.origin and "row 41, column 71" in step.origin


def test_relu_and_pooling_steps_follow_their_convolution(mnist, colour) -> None:
    relu = tile_step(mnist, 1, 5, 6, 2)
    assert relu.stage == "relu" and relu.kernels.shape == (3, 3, 1, 1)  # block1_conv's kernel
    pool = tile_step(mnist, 2, 4, 4, 1)
    assert pool.stage == "pooling" and pool.kernels.shape[0] == 3
    after_bn = next(layer for layer in colour.layers if layer.name == "relu_b")
    identity = tile_step(colour, after_bn.index, 3, 4, 2)  # BatchNorm between: its map through 1 × 1
    assert identity.kernels.shape == (1, 1, 1, 1) and identity.stage == "relu"
    assert any("1 × 1 kernel of weight 1" in note for note in identity.notes)
    assert identity.notes[0] == "Input: the output of batchnorm (19 × 19 × 8)."


def test_fused_relu_is_said_and_other_layers_refuse_with_a_reason(colour) -> None:
    conv = colour.layers[0]
    row, col, channel = np.argwhere(conv.values == 0)[0]  # a tile ReLU set to 0
    step = tile_step(colour, 0, int(row), int(col), int(channel))
    assert step.activation == "relu" and step.layer.conv_step(step.position).value <= 0
    assert "applies relu inside itself" in step.activation_note()
    batchnorm = next(layer for layer in colour.layers if layer.kind == "other" and layer.maps)
    with pytest.raises(VisualizeError, match="BatchNormalization"):
        tile_step(colour, batchnorm.index, 0, 0, 0)
    with pytest.raises(VisualizeError, match="no row"):
        tile_step(colour, 0, 10_000, 0, 0)


def test_the_image_is_prepared_by_the_shared_rule(colour) -> None:
    session_input = colour.image.batch
    assert session_input.shape == (1, 150, 150, 3) and session_input.max() <= 1.0
    again = prepare(loaded(colour_model(), "colour"), colour.image.seen)
    np.testing.assert_array_equal(again.batch, session_input)


def test_a_projects_copy_of_the_lesson_leaves_the_models_step_out(mnist) -> None:
    from filterscope.core.filters.settings import FiltersSettings

    lesson = FiltersSettings()
    lesson.update({"stage": "relu", "position": 12})
    lesson.open_step(tile_step(mnist, 3, 2, 2, 0))  # block2_conv, over block1_maxpool's 6 maps
    assert (lesson.stage, lesson.position) == ("convolution", lesson.model_step.position)
    kept = lesson.copy()
    assert kept.model_step is None and (kept.stage, kept.position) == ("relu", 12)
    assert FiltersSettings.from_json(kept.to_json()).values() == kept.values()
    lesson.close_step()
    assert lesson.model_step is None and (lesson.stage, lesson.position) == ("relu", 12)


def test_the_channel_drawn_is_the_lessons_setting_within_the_steps_channels(mnist) -> None:
    """A step over 6 channels opens on the strongest; another can be chosen, one past the
    step's channels is refused naming the range, and the way back forgets the choice."""
    from filterscope.core.base.settings import SettingError
    from filterscope.core.filters.settings import FiltersSettings

    lesson, step = FiltersSettings(), tile_step(mnist, 3, 2, 2, 0)
    lesson.open_step(step)
    assert step.picks_channel and lesson.channel == step.strongest_channel() + 1
    lesson.channel = 6
    assert step.drawn_channel(lesson.channel) == 5
    with pytest.raises(SettingError, match="must be 1 to 6"):
        lesson.channel = 7
    lesson.close_step()
    assert lesson.channel == 1


def test_many_channels_are_summed_in_a_readable_sentence(colour) -> None:
    from filterscope.core.filters.explain import MAX_CHANNELS, conv_equation

    conv = next(layer for layer in colour.layers if layer.name == "conv_c")  # over 8 channels
    step = tile_step(colour, conv.index, 3, 3, 1)
    assert step.channels == 8 > MAX_CHANNELS
    equation = conv_equation(step.layer.conv_step(step.position), step.kernels[..., 0])
    assert "1: " in equation and "channels 6 to 8: " in equation and "7: " not in equation
