"""A run's decision policy with a real (tiny) trained run: calibration fitted on its validation
images and saved with it, a target accuracy becoming a threshold, costs, and evaluations that use
them and read back."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport, RecordingReport
from filterscope.core.results.decisions import Costs
from filterscope.core.results.evaluate import evaluate
from filterscope.core.results.policy import (POLICY_FILE, Policy, PolicyError, choose_policy, ensure_fitted,
                                             load_policy)
from filterscope.core.results.store import load_evaluation, save_evaluation
from filterscope.core.training.saved_model import open_model

from tests.results_runs import constant_model, copy_run

JOB = {"report": NullReport(), "cancel": threading.Event()}


@pytest.fixture
def run(results_run: Path, tmp_path: Path) -> Path:
    return copy_run(results_run, tmp_path / "run")


def test_the_first_evaluation_fits_the_temperature_on_validation_and_saves_it(run: Path) -> None:
    (run / POLICY_FILE).unlink()  # the shared run comes calibrated
    report = RecordingReport()
    result = evaluate(run, report=report, cancel=threading.Event())  # on test/: val predicted to calibrate
    fractions = [f for f, _ in report.progress_calls]
    assert min(fractions) >= 0 and max(fractions) <= 1.0 + 1e-9  # the calibration's share stays in its step
    data = result.to_json()
    fitted = load_policy(run).fitted["best"]
    assert fitted.calibration.fitted_on.startswith("the run's validation images")
    assert fitted.calibration.n_images == 6 and len(fitted.confidence) == 6
    assert data["calibration"]["temperature"] == pytest.approx(fitted.calibration.temperature)
    assert {"ece_before", "ece_after"} <= set(data["calibration"])
    assert len(data["coverage_curve"]) == 101 and data["coverage_curve"][0]["coverage"] == 1.0
    assert "accepted_accuracy" not in data  # no threshold, no costs: nothing set aside
    mtime = (run / POLICY_FILE).stat().st_mtime_ns
    evaluate(run, subset="val", **JOB)
    assert (run / POLICY_FILE).stat().st_mtime_ns == mtime  # fitted once, then reused
    assert "last" not in load_policy(run).fitted


def test_evaluating_the_validation_images_fits_on_them_without_a_second_pass(run: Path) -> None:
    (run / POLICY_FILE).unlink()
    result = evaluate(run, subset="val", **JOB)
    assert load_policy(run).fitted["best"].calibration.n_images == result.n_images
    assert any("fitted on these same validation images" in n for n in result.notes)


def test_a_target_accuracy_becomes_a_threshold_and_evaluations_set_photos_aside(run: Path) -> None:
    opened = open_model(run, **JOB)
    fitted, _ = ensure_fitted(opened, **JOB)
    reachable = float(np.nanmax(fitted.curve().accuracy))
    policy = choose_policy(opened, target_accuracy=reachable, **JOB)
    assert policy.threshold == fitted.threshold_for(reachable) and policy.target_accuracy == reachable
    assert policy.threshold == load_policy(run).fitted["best"].threshold_for(reachable)  # as saved
    assert load_policy(run).threshold == policy.threshold
    data = evaluate(run, **JOB).to_json()
    assert data["threshold"] == policy.threshold and 0 <= data["coverage"] <= 1
    assert data["expected_cost"]["n_costed"] == data["n_accepted"]
    with pytest.raises(PolicyError, match="no threshold makes"):
        choose_policy(opened, target_accuracy=1.0, **JOB) if reachable < 1.0 else \
            choose_policy(opened, target_accuracy=2.0, **JOB)
    cleared = choose_policy(opened, target_accuracy=None, **JOB)
    assert cleared.threshold is None and cleared.fitted  # the calibration stays


def test_costs_override_for_one_evaluation_and_read_back(run: Path) -> None:
    costs = Costs(("cat", "dog"), np.array([[0.0, 1.0], [50.0, 0.0]]))  # a dog called cat is dear
    result = evaluate(run, decisions=Policy(costs=costs), **JOB)
    assert result.judgement.cost is not None and result.judgement.threshold is None
    assert load_policy(run).costs is None  # an override is not saved
    saved = save_evaluation(result)
    again = load_evaluation(saved, **JOB)
    assert json.dumps(again.judgement.to_json(), sort_keys=True) == \
        json.dumps(result.judgement.to_json(), sort_keys=True)
    assert again.judgement.costs.matrix.tolist() == costs.matrix.tolist()


def test_a_changed_model_file_is_fitted_again_and_an_unwritable_run_still_scores(run: Path, monkeypatch) -> None:
    first = load_policy(run).fitted["best"].calibration
    constant_model(run, 1)  # best.keras is now another model
    opened = open_model(run, **JOB)
    fitted, note = ensure_fitted(opened, **JOB)
    assert note is None and fitted.calibration.model_sha256 != first.model_sha256
    assert load_policy(run).fitted["best"].calibration.model_sha256 == fitted.calibration.model_sha256
    constant_model(run, 0)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("filterscope.core.results.policy.atomic_write_json", refuse)
    result = evaluate(run, **JOB)
    assert result.judgement.fitted is not None
    assert any("could not be saved in the run (Permission denied)" in n for n in result.notes)


def test_a_model_file_alone_is_not_calibrated_and_says_why(run: Path) -> None:
    opened = open_model(run / "best.keras", **JOB)
    opened.run = None
    fitted, note = ensure_fitted(opened, **JOB)
    assert fitted is None and "only a run has validation images" in note


def test_a_damaged_policy_file_is_named(run: Path) -> None:
    (run / POLICY_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(PolicyError, match=POLICY_FILE):
        load_policy(run)
    (run / POLICY_FILE).write_text(json.dumps({"version": 1, "threshold": 3}), encoding="utf-8")
    with pytest.raises(PolicyError, match="between 0 and 1"):
        load_policy(run)
