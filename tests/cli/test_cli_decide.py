"""``filterscope decide`` and the decision flags of ``evaluate`` and ``predict`` on a tiny run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from filterscope.core.results.calibration import apply_temperature
from filterscope.core.results.policy import POLICY_FILE, load_policy

from tests.corpus import tree_digest
from tests.results_runs import copy_run


@pytest.fixture
def run(results_run: Path, tmp_path: Path) -> Path:
    return copy_run(results_run, tmp_path / "run")


def test_decide_saves_a_threshold_that_evaluate_and_predict_then_use(run_cli, run, results_photos,
                                                                     tmp_path) -> None:
    before = tree_digest(results_photos)
    code, out, err = run_cli("decide", run, "--threshold", "0.5", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["threshold"] == 0.5 and data["path"] == str(run / POLICY_FILE)
    assert data["calibration"]["temperature"] == load_policy(run).fitted["best"].calibration.temperature
    assert 0 <= data["validation"]["coverage"] <= 1 and len(data["coverage_curve"]) == 101

    code, out, err = run_cli("evaluate", run, "--json")
    assert code == 0, err
    evaluation = json.loads(out)
    assert evaluation["threshold"] == 0.5
    assert {"accepted_accuracy", "coverage", "expected_cost"} <= set(evaluation)
    assert {"temperature", "ece_before", "ece_after"} <= set(evaluation["calibration"])

    out_csv = tmp_path / "preds.csv"
    code, out, err = run_cli("predict", run, results_photos / "test", "--out", out_csv, "--json")
    assert code == 0, err
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert len(rows) == 7
    for row in rows:  # needs review exactly where the calibrated confidence is below 0.5
        below = float(row["calibrated_confidence"]) < 0.5
        assert row["decision"] == ("needs_review" if below else row["predicted"])
    t = load_policy(run).fitted["best"].calibration.temperature
    raw = json.loads(out)["rows"][0]
    probabilities = [[p["probability"] for p in sorted(raw["top"], key=lambda p: p["class"])]]
    assert raw["calibrated_confidence"] == pytest.approx(float(apply_temperature(probabilities, t).max()), abs=1e-6)
    assert tree_digest(results_photos) == before

    code, text, err = run_cli("decide", run, "--no-threshold")
    assert code == 0, err
    assert "policy: no threshold, every error costs the same" in text
    assert load_policy(run).threshold is None


def test_costs_for_one_command_and_saved_ones_are_checked(run_cli, run, tmp_path, results_photos) -> None:
    costs = tmp_path / "costs.json"
    costs.write_text(json.dumps({"classes": ["dog", "cat"], "matrix": [[0, 20], [1, 0]]}), encoding="utf-8")
    code, out, err = run_cli("evaluate", run, "--costs", costs, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["costs"]["classes"] == ["cat", "dog"] and data["costs"]["matrix"] == [[0, 1], [20, 0]]
    assert data["expected_cost"]["n_costed"] == data["n_images"]
    assert load_policy(run).costs is None  # for this command only
    code, text, err = run_cli("decide", run, "--costs", costs)
    assert code == 0, err
    assert "error costs set" in text and load_policy(run).costs.matrix.tolist() == [[0, 1], [20, 0]]

    costs.write_text(json.dumps({"classes": ["cat", "cow"], "matrix": [[0, 1], [1, 0]]}), encoding="utf-8")
    code, _, err = run_cli("decide", run, "--costs", costs)
    assert code == 1 and "missing dog; unknown cow" in err
    code, _, err = run_cli("decide", run, "--target-accuracy", "1.5")
    assert code == 1 and "between 0 and 1" in err
    code, _, err = run_cli("predict", run, results_photos / "test", "--out", tmp_path / "p.csv", "--costs", costs)
    assert code == 1 and "costs.json: its classes are not the model's" in err
