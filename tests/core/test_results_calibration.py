"""Calibration, needs-review thresholds and error costs on constructed predictions (no model)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from filterscope.core.results.calibration import (apply_temperature, calibrate, expected_calibration_error,
                                                  fit_temperature, reliability)
from filterscope.core.results.decisions import (REVIEW, Costs, CostsError, accepted, coverage_curve, decide,
                                                decision_names, expected_cost, read_costs,
                                                threshold_for_target)
from filterscope.core.results.judgement import judge


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def overconfident(n: int = 4000, classes: int = 3, sharpen: float = 3.0, seed: int = 0):
    """Labels drawn from honest probabilities; the 'model' reports them with logits x ``sharpen``."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.2, (n, classes))
    honest = softmax(logits)
    labels = np.array([rng.choice(classes, p=p) for p in honest])
    return softmax(logits * sharpen).astype(np.float32), labels, honest


def test_temperature_scaling_makes_an_overconfident_model_honest() -> None:
    model, labels, _ = overconfident()
    before = expected_calibration_error(model, labels)
    t = fit_temperature(model, labels)
    after = expected_calibration_error(apply_temperature(model, t), labels)
    assert 2.5 < t < 3.5  # the sharpening factor is recovered
    assert before > 0.1 and after < before / 3
    assert np.array_equal(apply_temperature(model, t).argmax(axis=1), model.argmax(axis=1))
    found = calibrate(model, labels, model="best", fitted_on="validation images")
    assert found.log_loss_after < found.log_loss_before and found.ece_after == pytest.approx(after)


def test_a_calibrated_model_keeps_a_temperature_near_one() -> None:
    _, labels, honest = overconfident(sharpen=1.0, seed=1)
    assert fit_temperature(honest, labels) == pytest.approx(1.0, abs=0.15)
    assert fit_temperature(np.zeros((0, 3)), np.zeros(0)) == 1.0


def test_reliability_bins_count_every_image_and_weigh_the_gaps() -> None:
    p = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.55, 0.45]])
    labels = np.array([0, 1, 0, 0])
    found = reliability(p, labels, bins=10)
    assert found.counts.sum() == 4 and found.counts[9] == 2 and found.counts[5] == 2
    assert found.accuracy[9] == 0.5 and found.confidence[9] == pytest.approx(0.95)
    assert found.ece == pytest.approx(0.5 * 0.45 + 0.5 * 0.45)
    assert apply_temperature(np.full((1, 2), np.nan), 2.0).shape == (1, 2)


def test_coverage_curve_and_the_threshold_for_a_target() -> None:
    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([1, 1, 0, 1, 0], bool)
    curve = coverage_curve(confidence, correct, np.array([0.0, 0.65, 0.75, 0.95]))
    assert curve.coverage.tolist() == [1.0, 0.6, 0.4, 0.0]
    assert curve.accuracy[:3].tolist() == pytest.approx([0.6, 2 / 3, 1.0]) and np.isnan(curve.accuracy[3])
    assert threshold_for_target(confidence, correct, 0.75) == 0.6  # 3 of 4 at >= 0.6
    assert threshold_for_target(confidence, correct, 1.0) == 0.8
    assert threshold_for_target(confidence, np.zeros(5, bool), 0.5) is None


def test_a_threshold_sends_unsure_answers_to_review() -> None:
    p = np.array([[0.9, 0.1], [0.55, 0.45], [np.nan, np.nan]])
    found = decide(p, threshold=0.6)
    assert found.tolist() == [0, REVIEW, REVIEW]
    assert decision_names(found, ["cat", "dog"]) == ["cat", "needs_review", "needs_review"]
    summary = accepted(found[:2], np.array([0, 1]), baseline_class=1, threshold=0.6)
    assert (summary.n_accepted, summary.coverage, summary.accuracy, summary.baseline_accuracy) == (1, 0.5, 1.0, 0.0)


def test_a_tenfold_cost_on_severe_called_minor_calls_fewer_severe_photos_minor() -> None:
    classes = ["minor", "moderate", "severe"]
    rng = np.random.default_rng(3)
    true = np.repeat([0, 1, 2], 200)
    logits = rng.normal(0, 1, (600, 3)) + 1.2 * np.eye(3)[true]  # a weak model: many confusions
    p = softmax(logits)
    plain = decide(p)
    matrix = np.ones((3, 3)) - np.eye(3)
    matrix[2, 0] = 10.0  # severe called minor
    costs = Costs(tuple(classes), matrix)
    weighed = decide(p, costs=costs)
    severe_minor = lambda d: int(np.sum((true == 2) & (d == 0)))  # noqa: E731
    assert severe_minor(weighed) < severe_minor(plain) / 2
    assert expected_cost(weighed, true, costs, 1).total < expected_cost(plain, true, costs, 1).total
    assert np.array_equal(decide(p, costs=Costs.default(classes)), plain)


def test_cost_files_are_checked_and_put_in_the_models_class_order(tmp_path) -> None:
    path = tmp_path / "costs.json"
    path.write_text(json.dumps({"classes": ["b", "a"], "matrix": [[0, 5], [1, 0]]}), encoding="utf-8")
    costs = read_costs(path, ["a", "b"])
    assert costs.matrix.tolist() == [[0, 1], [5, 0]]  # true a called b costs 1; true b called a, 5
    for bad, said in (({"classes": ["a", "b"], "matrix": [[0, 1]]}, "not 2x2"),
                      ({"classes": ["a", "b"], "matrix": [[0, -1], [1, 0]]}, "0 or more"),
                      ({"classes": ["a", "c"], "matrix": [[0, 1], [1, 0]]}, "missing b; unknown c"),
                      ({"matrix": []}, "needs \"classes\"")):
        path.write_text(json.dumps(bad), encoding="utf-8")
        with pytest.raises(CostsError, match=said):
            read_costs(path, ["a", "b"])
    path.write_text("{", encoding="utf-8")
    with pytest.raises(CostsError, match="costs.json: cannot read"):
        read_costs(path, ["a", "b"])


def test_judge_reports_calibration_and_decisions_next_to_the_baseline() -> None:
    model, labels, _ = overconfident(n=600)
    t = fit_temperature(model, labels)
    plain = judge(model, labels, 0, temperature=t)
    assert plain.accepted is None and plain.cost is None and plain.after.ece < plain.before.ece
    held = judge(model, labels, 0, temperature=t, threshold=0.8)
    data = held.to_json()
    assert set(data) >= {"calibration", "coverage_curve", "accepted_accuracy", "coverage", "expected_cost"}
    assert data["accepted_accuracy"] > float(np.mean(model.argmax(axis=1) == labels))
    assert 0 < data["coverage"] < 1 and data["calibration"]["temperature"] == t
    assert "needs review below 80.0 % calibrated confidence" in " ".join(held.lines("a"))
