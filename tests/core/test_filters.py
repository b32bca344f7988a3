"""The Filters tab's numbers: the convolution, its steps, ReLU and max pooling against Keras, the
output-size rule, the presets, and what a kernel cell or a kernel can get wrong."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from filterscope.core.filters.conv import (
    conv_step,
    convolve,
    explain_output_size,
    output_size,
    pad_amounts,
    step_count,
)
from filterscope.core.filters.kernels import (
    KernelCellError,
    format_number,
    stride_note,
    zero_notes,
    parse_cell,
    preset,
    preset_names,
    resize_kernel,
)
from filterscope.core.filters.pooling import max_pool, pool_step, pool_step_count, relu
from filterscope.core.filters.source import crop_box, display_copy, first_of_class, to_input

CASES = list(itertools.product((1, 3), (1, 2), (1, 2, 3), (3, 5), ("valid", "same")))


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras")
    return keras


def keras_conv(keras, image, kernels, bias, stride, padding):
    layer = keras.layers.Conv2D(kernels.shape[3], kernels.shape[0], strides=stride, padding=padding)
    layer.build((None, *image.shape))
    layer.set_weights([kernels.astype(np.float32), bias.astype(np.float32)])
    return np.asarray(layer(image[None].astype(np.float32)))[0]


def random_case(rng, channels, filters, k, height=11, width=12):
    image = rng.integers(0, 256, (height, width, channels)).astype(np.float64)
    kernels = rng.normal(size=(k, k, channels, filters))
    bias = rng.normal(size=filters)
    return image, kernels, bias


def test_convolve_equals_keras_conv2d(keras) -> None:
    rng = np.random.default_rng(0)
    for channels, filters, stride, k, padding in CASES:
        # 11 x 12: odd and even sides, so 'same' padding is odd on one side, even on the other.
        image, kernels, bias = random_case(rng, channels, filters, k)
        ours = convolve(image, kernels, bias, stride, padding)
        theirs = keras_conv(keras, image, kernels, bias, stride, padding)
        assert ours.shape == theirs.shape, (channels, filters, stride, k, padding)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=2e-3,
                                   err_msg=str((channels, filters, stride, k, padding)))


def test_convolve_is_not_flipped_and_same_pads_bottom_right(keras) -> None:
    # A kernel with one weight in its top-left corner reads the pixel up-left of the centre: a
    # cross-correlation. On an even side 'same' with k=4... k is odd here, so use stride 2 on an
    # even side, where TensorFlow pads 0 above and 1 below.
    image = np.arange(16, dtype=np.float64).reshape(4, 4, 1)
    kernel = np.zeros((3, 3, 1, 1))
    kernel[0, 0] = 1.0
    ours = convolve(image, kernel, np.zeros(1), 2, "same")
    assert pad_amounts(4, 3, 2, "same") == (0, 1)
    np.testing.assert_array_equal(ours[..., 0], [[0, 2], [8, 10]])
    np.testing.assert_allclose(ours, keras_conv(keras, image, kernel, np.zeros(1), 2, "same"))


def test_output_sizes_equal_keras(keras) -> None:
    for n, k, stride, padding in itertools.product(range(1, 14), (3, 5), range(1, 7), ("valid", "same")):
        if padding == "valid" and n < k:
            assert output_size(n, k, stride, padding) == 0
            continue
        layer = keras.layers.Conv2D(1, k, strides=stride, padding=padding)
        expected = layer.compute_output_shape((None, n, n + 1, 1))
        assert (output_size(n, k, stride, padding), output_size(n + 1, k, stride, padding)) == \
            tuple(expected[1:3]), (n, k, stride, padding)


def test_every_step_sum_plus_bias_is_the_output_cell() -> None:
    rng = np.random.default_rng(1)
    for channels, filters, stride, k, padding in CASES:
        image, kernels, bias = random_case(rng, channels, filters, k, 7, 8)
        output = convolve(image, kernels, bias, stride, padding)
        count = step_count(image.shape, k, stride, padding)
        assert count == output.shape[0] * output.shape[1]
        for f in range(filters):
            for index in range(count):
                step = conv_step(image, kernels, bias, index, stride=stride, padding=padding,
                                 filter_index=f)
                assert step.products.shape == (k, k, channels)
                np.testing.assert_allclose(step.products, step.window * kernels[..., f])
                assert step.value == pytest.approx(output[step.row, step.col, f])
                assert step.value == pytest.approx(step.total + bias[f])


def test_step_positions_move_row_major_by_the_stride() -> None:
    image = np.arange(49, dtype=np.float64).reshape(7, 7, 1)
    kernels, bias = np.ones((3, 3, 1, 1)), np.zeros(1)
    positions = [(s.row, s.col, s.top, s.left) for s in
                 (conv_step(image, kernels, bias, i, stride=2) for i in range(9))]
    assert positions == [(r, c, 2 * r, 2 * c) for r in range(3) for c in range(3)]
    first = conv_step(image, kernels, bias, 0, padding="same")
    assert (first.top, first.left) == (0, 0)
    np.testing.assert_array_equal(first.window[..., 0], [[0, 0, 0], [0, 0, 1], [0, 7, 8]])
    with pytest.raises(IndexError):
        conv_step(image, kernels, bias, 9, stride=2)
    with pytest.raises(IndexError):
        conv_step(image, kernels, bias, 0, filter_index=1)


def test_relu_and_max_pool_equal_keras(keras) -> None:
    rng = np.random.default_rng(2)
    maps = rng.normal(size=(7, 9, 2)) * 100
    rectified = relu(maps)
    np.testing.assert_allclose(rectified, np.asarray(keras.activations.relu(maps.astype(np.float32))),
                               rtol=1e-6)
    ours = max_pool(rectified)
    theirs = np.asarray(keras.layers.MaxPooling2D(pool_size=2)(rectified[None].astype(np.float32)))[0]
    assert ours.shape == theirs.shape == (3, 4, 2)
    assert max_pool(rectified[:1]).shape == (0, 4, 2) and max_pool(rectified[:0]).shape == (0, 4, 2)
    assert pool_step_count((1, 9)) == 0
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    for channel in range(2):
        for index in range(pool_step_count(rectified.shape)):
            step = pool_step(rectified, index, channel=channel)
            assert step.value == pytest.approx(ours[step.row, step.col, channel])
            assert rectified[step.winner + (channel,)] == step.value
            assert step.top <= step.winner[0] < step.top + 2 and step.left <= step.winner[1] < step.left + 2


def test_presets_are_the_chapters_filters() -> None:
    np.testing.assert_array_equal(preset("Vertical lines (chapter)", 3, 1)[..., 0],
                                  [[1, 0, -1], [1, 0, -1], [1, 0, -1]])
    np.testing.assert_array_equal(preset("Horizontal lines (chapter)", 3, 1)[..., 0],
                                  [[1, 1, 1], [0, 0, 0], [-1, -1, -1]])
    assert preset_names(3, 1)[:2] == ["Vertical lines (chapter)", "Horizontal lines (chapter)"]
    assert "Vertical lines (chapter)" not in preset_names(5, 1)
    assert {"Sobel x", "Sobel y", "Box blur", "Sharpen", "Identity"} <= set(preset_names(5, 1))
    for size in (3, 5):
        for channels in (1, 3):
            for name in preset_names(size, channels):
                assert preset(name, size, channels).shape == (size, size, channels)
    assert preset("Box blur", 5, 1).sum() == pytest.approx(1.0)
    assert preset("Sharpen", 3, 1).sum() == pytest.approx(1.0)
    colour = preset("Vertical lines (chapter)", 3, 3)
    assert colour.size == 27 and all(np.array_equal(colour[..., c], colour[..., 0]) for c in range(3))
    with pytest.raises(KeyError):
        preset("Vertical lines (chapter)", 5, 1)


def test_vertical_filter_on_a_vertical_line_is_positive_right_negative_left() -> None:
    # The chapter: strong positive values on the right side of a line, negative on the left.
    image = np.zeros((5, 7, 1))
    image[:, 3] = 255
    out = convolve(image, preset("Vertical lines (chapter)", 3, 1)[..., None], np.zeros(1))[..., 0]
    assert (out[:, 1] < 0).all() and (out[:, 3] > 0).all() and (out[:, 2] == 0).all()


def test_resize_kernel_keeps_the_centre() -> None:
    kernel = preset("Vertical lines (chapter)", 3, 1)
    big = resize_kernel(kernel, 5)
    assert big.shape == (5, 5, 1) and big[0].sum() == 0 and big[:, 0].sum() == 0
    np.testing.assert_array_equal(resize_kernel(big, 3), kernel)
    image = np.random.default_rng(3).integers(0, 256, (9, 9, 1)).astype(float)
    np.testing.assert_allclose(convolve(image, big[..., None], np.zeros(1), padding="same"),
                               convolve(image, kernel[..., None], np.zeros(1), padding="same"))


def test_parse_cell_numbers_and_errors_name_the_cell() -> None:
    assert parse_cell(" 2 ", 0, 0) == 2.0
    assert parse_cell("−1", 0, 0) == -1.0
    assert parse_cell("1/9", 0, 0) == pytest.approx(1 / 9)
    assert parse_cell("0,5", 0, 0) == 0.5
    with pytest.raises(KernelCellError, match="Row 2, column 3: 'abc' is not a number"):
        parse_cell("abc", 1, 2)
    with pytest.raises(KernelCellError, match="Row 1, column 1 of the G kernel is empty"):
        parse_cell("  ", 0, 0, channel=1)
    for bad in ("nan", "inf", "1/0", "1/2/3"):
        with pytest.raises(KernelCellError, match="Row 3, column 1"):
            parse_cell(bad, 2, 0)


def test_all_zero_kernel_gives_the_bias_everywhere_and_says_so() -> None:
    image = np.random.default_rng(4).integers(0, 256, (6, 6, 1)).astype(float)
    kernels = np.zeros((3, 3, 1, 1))
    np.testing.assert_array_equal(convolve(image, kernels, np.array([0.5])), np.full((4, 4, 1), 0.5))
    assert zero_notes(kernels, np.array([0.5])) == [
        "The kernel is all zeros: every output is just its bias, 0.5."]
    two = np.concatenate([np.ones((3, 3, 1, 1)), kernels], axis=3)
    assert zero_notes(two, np.array([0.0, -2.0])) == [
        "Filter 2 is all zeros: every output is just its bias, −2."]
    assert zero_notes(two[..., :1], np.zeros(1)) == []


def test_stride_larger_than_kernel_skips_pixels() -> None:
    image = np.zeros((10, 10, 1))
    image[3, :] = 255  # row 3 falls between the windows at rows 0-2 and 4-6 (stride 4)
    kernels = np.ones((3, 3, 1, 1))
    assert not convolve(image, kernels, np.zeros(1), stride=4).any()
    assert output_size(10, 3, 4, "valid") == 2
    assert stride_note(3, 4) == ("The stride (4) is larger than the 3 × 3 kernel: the windows do not "
                                 "touch, so 1 of every 4 rows and columns are never looked at.")
    assert stride_note(3, 3) == "" and stride_note(5, 4) == ""


def test_size_sentences() -> None:
    assert explain_output_size(28, 28, 3, 1, "valid") == (
        "With 'valid' padding the 3 × 3 window stays inside the image, so the output is "
        "(28 − 3) // 1 + 1 = 26 by (28 − 3) // 1 + 1 = 26: 26 × 26.")
    assert explain_output_size(28, 28, 3, 1, "same") == (
        "'same' padding adds 1 row(s) of zeros above and 1 below, 1 column(s) left and 1 right, "
        "so the output is ceil(28 / 1) × ceil(28 / 1) = 28 × 28.")
    assert "0 row(s) of zeros above and 1 below" in explain_output_size(4, 4, 3, 2, "same")
    assert "does not fit" in explain_output_size(2, 2, 3, 1, "valid")


def test_format_number() -> None:
    assert [format_number(v) for v in (3.0, -2.0, 0.5, -0.004, 1 / 3, -0.0)] == \
        ["3", "−2", "0.5", "0", "0.33", "0"]


def test_input_crop_and_display_copy() -> None:
    big = np.random.default_rng(5).integers(0, 256, (300, 500, 3)).astype(np.uint8)
    box = crop_box(big.shape, 64)
    assert (box.top, box.left, box.height, box.width) == (118, 218, 64, 64)
    corner = crop_box(big.shape, 64, centre=(5, 499))
    assert (corner.top, corner.left) == (0, 436) and corner.slice(big).shape == (64, 64, 3)
    small = crop_box((20, 30, 3), 64)
    assert (small.height, small.width) == (20, 30)
    shown, scale = display_copy(big, 250)
    assert shown.shape == (150, 250, 3) and scale == pytest.approx(0.5)
    assert display_copy(big, 600)[0] is big
    gray = to_input(np.dstack([big[..., 0]] * 3), colour=False)
    np.testing.assert_array_equal(gray[..., 0], big[..., 0])
    luma = to_input(np.array([[[255, 0, 0], [0, 255, 0]]], np.uint8), colour=False)
    np.testing.assert_array_equal(luma[..., 0], [[76, 150]])
    assert to_input(big, colour=True).shape == (300, 500, 3)
    assert first_of_class(np.array([0, 1, 7, 7])) == 2 and first_of_class(np.array([1, 2])) == 0


def test_layer_stages_and_equations() -> None:
    from filterscope.core.filters.explain import conv_equation, pool_equation, relu_equation
    from filterscope.core.filters.layer import FilterLayer

    image = np.zeros((6, 6, 1))
    image[2:4, 3] = 255
    layer = FilterLayer(image, preset("Vertical lines (chapter)", 3, 1)[..., None], np.array([0.5]),
                        padding="same")
    assert layer.padded.shape == (8, 8, 1) and layer.inside().sum() == 36
    assert not layer.inside()[0].any() and layer.inside()[1, 1]
    assert layer.step_count("convolution") == layer.step_count("relu") == 36
    assert layer.step_count("pooling") == 9
    np.testing.assert_allclose(layer.pooled, max_pool(relu(layer.output)))
    step = layer.conv_step(14)  # row 2, column 2: the line is in the window's right column
    assert conv_equation(step, layer.kernels[..., 0]) == (
        "0 × 1 + 0 × 0 + 0 × (−1) + 0 × 1 + 0 × 0 + 255 × (−1) + 0 × 1 + 0 × 0 + 255 × (−1) = −510; "
        "−510 + bias 0.5 = −509.5, the output at row 3, column 3.")
    assert relu_equation(-509.5, 2, 2) == (
        "ReLU(−509.5) = max(−509.5, 0) = 0 at row 3, column 3: negative responses become 0.")
    pool = layer.pool_step(5)
    assert pool_equation(pool).startswith(f"max({', '.join(format_number(v) for v in pool.window.ravel())})")
    colour = FilterLayer(np.ones((5, 5, 3)), np.ones((3, 3, 3, 1)), np.zeros(1))
    assert conv_equation(colour.conv_step(0), colour.kernels[..., 0]).startswith(
        "The 27 products add up to R: 9 + G: 9 + B: 9 = 27; 27 + bias 0 = 27")
    big = FilterLayer(np.ones((5, 5, 1)), np.ones((5, 5, 1, 1)), np.zeros(1))
    assert conv_equation(big.conv_step(0), big.kernels[..., 0]).startswith(
        "The 25 products add up to 25;")
    assert "Output: 6 × 6 × 1" in layer.size_sentence()
    assert layer.zero_notes() == [] and layer.stride_note() == ""


def test_numpy_code_reproduces_the_layer() -> None:
    from filterscope.core.filters.code import numpy_code
    from filterscope.core.filters.layer import FilterLayer

    rng = np.random.default_rng(6)
    cases = [(1, 1, 1, 3, "valid", 9), (3, 2, 2, 3, "same", 9), (1, 2, 3, 5, "same", 9),
             (3, 1, 1, 5, "valid", 9), (1, 1, 1, 3, "valid", 3)]  # the last: a 1 x 1 output, no pool
    for channels, filters, stride, k, padding, side in cases:
        image, kernels, bias = random_case(rng, channels, filters, k, side, side + 1)
        kernels[..., 0] = preset("Box blur", k, channels)  # fractions are written as 1 / 9
        layer = FilterLayer(image, kernels, bias, stride, padding)
        code = numpy_code(layer)
        namespace = {"image": image.copy()}
        exec(compile(code, "filters-code", "exec"), namespace)
        np.testing.assert_allclose(namespace["output"], layer.output, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(namespace["relu"], layer.rectified, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(namespace["pooled"], layer.pooled, rtol=1e-12, atol=1e-9)
        assert f"1 / {k * k}" in code and f"stride = {stride}" in code
        assert ("np.pad(image" in code) == (padding == "same")
