"""A drawn digit made as MNIST's digits were made: fitted into 20 × 20, centred by mass in
28 × 28; and read by a model through every layer with Grad-CAM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport, never_cancel
from filterscope.core.base.opencv import cv2
from filterscope.core.data.drawn import MNIST_BOX, mnist_digit
from filterscope.core.visualize.jobs import look_at_drawing
from filterscope.core.visualize.model_source import load_source
from filterscope.core.visualize.session import VisualSession

from tests.visualize_models import colour_model, loaded
from tests.visualize_models import mnist_digit as builtin_digit


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    weights = image.astype(np.float64)
    return float(((rows + 0.5) * weights).sum() / weights.sum()), float(((cols + 0.5) * weights).sum() / weights.sum())


def box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(image)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_a_small_stroke_in_a_corner_is_fitted_and_centred() -> None:
    ink = np.zeros((280, 280), np.uint8)
    cv2.line(ink, (20, 10), (20, 70), 255, 12)  # a short "1" near the top-left corner
    digit = mnist_digit(ink)
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert max(box(digit)) == MNIST_BOX and box(digit)[1] < 10  # tall and thin, as drawn
    row, col = centre_of_mass(digit)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


def test_mnists_own_digits_come_back_nearly_as_they_were() -> None:
    """A built-in digit enlarged ten times (as if drawn on the canvas) is made into much the same
    28 × 28 digit: MNIST's digits were made by this rule."""
    alike = []
    for label in range(10):
        original = builtin_digit(label)
        again = mnist_digit(cv2.resize(original, (280, 280), interpolation=cv2.INTER_LINEAR))
        assert max(box(again)) == MNIST_BOX
        assert all(abs(c - 14) <= 0.6 for c in centre_of_mass(again))
        alike.append(np.corrcoef(original.ravel(), again.ravel())[0, 1])
    assert min(alike) > 0.6 and np.mean(alike) > 0.8


def test_nothing_drawn_is_a_black_digit_and_a_bad_shape_is_refused() -> None:
    assert not mnist_digit(np.zeros((50, 40))).any()
    with pytest.raises(ValueError, match="drawing"):
        mnist_digit(np.zeros((4, 4, 3)))


def test_a_drawing_is_read_through_every_layer_with_grad_cam(mnist_run: Path) -> None:
    session = VisualSession(load_source(mnist_run, report=NullReport(), cancel=never_cancel()))
    ink = np.zeros((280, 280), np.uint8)
    cv2.circle(ink, (140, 140), 80, 255, 20)  # a zero
    drawn = look_at_drawing(session, ink, report=NullReport(), cancel=never_cancel())
    np.testing.assert_array_equal(drawn.digit, mnist_digit(ink))
    np.testing.assert_allclose(drawn.network.image.batch[0, ..., 0], drawn.digit / 255.0, atol=1e-6)
    assert drawn.cam is not None and drawn.cam.class_index == int(np.argmax(drawn.network.probabilities))
    assert drawn.overlay.shape == (28, 28, 3) and drawn.note is None
    other = VisualSession(loaded(colour_model(size=32), "colour"))
    seen = look_at_drawing(other, ink, report=NullReport(), cancel=never_cancel())
    assert "takes 32 × 32 × 3 images" in seen.note
