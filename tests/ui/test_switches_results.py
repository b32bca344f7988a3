"""The Results tab after another run or model: its evaluation, report line and Predict page.

Switching is tested, not only the first load: each test shows something for a first choice,
switches, and checks that none of it remains on screen (result, failure or text)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.widgets.predict_panel import ERROR_STYLE

from tests.ui.screen import evaluate, results_tab

WAIT_MS = 120_000


@pytest.fixture
def results(qtbot, two_runs) -> ResultsTab:
    return results_tab(qtbot, two_runs[0].parent, (1300, 850))


def choose_run(qtbot, tab: ResultsTab, run: Path) -> None:
    """Pick ``run`` in the run combo, as a user does, and let its saved evaluations be listed."""
    combo = tab.picker.run_combo
    index = combo.findData(str(run))
    assert index >= 0 and index != combo.currentIndex()
    with qtbot.waitSignal(tab.list_runner.sig_finished, timeout=WAIT_MS):
        combo.setCurrentIndex(index)
    assert tab.run_dir() == run


def test_another_run_clears_the_evaluation_of_the_first(qtbot, results, two_runs) -> None:
    first, second = two_runs
    choose_run(qtbot, results, first)
    evaluate(qtbot, results)
    assert "Accuracy" in results.summary.headline.text()
    assert results.gallery.model().rowCount() > 0 and results.wrong_button.isEnabled()
    assert "run-a" in results.code.toPlainText()
    choose_run(qtbot, results, second)
    assert results.evaluation() is None
    assert "Accuracy" not in results.summary.headline.text()
    assert "run-b" in results.summary.headline.text()
    assert results.summary.per_class.rowCount() == 0 and results.summary.confusion.rowCount() == 0
    assert results.gallery.model().rowCount() == 0
    assert "Misclassified" not in results.gallery_title.text()
    assert not results.wrong_button.isEnabled() and not results.review_button.isEnabled()
    assert "run-a" not in results.code.toPlainText()
    assert results.saved_list.count() == 0  # run-b has no evaluation of its own yet


def test_another_model_of_the_same_run_clears_the_evaluation(qtbot, results) -> None:
    evaluate(qtbot, results)
    assert results.evaluation().model == "best"
    results.picker.model_combo.setCurrentText("last")
    assert results.evaluation() is None and "Accuracy" not in results.summary.headline.text()


def test_a_restored_run_and_evaluation_replace_the_ones_shown(qtbot, results, two_runs, tmp_path) -> None:
    """A project put back (``update``) switches the run and opens its saved evaluation from its
    file; one naming no run (a new project) leaves none chosen and nothing shown; a run in
    a runs folder set afterwards opens once that folder is listed."""
    first, second = two_runs
    settings = results._state.evaluate
    assert results.run_dir() == second == Path(settings.run)  # the newest, chosen when listed
    evaluate(qtbot, results)
    name = results.evaluation().name
    assert settings.evaluation == name
    choose_run(qtbot, results, first)
    assert settings.evaluation == "" and results.evaluation() is None
    with qtbot.waitSignal(results.runner.sig_finished, timeout=WAIT_MS):
        settings.update({"run": str(second), "evaluation": name})
    assert results.run_dir() == second and results.evaluation().name == name
    assert "run-b" in results.code.toPlainText() and "Accuracy" in results.summary.headline.text()
    settings.update({"run": "", "evaluation": ""})  # File > New Project: no run chosen
    qtbot.waitUntil(lambda: results.evaluation() is None, timeout=WAIT_MS)
    assert results.run_dir() is None and results.picker.run_combo.currentIndex() == -1  # "Choose a run"
    assert "Accuracy" not in results.summary.headline.text() and not results.evaluate_button.isEnabled()
    choose_run(qtbot, results, first)  # the user's choice
    assert settings.run == str(first) and results.evaluate_button.isEnabled()
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(second, elsewhere / "run-c")  # with its evaluations
    settings.update({"run": str(elsewhere / "run-c"), "model": "last", "evaluation": name})
    qtbot.waitUntil(lambda: not results.runs_runner.is_running(), timeout=WAIT_MS)
    assert results.evaluation() is None  # not listed yet: waits for it
    with qtbot.waitSignal(results.runner.sig_finished, timeout=WAIT_MS):
        results._state.set_runs_dir(elsewhere)  # the project's runs folder comes after its settings
    assert results.run_dir() == elsewhere / "run-c" and results.evaluation().name == name
    assert results.picker.model_combo.currentData() == "last" and settings.evaluation == name


def test_relisting_the_runs_keeps_the_evaluation_of_the_run_still_chosen(qtbot, results) -> None:
    evaluate(qtbot, results)
    shown = results.evaluation()
    with qtbot.waitSignal(results.runs_runner.sig_finished, timeout=WAIT_MS):
        results._state.run_saved(results.run_dir().parent / "run-elsewhere")  # another run saved
    assert results.evaluation() is shown and "Accuracy" in results.summary.headline.text()


def test_an_evaluation_still_running_for_the_first_run_never_shows_beside_the_second(
        qtbot, results, two_runs) -> None:
    first, second = two_runs
    choose_run(qtbot, results, first)
    results.evaluate_button.click()
    assert results.runner.is_running()
    choose_run(qtbot, results, second)
    assert not results.runner.is_running()  # the first run's job was cancelled
    qtbot.waitUntil(lambda: not results.list_runner.is_running(), timeout=WAIT_MS)
    qtbot.wait(200)
    assert results.evaluation() is None and "Accuracy" not in results.summary.headline.text()
    assert results.evaluate_button.isEnabled()


def test_the_report_box_forgets_the_first_runs_report(qtbot, results, two_runs, tmp_path) -> None:
    first, second = two_runs
    choose_run(qtbot, results, first)
    export = results.report_export
    with qtbot.waitSignal(export.sig_exported, timeout=WAIT_MS):
        export.export(tmp_path / "a.html")
    assert export.result_label.text().startswith("Wrote a.html: accuracy ")
    choose_run(qtbot, results, second)
    assert "a.html" not in export.result_label.text() and "%" not in export.result_label.text()
    with qtbot.waitSignal(export.sig_exported, timeout=WAIT_MS):
        export.export(tmp_path / "b.html")
    assert export.result_label.text().startswith("Wrote b.html")
    export.set_run(second, "best")  # the same run again (runs listed anew): the result stays
    assert export.result_label.text().startswith("Wrote b.html")


def test_a_report_still_being_written_for_the_first_run_never_shows_beside_the_second(
        qtbot, results, two_runs, tmp_path) -> None:
    first, second = two_runs
    choose_run(qtbot, results, first)
    export = results.report_export
    export.export(tmp_path / "a.html", tmp_path / "a.pdf")
    choose_run(qtbot, results, second)
    assert not export.runner.is_running()
    assert "run-a" in export.result_label.text() and "not written" in export.result_label.text()
    qtbot.wait(500)
    assert "Wrote" not in export.result_label.text()
    assert export.export_button.isEnabled()


def test_the_predict_page_forgets_a_failure_when_another_run_is_chosen(
        qtbot, results, two_runs, results_photos) -> None:
    first, second = two_runs
    choose_run(qtbot, results, first)
    predict = results.predict
    with qtbot.waitSignal(predict.runner.sig_failed, timeout=WAIT_MS) as blocker:
        predict.predict_folder(results_photos / "test", results_photos / "test" / "preds.csv")
    reason = blocker.args[0]
    assert reason in predict.summary.text() and predict.summary.styleSheet() == ERROR_STYLE
    assert reason in predict.job_panel.message()
    choose_run(qtbot, results, second)
    assert reason not in predict.summary.text() and predict.summary.styleSheet() != ERROR_STYLE
    assert reason not in predict.job_panel.message()
    assert "run-b" in predict.summary.text()


def test_the_predict_page_forgets_a_failure_after_a_good_prediction(
        qtbot, results, results_photos, tmp_path) -> None:
    predict = results.predict
    with qtbot.waitSignal(predict.runner.sig_failed, timeout=WAIT_MS) as blocker:
        predict.predict_folder(results_photos / "test", results_photos / "test" / "preds.csv")
    reason = blocker.args[0]
    image = next((results_photos / "test" / "cat").iterdir())
    with qtbot.waitSignal(predict.runner.sig_finished, timeout=WAIT_MS):
        predict.predict_image(image)
    assert predict.bars()
    assert reason not in predict.summary.text() and predict.summary.styleSheet() != ERROR_STYLE
    assert reason not in predict.job_panel.message() and "Failed" not in predict.job_panel.message()


def test_the_predict_page_forgets_the_first_runs_chart(qtbot, results, two_runs, results_photos,
                                                       tmp_path) -> None:
    first, second = two_runs
    choose_run(qtbot, results, first)
    predict = results.predict
    image = next((results_photos / "test" / "dog").iterdir())
    with qtbot.waitSignal(predict.runner.sig_finished, timeout=WAIT_MS):
        predict.predict_image(image)
    assert predict.bars() and predict.chart.figure.axes
    assert image.name in predict.summary.text()
    choose_run(qtbot, results, second)
    assert not predict.bars() and not predict.chart.figure.axes
    assert image.name not in predict.summary.text()
