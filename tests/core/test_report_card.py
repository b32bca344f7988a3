"""The report's calibration and decisions (the evaluation's own Judgement sentences and the
reliability / coverage picture) and its model card (intended use saved with the run, the data
section's counts, metrics with their intervals, the judgement, the known limits)."""

from __future__ import annotations

import base64
import json
import re
import threading
from html import escape
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.project.model_card import (CARD_FILE, ModelCardError, read_intended_use,
                                                 save_intended_use)
from filterscope.core.project.report import ReportError, write_report
from filterscope.core.project.report_calibration import NOT_CALIBRATED
from filterscope.core.results.calibration import apply_temperature
from filterscope.core.results.decisions import Costs
from filterscope.core.results.evaluate import evaluate
from filterscope.core.results.policy import choose_policy
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.results.store import save_evaluation
from filterscope.core.training.saved_model import open_model

from tests.results_runs import copy_run

JOB = {"report": NullReport(), "cancel": threading.Event()}


def section(page: str, heading: str) -> str:
    return re.search(rf">{re.escape(heading)}</h2>(.*?)(<h2|</body>)", page, re.S).group(1)


def shown(line: str) -> str:
    return escape(line[0].upper() + line[1:])


def pictures(html: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def test_the_calibration_section_shows_the_evaluations_judgement(results_run, tmp_path) -> None:
    result = write_report(results_run, tmp_path / "report.html", **JOB)
    ev = evaluate(results_run, **JOB)  # the evaluation the report shows: test/, by default
    lines = ev.judgement.lines(ev.baseline.name)
    assert ev.judgement.fitted is not None and lines[0].startswith("calibration: temperature ")
    calibration = section(result.html, "Calibration and decisions")
    for line in lines:
        assert f"<li>{shown(line)}</li>" in calibration
    assert "needs review" not in calibration  # the shared run has no threshold
    found = pictures(calibration)
    assert len(found) == 1 and found[0].startswith(b"\x89PNG")
    assert 'alt="Reliability diagram and coverage / accuracy curve"' in calibration
    card = result.to_json()["model_card"]
    assert card["calibration"] == lines[0]
    assert card["judgement"]["calibration"]["ece_after"] == ev.judgement.after.ece
    assert card["judgement"]["calibration"]["temperature"] == ev.judgement.temperature


def test_a_threshold_and_costs_show_the_accepted_and_cost_sentences(results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    before = evaluate(run, **JOB)
    scaled = apply_temperature(before.rows.probabilities, before.judgement.temperature).max(axis=1)
    threshold = float(np.sort(scaled)[len(scaled) // 2])  # about half of the test images set aside
    costs = Costs(("cat", "dog"), np.array([[0.0, 1.0], [4.0, 0.0]]))
    choose_policy(open_model(run, **JOB), threshold=threshold, costs=costs, **JOB)
    result = write_report(run, tmp_path / "report.html", **JOB)
    ev = evaluate(run, **JOB)
    judged = ev.judgement
    assert judged.threshold == threshold and 0 < judged.accepted.n_accepted < ev.n_images
    lines = judged.lines(ev.baseline.name)
    assert len(lines) == 3 and lines[1].startswith("needs review below ") and lines[2].startswith("error cost: ")
    calibration = section(result.html, "Calibration and decisions")
    card_html = section(result.html, "Model card")
    for line in lines:
        assert f"<li>{shown(line)}</li>" in calibration and shown(line) in card_html
    card = result.model_card["judgement"]
    assert (card["coverage"], card["accepted_accuracy"], card["n_accepted"]) == \
        (judged.accepted.coverage, judged.accepted.accuracy, judged.accepted.n_accepted)
    assert card["expected_cost"] == judged.cost.to_json() and card["threshold"] == threshold
    assert card["costs"]["matrix"] == [[0.0, 1.0], [4.0, 0.0]]
    assert "no error costs are set" not in card_html and "no needs-review threshold" not in card_html


def test_an_evaluation_saved_before_calibration_says_so_without_a_picture(results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    saved = save_evaluation(evaluate(run, **JOB))
    data = json.loads(saved.read_text(encoding="utf-8"))
    for key in ("calibration", "coverage_curve", "threshold", "target_accuracy", "costs"):
        del data[key]  # as an evaluation saved before issue 20 was
    saved.write_text(json.dumps(data), encoding="utf-8")
    result = write_report(run, tmp_path / "old.html", settings=EvaluateSettings(run=str(run), evaluation=saved.stem),
                          **JOB)
    assert result.evaluated["saved_evaluation"] == saved.stem
    calibration = section(result.html, "Calibration and decisions")
    assert f"<li>{escape(NOT_CALIBRATED)}</li>" in calibration and not pictures(calibration)
    assert "ECE" not in calibration
    assert result.model_card["calibration"] == NOT_CALIBRATED and result.model_card["judgement"] is None


def test_the_model_card_holds_the_intended_use_data_metrics_and_limits(results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    assert read_intended_use(run) == ""
    text = "Sorting <b>cat</b> & dog photos\nfor the demo only."
    result = write_report(run, tmp_path / "card.html", intended_use=text, **JOB)
    assert read_intended_use(run) == text.strip()
    assert json.loads((run / CARD_FILE).read_text(encoding="utf-8"))["intended_use"] == text
    card_html = section(result.html, "Model card")
    assert escape(text).replace("\n", "<br>") in card_html and "<b>cat</b>" not in card_html
    card = result.model_card
    assert card["intended_use"] == text
    assert card["metrics"] == {name: interval.to_json() for name, interval in result.intervals.items()}
    for interval in result.intervals.values():
        assert escape(interval.describe()) in card_html
    data = section(result.html, "Data")  # the data section's counts, the same on the card
    assert card["counts"] == {"train": {"cat": 8, "dog": 8}, "val": {"cat": 3, "dog": 3}}
    assert "training 16 (cat 8, dog 8); validation 6 (cat 3, dog 3)" in card_html
    assert escape(card["dataset"]) in data and card["classes"] == ["cat", "dog"]
    ev = evaluate(run, **JOB)
    assert {w.message for w in ev.warnings} <= set(card["limits"]) and ev.warnings
    assert any(line.startswith("The figures rest on only 7 images (accuracy ") for line in card["limits"])
    for line in card["limits"]:
        assert escape(line) in card_html
    again = write_report(run, tmp_path / "again.html", **JOB)  # no text given: the run's is kept
    assert again.model_card["intended_use"] == text.strip()


def test_no_intended_use_and_an_unreadable_card(results_run, tmp_path) -> None:
    run = copy_run(results_run, tmp_path / "run")
    result = write_report(run, tmp_path / "none.html", **JOB)
    assert "Not written yet: say what the model is for" in section(result.html, "Model card")
    assert not (run / CARD_FILE).exists()  # nothing written when nothing was given
    (run / CARD_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelCardError, match=re.escape(str(run / CARD_FILE))):
        read_intended_use(run)
    with pytest.raises(ReportError, match="cannot read the model card"):
        write_report(run, tmp_path / "broken.html", **JOB)
    assert save_intended_use(run, "  fixed  ") == run / CARD_FILE and read_intended_use(Path(run)) == "fixed"


def test_an_evaluation_with_tta_adds_its_sentence(results_run, tmp_path) -> None:
    from filterscope.core.results.tta import tta_sentence

    run = copy_run(results_run, tmp_path / "run")
    ev = evaluate(run, tta=True, **JOB)
    saved = save_evaluation(ev)
    result = write_report(run, tmp_path / "tta.html", settings=EvaluateSettings(run=str(run), evaluation=saved.stem),
                          **JOB)
    calibration = section(result.html, "Calibration and decisions")
    assert ev.tta is not None and f"<li>{shown(tta_sentence(ev.tta))}</li>" in calibration
    plain = section(write_report(run, tmp_path / "plain.html", **JOB).html, "Calibration and decisions")
    assert "test-time augmentation" not in plain.lower()
