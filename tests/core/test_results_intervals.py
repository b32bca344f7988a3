"""Bootstrap confidence intervals of accuracy, balanced accuracy and macro-F1 on constructed
labels (no model needed)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from filterscope.core.results.intervals import (
    Interval,
    bootstrap_intervals,
    intervals_from_json,
    with_interval,
)
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score


def _half_right(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two balanced classes, half of each class's images right."""
    true = np.repeat([0, 1], n // 2)
    predicted = np.tile([0, 1], n // 2)
    return true, predicted


def test_all_correct_is_sure() -> None:
    true = np.array([0, 1, 2, 2, 1, 0, 2])
    found = bootstrap_intervals(true, true, 4)
    assert set(found) == {"accuracy", "balanced_accuracy", "macro_f1"}
    for interval in found.values():
        assert (interval.value, interval.low, interval.high) == (1.0, 1.0, 1.0)
        assert (interval.level, interval.resamples, interval.seed) == (0.95, 1000, 0)


def test_half_right_contains_a_half_and_narrows_with_more_images() -> None:
    widths = []
    for n in (40, 400, 4000):
        found = bootstrap_intervals(*_half_right(n), 2)
        for interval in found.values():
            assert interval.value == pytest.approx(0.5)
            assert interval.low < 0.5 < interval.high
        widths.append(found["accuracy"].high - found["accuracy"].low)
    assert widths[0] > widths[1] > widths[2]
    # about 2 x 1.96 standard errors of a proportion: 0.098 on 400 images
    assert widths[1] == pytest.approx(2 * 1.96 * np.sqrt(0.25 / 400), rel=0.15)


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_point_values_match_scikit_learn_and_the_seed_repeats() -> None:
    rng = np.random.default_rng(3)
    true = rng.integers(0, 4, 300)
    true[true == 3] = 2  # class 3 has no images...
    predicted = np.where(rng.random(300) < 0.6, true, rng.integers(0, 5, 300))  # ...4 is answered
    found = bootstrap_intervals(true, predicted, 5)
    assert found["accuracy"].value == pytest.approx(accuracy_score(true, predicted))
    assert found["balanced_accuracy"].value == pytest.approx(balanced_accuracy_score(true, predicted))
    assert found["macro_f1"].value == pytest.approx(f1_score(true, predicted, average="macro"))
    assert bootstrap_intervals(true, predicted, 5) == found
    other = bootstrap_intervals(true, predicted, 5, seed=1)
    assert other["accuracy"].value == found["accuracy"].value
    assert other["accuracy"].low != found["accuracy"].low


def test_ten_thousand_images_take_well_under_a_second() -> None:
    rng = np.random.default_rng(0)
    true = rng.integers(0, 12, 10_000)
    predicted = np.where(rng.random(10_000) < 0.5, true, rng.integers(0, 12, 10_000))
    started = time.perf_counter()
    bootstrap_intervals(true, predicted, 12)
    assert time.perf_counter() - started < 0.5


def test_text_and_json() -> None:
    interval = Interval(0.5, 0.434, 0.568)
    assert interval.describe() == "50.0 % (95 % CI 43.4–56.8 %)"
    assert with_interval(0.5, interval) == interval.describe()
    assert with_interval(0.5, None) == "50.0 %"  # evaluations saved before intervals
    assert intervals_from_json({"accuracy": interval.to_json()}) == {"accuracy": interval}
    assert intervals_from_json(None) is None
    with pytest.raises(ValueError):
        bootstrap_intervals(np.array([], int), np.array([], int), 2)
