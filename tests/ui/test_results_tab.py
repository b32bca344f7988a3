"""The Results tab through qtbot: a real run trained on generated photos, evaluated in a worker;
the baseline and tables shown, confusion cell to gallery, the misclassified order, the review
list beside the run, prediction of an image and of a folder, Cancel, and a run without a model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.formats import percent
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.results.metrics import Baseline, Scores, majority_baseline, score
from filterscope.core.results.rows import EvalRows
from filterscope.core.results.review import REVIEW_FILE
from filterscope.ui.state import AppState
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.widgets.eval_picker import PATH_ROLE
from filterscope.ui.widgets.eval_summary import EvalSummaryWidget
from filterscope.ui.widgets.results_gallery import ROW_ROLE, ResultsGalleryWidget
from PySide6.QtWidgets import QWidget

from tests.corpus import tree_digest
from tests.ui.screen import evaluate, larger_text, results_tab, shown

WAIT_MS = 120_000


@pytest.fixture
def tab(qtbot, run: Path) -> ResultsTab:
    """The tab on ``run`` (conftest's copy of the shared run, alone in its runs folder)."""
    return results_tab(qtbot, run.parent, (1300, 850))


def gallery_rows(gallery: ResultsGalleryWidget) -> list[int]:
    model = gallery.model()
    return [model.data(model.index(i), ROW_ROLE) for i in range(model.rowCount())]


def test_evaluate_shows_accuracy_next_to_baseline_and_fills_the_tables(qtbot, tab, run) -> None:
    assert tab.run_dir() == run
    ev = evaluate(qtbot, tab)
    assert ev.eval_set["subset"] == "test"  # the dataset has a test/ folder: the default
    text = tab.summary.headline.text()
    assert f"Accuracy {percent(ev.scores.accuracy)}" in text
    assert f"Accuracy {ev.intervals['accuracy'].describe()}</b>" in text  # "50.0 % (95 % CI 14.3–85.7 %)"
    assert f"balanced accuracy {ev.intervals['balanced_accuracy'].describe()}" in text
    assert f"macro-F1 {ev.intervals['macro_f1'].describe()}" in text
    assert f"majority baseline {percent(ev.baseline.accuracy)}" in text
    assert tab.summary.per_class.rowCount() == 2
    support = [int(tab.summary.per_class.item(r, 3).text()) for r in range(2)]
    assert support == [4, 3]
    assert tab.summary.confusion.rowCount() == tab.summary.confusion.columnCount() == 2
    saved = list((run / "evaluations").glob("*.json"))
    assert len(saved) == 1
    qtbot.waitUntil(lambda: tab.saved_list.count() == 1, timeout=WAIT_MS)


def test_a_confusion_cell_click_shows_exactly_its_images(qtbot, tab) -> None:
    ev = evaluate(qtbot, tab)
    matrix = ev.scores.confusion
    for t in range(2):
        for p in range(2):
            cell = tab.summary.confusion.item(t, p)
            assert int(cell.text()) == matrix[t, p]
            tab.summary.confusion.cellClicked.emit(t, p)
            rows = gallery_rows(tab.gallery)
            assert len(rows) == matrix[t, p]
            assert all(ev.rows.true[r] == t and ev.rows.predicted[r] == p for r in rows)
            confidence = ev.rows.confidence[rows]
            assert np.all(np.diff(confidence) <= 0)  # most confident first


def test_the_misclassified_gallery_is_most_confidently_wrong_first(qtbot, tab) -> None:
    ev = evaluate(qtbot, tab)
    rows = gallery_rows(tab.gallery)
    assert rows == ev.rows.wrong().tolist()
    assert all(ev.rows.true[r] != ev.rows.predicted[r] for r in rows)
    assert np.all(np.diff(ev.rows.confidence[rows]) <= 0)


def test_review_marks_go_beside_the_run_never_into_the_dataset(qtbot, tab, run, results_photos) -> None:
    before = tree_digest(results_photos)
    ev = evaluate(qtbot, tab)
    true, predicted = np.unravel_index(np.argmax(ev.scores.confusion), ev.scores.confusion.shape)
    tab.show_cell(int(true), int(predicted))
    tab.gallery.setCurrentIndex(tab.gallery.model().index(0))
    assert tab.review_button.isEnabled()
    row = tab.gallery.current_row()
    tab.review_button.click()
    marked = json.loads((run / REVIEW_FILE).read_text())["images"]
    assert [m["path"] for m in marked] == [ev.rows.paths[row]]
    assert marked[0]["labelled"] == ev.classes[ev.rows.true[row]]
    assert tab.review_button.text() == "Unmark"
    tab.review_button.click()
    assert json.loads((run / REVIEW_FILE).read_text())["images"] == []
    assert tree_digest(results_photos) == before


def test_an_earlier_evaluation_opens_without_recomputing(qtbot, tab) -> None:
    first = evaluate(qtbot, tab)
    qtbot.waitUntil(lambda: tab.saved_list.count() == 1, timeout=WAIT_MS)
    tab.summary.clear("")
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS) as blocker:
        tab.saved_list.itemClicked.emit(tab.saved_list.item(0))
    opened = blocker.args[0]
    assert opened.name == first.name
    assert opened.scores.accuracy == pytest.approx(first.scores.accuracy)
    assert f"Accuracy {percent(first.scores.accuracy)}" in tab.summary.headline.text()


def test_predict_one_image_draws_its_top_classes(qtbot, tab, results_photos) -> None:
    image = next((results_photos / "test" / "cat").iterdir())
    with qtbot.waitSignal(tab.predict.runner.sig_finished, timeout=WAIT_MS):
        tab.predict.predict_image(image)
    bars = tab.predict.bars()
    assert [c for c, _ in bars] and {c for c, _ in bars} <= {"cat", "dog"}
    assert bars[0][1] >= bars[-1][1]
    shown = tab.predict._shown  # the bars are the calibrated probabilities (the run is calibrated)
    assert shown.temperature != 1.0 and bars[0][1] == pytest.approx(float(shown.calibrated()[0].max()))
    assert f"the model's own {percent(shown.top(0)[0][1])}" in tab.predict.summary.text()
    assert tab.predict.chart.figure.axes and len(tab.predict.chart.figure.axes[0].patches) == len(bars)
    tab._state.evaluate.top_k = 1  # the Results settings' top-k: the control shows it, prediction uses it
    assert tab.predict.top_k.value() == 1
    with qtbot.waitSignal(tab.predict.runner.sig_finished, timeout=WAIT_MS):
        tab.predict.predict_image(image)
    assert len(tab.predict.bars()) == 1


def test_predict_a_folder_writes_the_csv_and_sums_it_up(qtbot, tab, results_photos, tmp_path) -> None:
    out = tmp_path / "preds.csv"
    with qtbot.waitSignal(tab.predict.runner.sig_finished, timeout=WAIT_MS):
        tab.predict.predict_folder(results_photos / "test", out)
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 7
    assert "Wrote" in tab.predict.summary.text() and "cat:" in tab.predict.summary.text()


def test_cancel_leaves_the_tab_usable(qtbot, tab) -> None:
    tab.evaluate_button.click()
    with qtbot.waitSignal(tab.runner.sig_cancelled, timeout=WAIT_MS):
        tab.job_panel.cancel_button.click()
    assert tab.evaluate_button.isEnabled()
    assert tab.job_panel.message() == "Cancelled"
    assert evaluate(qtbot, tab) is not None


def test_a_run_without_a_model_says_so(qtbot, tab, run) -> None:
    for name in ("best.keras", "last.keras"):
        (run / name).unlink(missing_ok=True)
    with qtbot.waitSignal(tab.runner.sig_failed, timeout=WAIT_MS) as blocker:
        tab.evaluate_button.click()
    assert blocker.args[0] in tab.summary.headline.text()
    assert "model" in blocker.args[0].lower()
    assert tab.evaluate_button.isEnabled()


def test_digit_classes_head_the_matrix_by_name_and_a_tied_baseline_says_so(qtbot, tmp_path) -> None:
    """Classes named 0-9 were numbered 1-10 (row "1 0", column 1 meaning class 0); ten classes
    of 500 training images each have no largest one."""
    digits = [str(d) for d in range(10)]
    true = np.repeat(np.arange(10, dtype=np.int32), 3)
    probabilities = np.eye(10, dtype=np.float32)[(true + 1) % 10]
    rows = EvalRows([str(tmp_path / f"{i}.png") for i in range(30)], true,
                    probabilities.argmax(axis=1).astype(np.int32), probabilities)
    ev = Evaluation(tmp_path, "best", 1, digits, {}, {}, rows, score(true, rows.predicted, digits),
                    majority_baseline(true, digits, np.full(10, 500)))
    summary = EvalSummaryWidget()
    qtbot.addWidget(summary)
    summary.show_evaluation(ev)
    columns = [summary.confusion.horizontalHeaderItem(i).text() for i in range(10)]
    heads = [summary.confusion.verticalHeaderItem(i).text() for i in range(10)]
    assert columns == heads == digits
    assert summary.confusion.item(0, 1).text() == "3"  # true 0, predicted 1: under the column "1"
    assert "the first of all 10 classes, which tie as largest in training" in summary.headline.text()
    # an evaluation saved before intervals shows its figures without one
    assert "Accuracy 0.0 %</b>" in summary.headline.text() and "CI" not in summary.headline.text()
    assert summary.per_class.item(0, 0).text() == "0.0 %"  # precision, as a percentage


def test_a_10000_image_gallery_makes_no_widget_per_image(qtbot, tmp_path) -> None:
    """The gallery's cost does not grow with the images: 10,000 rows are one array and one model,
    no widget or item per image; only the visible rows are asked for."""
    n = 10_000
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(3), n).astype(np.float32)
    true = rng.integers(0, 3, n).astype(np.int32)
    rows = EvalRows([str(tmp_path / f"missing-{i}.png") for i in range(n)], true,
                    probabilities.argmax(axis=1).astype(np.int32), probabilities)
    ev = Evaluation(tmp_path, "best", 1, ["a", "b", "c"], {}, {}, rows,
                    Scores(0.3, 0.3, [], np.zeros((3, 3), np.int64)), Baseline("a", 0.34, "set", n))
    gallery = ResultsGalleryWidget()
    qtbot.addWidget(gallery)
    gallery.resize(800, 600)
    gallery.show()
    widgets_before = len(gallery.findChildren(QWidget))
    gallery.set_rows(ev, rows.wrong())
    assert gallery.model().rowCount() == len(rows.wrong()) > 5000
    assert len(gallery.findChildren(QWidget)) == widgets_before
    first, last = gallery.visible_rows()
    assert 0 <= first <= last < 200  # one screen, not every row
    qtbot.waitUntil(lambda: not gallery.runner.is_running(), timeout=WAIT_MS)
    gallery.runner.cancel()


def test_larger_text_enlarges_the_captions_and_the_chart(qtbot, tab) -> None:
    grid, points = tab.gallery.gridSize(), tab.predict.chart.text_points()
    with larger_text() as bigger:
        qtbot.waitUntil(lambda: tab.gallery.gridSize().height() > grid.height(), timeout=5000)
        assert tab.predict.chart.text_points() > 1.8 * points
        assert tab.summary.confusion.font().pointSize() == bigger.pointSize()


def test_a_csv_inside_the_folder_predicted_is_refused(qtbot, tab, results_photos) -> None:
    before = tree_digest(results_photos)
    with qtbot.waitSignal(tab.predict.runner.sig_failed, timeout=WAIT_MS) as blocker:
        tab.predict.predict_folder(results_photos / "test", results_photos / "test" / "preds.csv")
    assert blocker.args[0] in tab.predict.summary.text()
    assert tab.predict.image_button.isEnabled()
    assert tree_digest(results_photos) == before


def test_another_folder_is_evaluated(qtbot, tab, results_photos) -> None:
    tab.picker.set_other_folder(str(results_photos / "val"))
    assert tab.picker.chosen_set() == (str(results_photos / "val"), None)
    ev = evaluate(qtbot, tab)
    assert ev.eval_set["kind"] == "folder" and ev.n_images == 6
    assert tab.summary.per_class.rowCount() == 2


def test_the_code_page_reproduces_the_evaluation(qtbot, tab) -> None:
    assert "Evaluate a run" in tab.code.toPlainText()
    ev = evaluate(qtbot, tab)
    tab.pages.setCurrentWidget(tab.code)
    code = tab.code.toPlainText()
    assert f"{ev.name}.csv" in code and "confusion_matrix" in code
    namespace: dict = {}
    exec(compile(code, "results-code", "exec"), namespace)
    assert namespace["accuracy"] == ev.scores.accuracy
    assert namespace["baseline"] == ev.baseline.accuracy
    assert namespace["matrix"].tolist() == ev.scores.confusion.tolist()


def test_a_restored_evaluation_reopens_from_its_file_before_and_after_the_tab_exists(
        qtbot, tab, run, results_photos) -> None:
    """A project's EvaluateSettings (put back with ``update``) choose the run and open the saved
    evaluation it names, read from disk, not computed again; evaluating reads the model."""
    settings = tab._state.evaluate
    first = evaluate(qtbot, tab)
    settings.subset = "val"  # a model field, not the control: evaluating reads it
    assert tab.picker.subset_combo.currentData() == "val"
    second = evaluate(qtbot, tab)
    assert second.eval_set["subset"] == "val" and first.eval_set["subset"] == "test"
    assert settings.evaluation == second.name != first.name
    saved = sorted((run / "evaluations").glob("*.json"))
    assert len(saved) == 2
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS) as blocker:
        settings.update({"subset": None, "evaluation": first.name})  # as a project is put back
    assert blocker.args[0].name == first.name and tab.evaluation().name == first.name
    assert f"Accuracy {percent(first.scores.accuracy)}" in tab.summary.headline.text()
    settings.model = "last"  # the user's choice: the evaluation shown is no longer open
    assert settings.evaluation == "" and tab.evaluation() is None

    state = AppState()  # a project opened before the Results tab is made
    state.set_runs_dir(run.parent)
    state.evaluate.update({"run": str(run), "model": "last", "data": str(results_photos),
                           "subset": "val", "evaluation": second.name})
    later = shown(qtbot, ResultsTab(state))
    qtbot.waitUntil(lambda: later.evaluation() is not None, timeout=WAIT_MS)
    assert later.evaluation().name == second.name and later.run_dir() == run
    picker = later.picker
    assert picker.run_combo.currentData() == str(run) and picker.model_combo.currentData() == "last"
    assert picker.subset_combo.currentData() == "val" and picker.data_edit.text() == str(results_photos)
    assert picker.chosen_set() == (str(results_photos), "val")
    qtbot.waitUntil(lambda: later.saved_list.count() == 2, timeout=WAIT_MS)
    assert later.saved_list.currentItem().text().startswith(second.name)
    assert sorted((run / "evaluations").glob("*.json")) == saved  # opened, not evaluated again
    assert state.evaluate.evaluation == second.name


def test_the_tta_check_box_reaches_evaluate_and_predict_and_the_summary_shows_the_gain(
        qtbot, tab, run, results_photos) -> None:
    from filterscope.core.results.tta import VIEWS, tta_sentence
    from PySide6.QtCore import Qt

    check = tab.picker.tta_check
    assert not check.isChecked() and tab._state.evaluate.tta is False  # off by default
    assert check.text() == "Test-time augmentation"
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton)
    assert tab._state.evaluate.tta is True  # the control sets the model
    with_tta = evaluate(qtbot, tab)
    assert with_tta.tta is not None and with_tta.tta["accuracy_with"] == with_tta.scores.accuracy
    line = tab.summary.tta
    sentence = tta_sentence(with_tta.tta)
    assert not line.isHidden() and line.text() == sentence[0].upper() + sentence[1:]
    assert f"{len(VIEWS)} views" in line.text() and "points)" in line.text()

    image = next((results_photos / "test" / "cat").iterdir())
    with qtbot.waitSignal(tab.predict.runner.sig_finished, timeout=WAIT_MS) as blocker:
        tab.predict.predict_image(image)
    assert blocker.args[0].tta is True and f"averaged over {len(VIEWS)} views" in tab.predict.summary.text()

    tab._state.evaluate.tta = False  # the model sets the control
    assert not check.isChecked()
    without = evaluate(qtbot, tab)
    assert without.tta is None and line.isHidden() and line.text() == ""
    with qtbot.waitSignal(tab.predict.runner.sig_finished, timeout=WAIT_MS) as blocker:
        tab.predict.predict_image(image)
    assert blocker.args[0].tta is False and "averaged over" not in tab.predict.summary.text()

    qtbot.waitUntil(lambda: tab.saved_list.count() == 2, timeout=WAIT_MS)

    def saved_item(name: str):
        (item,) = [it for it in map(tab.saved_list.item, range(2)) if Path(it.data(PATH_ROLE)).stem == name]
        return item

    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS) as blocker:
        tab.saved_list.itemClicked.emit(saved_item(with_tta.name))  # read back from its file
    assert blocker.args[0].tta == with_tta.tta
    assert not line.isHidden() and line.text() == sentence[0].upper() + sentence[1:]
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.saved_list.itemClicked.emit(saved_item(without.name))
    assert line.isHidden()
