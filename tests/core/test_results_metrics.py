"""Scores against scikit-learn and by hand, the majority baseline, per-image rows, and each of
the warnings on a small constructed case (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest
from filterscope.core.results import advice
from filterscope.core.results.intervals import Interval, bootstrap_intervals
from filterscope.core.results.metrics import Baseline, majority_baseline, matrix_labels, score
from filterscope.core.results.rows import EvalRows, RowsError
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)

CLASSES = ["minor", "moderate", "severe", "total-loss"]  # "total-loss" has no images in the set
# 10 images: minor 4, moderate 3, severe 3; "severe" predicted once (rightly), never "total-loss"
TRUE = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
PRED = np.array([0, 0, 1, 0, 1, 0, 1, 0, 2, 1])


def test_scores_match_scikit_learn_and_the_hand_count() -> None:
    s = score(TRUE, PRED, CLASSES)
    assert s.accuracy == pytest.approx(accuracy_score(TRUE, PRED)) == pytest.approx(6 / 10)
    assert s.balanced_accuracy == pytest.approx(balanced_accuracy_score(TRUE, PRED))
    assert s.balanced_accuracy == pytest.approx((3 / 4 + 2 / 3 + 1 / 3) / 3)  # over classes present
    labels = [0, 1, 2, 3]
    for name, mine, theirs in (
            ("precision", [c.precision for c in s.per_class], precision_score),
            ("recall", [c.recall for c in s.per_class], recall_score),
            ("f1", [c.f1 for c in s.per_class], f1_score)):
        expected = theirs(TRUE, PRED, labels=labels, average=None, zero_division=0)
        assert mine == pytest.approx(expected.tolist()), name
    assert [c.precision for c in s.per_class] == pytest.approx([3 / 5, 2 / 4, 1 / 1, 0])
    assert [c.support for c in s.per_class] == [4, 3, 3, 0]
    assert [c.predicted for c in s.per_class] == [5, 4, 1, 0]
    assert s.confusion.tolist() == confusion_matrix(TRUE, PRED, labels=labels).tolist() == [
        [3, 1, 0, 0], [1, 2, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0]]  # an empty row for the absent class
    assert s.confusion_json() == {"classes": CLASSES, "rows": "true", "columns": "predicted",
                                  "matrix": s.confusion.tolist()}


def test_the_baseline_is_the_largest_training_class_scored_on_the_set() -> None:
    base = majority_baseline(TRUE, CLASSES, np.array([10, 40, 30, 5]))
    assert (base.name, base.basis, base.count) == ("moderate", "training", 40)
    assert base.accuracy == pytest.approx(3 / 10)  # always "moderate": right on its 3 images
    assert base.describe() == "always 'moderate', the largest class in training (40 images)"
    own = majority_baseline(TRUE, CLASSES, None)
    assert (own.name, own.basis, own.accuracy) == ("minor", "evaluated", pytest.approx(0.4))


def test_a_baseline_among_tied_classes_says_they_tie() -> None:
    seedlings = ["Black-grass", "Charlock", "Cleavers"]
    everyone = majority_baseline(TRUE[:9] % 3, seedlings, np.array([263, 263, 263]))
    assert (everyone.name, everyone.tied) == ("Black-grass", 3)
    assert everyone.describe() == ("always 'Black-grass', the first of all 3 classes, which tie as "
                                   "largest in training (263 images each)")
    two = majority_baseline(TRUE, CLASSES, np.array([40, 40, 30, 5]))
    assert two.describe() == ("always 'minor', the first of 2 classes, which tie as largest in "
                              "training (40 images each)")
    assert "largest class" not in everyone.describe() + two.describe()
    assert Baseline.from_json(everyone.to_json()) == everyone  # a saved evaluation keeps the tie
    old = {k: v for k, v in everyone.to_json().items() if k not in ("tied", "n_classes")}
    assert Baseline.from_json(old).tied == 1  # saved before ties were recorded


def test_digit_classes_head_the_matrix_by_name_never_by_a_colliding_number() -> None:
    digits = [str(d) for d in range(10)]
    heads = matrix_labels(digits)
    assert heads.rows == heads.columns == digits and heads.keyed == ""
    seedlings = ["Black-grass", "Charlock", "Cleavers"]
    heads = matrix_labels(seedlings)
    assert heads.columns == ["1", "2", "3"] and heads.rows[0] == "1 Black-grass"
    assert heads.keyed == "numbered as the rows"
    # a long name beside classes named 1 and 2: numbers would collide, so letters key them
    mixed = ["1", "2", "Shepherd's Purse"]
    heads = matrix_labels(mixed)
    assert heads.columns == ["A", "B", "C"] and heads.rows == ["A 1", "B 2", "C Shepherd's Purse"]
    assert heads.keyed == "lettered as the rows"


def _rows() -> EvalRows:
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.8, 0.2], [0.4, 0.6], [0.55, 0.45], [0.1, 0.9]],
                     np.float32)
    true = np.array([0, 0, 1, 1, 1, 1], np.int32)
    return EvalRows([f"img{i}.png" for i in range(6)], true, probs.argmax(1).astype(np.int32), probs)


def test_rows_give_confusion_cells_and_the_most_confidently_wrong_first() -> None:
    rows = _rows()
    assert rows.confidence.tolist() == pytest.approx([0.9, 0.7, 0.8, 0.6, 0.55, 0.9])
    assert rows.wrong().tolist() == [2, 1, 4]  # wrong at 0.8, 0.7, 0.55
    assert rows.cell(1, 1).tolist() == [5, 3] and rows.cell(0, 0).tolist() == [0]
    assert rows.cell(1, 0).tolist() == [2, 4] and rows.cell(0, 1).tolist() == [1]


def test_rows_round_trip_through_csv_and_a_foreign_csv_is_refused() -> None:
    rows = _rows()
    text = rows.to_csv(["cat", "dog"]).decode()
    assert text.splitlines()[0] == "path,true,predicted,confidence,correct,p:cat,p:dog"
    assert text.splitlines()[3] == "img2.png,dog,cat,0.800000,0,0.800000,0.200000"
    back = EvalRows.from_csv(text, ["cat", "dog"])
    assert back.paths == rows.paths and back.true.tolist() == rows.true.tolist()
    assert back.predicted.tolist() == rows.predicted.tolist()
    assert np.allclose(back.probabilities, rows.probabilities)
    with pytest.raises(RowsError, match="columns"):
        EvalRows.from_csv(text, ["cat", "owl"])


def test_rows_of_ten_thousand_images_sort_by_confidence() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(12), 10_000).astype(np.float32)
    rows = EvalRows([str(i) for i in range(10_000)], rng.integers(0, 12, 10_000).astype(np.int32),
                    probs.argmax(1).astype(np.int32), probs)
    wrong = rows.wrong()
    assert np.all(np.diff(rows.confidence[wrong]) <= 0)
    cells = [rows.cell(t, p) for t in range(12) for p in range(12)]
    assert sum(len(c) for c in cells) == 10_000
    assert all(np.all(np.diff(rows.confidence[c]) <= 0) for c in cells)


def _accuracy(right: float, n: int) -> Interval:
    """The accuracy interval of ``n`` images of which a share ``right`` is right."""
    true = np.zeros(n, np.int64)
    return bootstrap_intervals(true, (np.arange(n) >= round(right * n)).astype(np.int64), 2)["accuracy"]


def test_baseline_warning_when_accuracy_is_not_clearly_above_it() -> None:
    # the car photos: 45.7 % against always 'minor' (41 %) on 165 images
    base = majority_baseline(np.array([0] * 68 + [1] * 42 + [2] * 55), ["minor", "moderate", "severe"],
                             np.array([200, 150, 140]))
    accuracy = _accuracy(0.457, 165)
    warning = advice.baseline_warning(accuracy, base)
    assert warning.kind == "baseline"
    assert warning.message.startswith(f"Accuracy {accuracy.describe()} is not clearly above the 41.2 % "
                                      "of always 'minor'")
    assert "The baseline lies inside accuracy's 95 % confidence interval" in warning.message
    assert "more epochs" in warning.advice
    below = advice.baseline_warning(_accuracy(0.30, 165), base).message
    assert "below" in below and "inside" not in below
    assert advice.baseline_warning(_accuracy(0.80, 165), base) is None
    # 49 % is 8 points above, but on 40 images the baseline is inside its interval
    assert "not clearly above" in advice.baseline_warning(_accuracy(0.49, 40), base).message
    assert advice.baseline_warning(_accuracy(0.49, 4000), base) is None
    # outside the interval on 10,000 images, but 2 points are not a clear margin
    assert "barely above" in advice.baseline_warning(_accuracy(0.432, 10_000), base).message


def test_a_class_never_or_almost_never_predicted_is_named() -> None:
    true = np.array([0] * 60 + [1] * 50 + [2] * 55)
    pred = np.array([0] * 60 + [0] * 10 + [1] * 40 + [0] * 30 + [1] * 24 + [2])  # 'severe' once
    pred[:2] = 2  # two minor photos called severe: predicted 3 times in all, rightly once
    (warning,) = advice.rarely_predicted(score(true, pred, ["minor", "moderate", "severe"]))
    assert warning.kind == "rarely-predicted"
    assert warning.message.startswith("'severe' (55 images) was almost never predicted: 3 times "
                                      "in all, 1 of them rightly; the model has not learned")
    never = advice.rarely_predicted(score(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0]), ["a", "b"]))
    assert [w.message.split(";")[0] for w in never] == ["'b' (2 images) was never predicted"]
    assert advice.rarely_predicted(score(TRUE, TRUE, CLASSES)) == []


def _history(val: list[float], train: list[float]) -> list[dict]:
    return [{"epoch": i + 1, "val_accuracy": v, "accuracy": t, "loss": 1.0, "val_loss": 1.0}
            for i, (v, t) in enumerate(zip(val, train))]


def test_overfitting_is_named_with_its_best_epoch() -> None:
    history = _history([0.40, 0.50, 0.58, 0.61, 0.60, 0.57, 0.56, 0.55],
                       [0.45, 0.55, 0.62, 0.70, 0.78, 0.84, 0.89, 0.92])
    warning = advice.overfitting_warning(history, 4)
    assert warning.kind == "overfitting"
    assert warning.message.startswith("Validation accuracy peaked at 61.0 % in epoch 4 and fell to "
                                      "55.0 % by epoch 8, while training accuracy rose from 70.0 % to "
                                      "92.0 %")
    assert "best.keras keeps epoch 4" in warning.advice
    assert advice.overfitting_warning(history[:6], 4) is None  # two epochs after the peak: too soon
    rising = _history([0.4, 0.5, 0.6, 0.65, 0.66, 0.67], [0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    assert advice.overfitting_warning(rising, 6) is None
    both_fall = _history([0.6, 0.61, 0.58, 0.56, 0.55], [0.7, 0.72, 0.70, 0.69, 0.68])
    assert advice.overfitting_warning(both_fall, 2) is None


def test_few_images_for_the_model_size() -> None:
    counts = np.array([150, 300, 220])
    warning = advice.few_images_warning(810_012, counts, ["a", "b", "c"])  # the chapter's logistic
    assert warning.kind == "few-images"
    assert warning.message.startswith("The model has 810,012 weights and trained on 670 images "
                                      "(1,209 weights an image; fewest: 'a' with 150)")
    assert advice.few_images_warning(3_730, counts, ["a", "b", "c"]) is None
    small = advice.few_images_warning(3_730, np.array([150, 8, 220]), ["a", "b", "c"])
    assert small.message.startswith("Very few training images per class: 'b' has only 8")
    assert advice.few_images_warning(3_730, None, ["a", "b", "c"]) is None
    # ImageNet weights were not learnt from these photos: only a class with very few images counts
    assert advice.few_images_warning(3_428_396, counts, ["a", "b", "c"], pretrained=True) is None
    small = advice.few_images_warning(3_428_396, np.array([150, 8, 220]), ["a", "b", "c"], pretrained=True)
    assert small.message.startswith("Very few training images per class: 'b' has only 8")


def test_images_the_run_trained_on_are_flagged() -> None:
    warning = advice.trained_on_warning(32, 40)
    assert warning.message.startswith("32 of these 40 images are images the run trained on")
    assert advice.trained_on_warning(0, 40) is None
    assert str(warning) == f"{warning.message} Try: {warning.advice}"
