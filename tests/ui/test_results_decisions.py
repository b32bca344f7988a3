"""The Results tab's calibration and decisions through qtbot, on a real (calibrated) trained run:
the reliability diagram and the sentences of Judgement.lines, a target accuracy saved with the
run as core's threshold, error costs edited (bad input refused), saved and read back, the
gallery's calibrated confidence, and nothing of one run or evaluation left on another's screen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.formats import percent
from filterscope.core.results.calibration import apply_temperature
from filterscope.core.results.decisions import threshold_for_target
from filterscope.core.results.policy import load_policy
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.widgets.reliability_view import NO_JUDGEMENT

from tests.results_runs import copy_run
from tests.ui.screen import evaluate, results_tab

WAIT_MS = 120_000


@pytest.fixture
def tab(qtbot, run: Path) -> ResultsTab:
    """The tab on ``run`` (conftest's copy of the shared run, alone in its runs folder)."""
    return results_tab(qtbot, run.parent, (1280, 720))


def sentences(lines: list[str]) -> list[str]:
    return [line[:1].upper() + line[1:] for line in lines]


def save_with_run(qtbot, tab: ResultsTab):
    panel = tab.decisions
    with qtbot.waitSignal(panel.runner.sig_finished, timeout=WAIT_MS):
        panel.save_button.click()
    qtbot.waitUntil(lambda: tab.evaluation() is not None and tab.evaluation().judgement is not None, timeout=5000)
    return tab.evaluation()


def test_evaluating_draws_the_reliability_diagram_and_says_judgements_sentences(qtbot, tab) -> None:
    ev = evaluate(qtbot, tab)
    j = ev.judgement
    assert j is not None and j.fitted is not None and j.temperature != 1.0  # the shared run is calibrated
    view = tab.calibration
    assert view.text.text().split("\n") == sentences(j.lines(ev.baseline.name))
    assert "→" in view.text.text() and f"{j.fitted.temperature:.2f}" in view.text.text()
    assert not view.canvas.isHidden()
    axes = view.canvas.figure.axes
    assert len(axes) == 1
    assert len(axes[0].patches) == int(np.sum(j.after.counts > 0))  # one bar per filled bin
    before = [line for line in axes[0].lines if line.get_label() == "the model's own"][0]
    assert np.allclose(before.get_xdata(), j.before.confidence[j.before.counts > 0])
    # the decision page: no threshold saved yet, every photo accepted
    assert "every photo is accepted" in tab.decisions.summary.text()
    assert tab.decisions.costs.rowCount() == tab.decisions.costs.columnCount() == len(ev.classes)


def test_the_gallery_shows_the_calibrated_confidence(qtbot, tab) -> None:
    ev = evaluate(qtbot, tab)
    calibrated = apply_temperature(ev.rows.probabilities, ev.judgement.temperature).max(axis=1)
    assert np.allclose(ev.calibrated_confidence, calibrated)
    row = int(np.argmax(np.abs(calibrated - ev.rows.confidence)))
    assert percent(calibrated[row]) != percent(ev.rows.confidence[row])  # the test can tell them apart
    tab.show_cell(int(ev.rows.true[row]), int(ev.rows.predicted[row]))
    model = tab.gallery.model()
    shown = [model.index(i) for i in range(model.rowCount()) if model.row_of(i) == row][0]
    assert model.data(shown).endswith(percent(calibrated[row], 0))
    tip = model.data(shown, 3)  # ToolTipRole
    assert f"{percent(calibrated[row])} calibrated confidence" in tip
    assert f"the model's own {percent(ev.rows.confidence[row])}" in tip


def test_a_target_saved_with_the_run_becomes_cores_threshold(qtbot, tab, run) -> None:
    evaluate(qtbot, tab)
    fitted = load_policy(run).fitted["best"]
    reachable = float(np.nanmax(fitted.curve().accuracy))
    target = np.floor(reachable * 1000) / 1000 - 0.05  # reachable, in the spin box's 0.1 % steps
    panel = tab.decisions
    panel.mode.setCurrentIndex(panel.mode.findData("target"))
    panel.target.setValue(100 * target)
    expected = threshold_for_target(fitted.confidence, fitted.correct, panel.target.value() / 100)
    assert expected is not None
    assert percent(expected) in panel.preview.text()
    judged = save_with_run(qtbot, tab)
    saved = json.loads((run / "decisions.json").read_text())
    assert saved["threshold"] == pytest.approx(expected)
    assert saved["target_accuracy"] == pytest.approx(panel.target.value() / 100)
    j = judged.judgement
    assert j.threshold == pytest.approx(expected) and j.accepted is not None
    assert panel.summary.text().split("\n") == sentences(j.lines(judged.baseline.name)[1:])
    assert f"Needs review below {percent(expected)}" in panel.summary.text()
    on_disk = json.loads((run / "evaluations" / f"{judged.name}.json").read_text())
    assert on_disk["threshold"] == pytest.approx(expected) and on_disk["coverage"] == pytest.approx(j.accepted.coverage)
    again = evaluate(qtbot, tab)  # the next evaluation decides with the saved threshold
    assert again.judgement.threshold == pytest.approx(expected)
    assert again.judgement.accepted.coverage == pytest.approx(j.accepted.coverage)
    assert f"accuracy on them {percent(again.judgement.accepted.accuracy)}" in tab.decisions.summary.text()


def test_an_unreachable_target_says_why_and_saves_nothing(qtbot, tab, run) -> None:
    evaluate(qtbot, tab)
    panel = tab.decisions
    fitted = load_policy(run).fitted["best"]
    before = (run / "decisions.json").read_text()
    panel.mode.setCurrentIndex(panel.mode.findData("target"))
    panel.target.setValue(100.0)
    if fitted.threshold_for(1.0) is not None:  # this run reaches 100 %: no target is unreachable
        pytest.skip("every target is reachable on this run's validation images")
    assert "No threshold reaches 100.0 %" in panel.preview.text()
    with qtbot.waitSignal(panel.runner.sig_failed, timeout=WAIT_MS):
        panel.save_button.click()
    assert "Not saved" in panel.message.text() and "choose a lower target" in panel.message.text()
    assert (run / "decisions.json").read_text() == before


def test_costs_are_edited_refused_when_bad_saved_with_the_run_and_as_json(qtbot, tab, run, tmp_path) -> None:
    ev = evaluate(qtbot, tab)
    panel = tab.decisions
    panel.costs.item(0, 1).setText("5")
    assert panel.cost_matrix()[0, 1] == 5.0
    for bad in ("-1", "abc", "inf"):
        panel.costs.item(0, 1).setText(bad)
        assert "refused" in panel.message.text()
        assert panel.cost_matrix()[0, 1] == 5.0 and panel.costs.item(0, 1).text() == "5"
    path = tmp_path / "costs.json"
    assert panel.save_costs(path)
    assert json.loads(path.read_text()) == {"classes": ev.classes, "matrix": [[0.0, 5.0], [1.0, 0.0]]}
    panel.costs.item(1, 0).setText("2.5")
    assert panel.load_costs(path)  # read back, replacing the edit
    assert panel.cost_matrix().tolist() == [[0.0, 5.0], [1.0, 0.0]]
    (tmp_path / "wrong.json").write_text(json.dumps({"classes": ["x", "y"], "matrix": [[0, 1], [1, 0]]}))
    assert not panel.load_costs(tmp_path / "wrong.json") and "not the model's" in panel.message.text()
    judged = save_with_run(qtbot, tab)
    saved = json.loads((run / "decisions.json").read_text())
    assert saved["costs"] == {"classes": ev.classes, "matrix": [[0.0, 5.0], [1.0, 0.0]]}
    assert judged.judgement.cost is not None
    assert "Error cost:" in panel.summary.text()
    assert panel.summary.text().split("\n") == sentences(judged.judgement.lines(judged.baseline.name)[1:])
    assert panel.cost_matrix().tolist() == [[0.0, 5.0], [1.0, 0.0]]  # refilled from what was saved


def test_another_run_or_an_old_evaluation_leaves_nothing_of_the_last_on_screen(qtbot, tab, run, results_run) -> None:
    ev = evaluate(qtbot, tab)
    assert tab.calibration.canvas.figure.axes and tab.decisions.canvas.figure.axes
    other = copy_run(results_run, run.parent / "other-run")
    with qtbot.waitSignal(tab.runs_runner.sig_finished, timeout=WAIT_MS):
        tab.runs.refresh()
    tab._state.evaluate.run = str(other)
    assert tab.run_dir() == other
    assert not tab.calibration.canvas.figure.axes and not tab.decisions.canvas.figure.axes
    assert tab.calibration.judgement() is None
    assert "Evaluate a run" in tab.calibration.text.text() and "Evaluate a run" in tab.decisions.summary.text()
    assert tab.decisions.costs.rowCount() == 0
    assert not tab.decisions.save_button.isEnabled()
    # an evaluation saved before calibration existed: no diagram, a plain sentence
    tab._state.evaluate.run = str(run)
    saved = run / "evaluations" / f"{ev.name}.json"
    data = json.loads(saved.read_text())
    for key in ("calibration", "coverage_curve", "threshold", "target_accuracy", "costs"):
        data.pop(key, None)
    old = saved.with_name("old.json")
    old.write_text(json.dumps(data))
    evaluate(qtbot, tab)
    assert tab.calibration.canvas.figure.axes
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.open_saved(str(old))
    assert tab.evaluation().judgement is None
    assert not tab.calibration.canvas.figure.axes and tab.calibration.canvas.isHidden()
    assert tab.calibration.text.text() == NO_JUDGEMENT
    assert "saved before decisions existed" in tab.decisions.summary.text()
