"""Why this prediction, through qtbot: "Why?" in the Results gallery shows Grad-CAM of the
predicted and the true class beside the photo, and on the Predict page of the two most probable
classes; another image, cell or evaluation takes it off the screen; Cancel stops it; a model
without convolutions says so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.formats import percent
from filterscope.ui.tabs.results_tab import ResultsTab

from tests.results_runs import copy_run, favour_class
from tests.ui.screen import evaluate, results_tab

WAIT_MS = 120_000


@pytest.fixture
def tab(qtbot, results_conv_run: Path, tmp_path: Path) -> ResultsTab:
    """The Results tab on a copy of the ConvNet run (masked, 32 x 32) made to call every photo a dog,
    so the gallery has misclassified cats whatever one epoch of training learnt."""
    run = copy_run(results_conv_run, tmp_path / "runs" / results_conv_run.name)
    favour_class(run, 1)
    return results_tab(qtbot, run.parent, (1280, 720))


def _explain_first(qtbot, tab: ResultsTab) -> int:
    """Select the gallery's first image, click Why? and wait for the heatmaps; its row."""
    tab.gallery.setCurrentIndex(tab.gallery.model().index(0))
    assert tab.images.why_button.isEnabled()
    with qtbot.waitSignal(tab.images.why.runner.sig_finished, timeout=WAIT_MS):
        tab.images.why_button.click()
    return tab.gallery.current_row()


def test_why_in_the_gallery_shows_the_predicted_and_the_true_class(qtbot, tab) -> None:
    ev = evaluate(qtbot, tab)
    assert len(ev.rows.wrong()) > 0  # the gallery opens on the misclassified images
    why = tab.images.why
    assert not why.isVisible() and not tab.images.why_button.isEnabled()  # nothing selected yet
    row = _explain_first(qtbot, tab)
    predicted, true = ev.classes[ev.rows.predicted[row]], ev.classes[ev.rows.true[row]]
    assert predicted != true and why.isVisible()
    photo, first, second = why.titles()
    assert photo == Path(ev.rows.paths[row]).name
    # Titled with the calibrated probability the gallery's caption shows; fed as evaluation fed it,
    # the model answers the probability the evaluation recorded.
    assert first == f"predicted:\n{predicted} ({percent(ev.calibrated_confidence[row])})"
    assert why.explanation().cams[0].probability == pytest.approx(float(ev.rows.confidence[row]), abs=1e-5)
    assert second.startswith(f"true:\n{true} (")
    cams = why.explanation().cams
    assert [c.class_name for c in cams] == [predicted, true]
    assert all(0.0 <= c.heatmap.min() and c.heatmap.max() <= 1.0 for c in cams)
    assert len(why.chart.figure.axes) == 3 and all(a.images for a in why.chart.figure.axes)


def test_another_image_cell_or_evaluation_clears_the_explanation(qtbot, tab) -> None:
    evaluate(qtbot, tab)
    why = tab.images.why
    _explain_first(qtbot, tab)
    tab.gallery.setCurrentIndex(tab.gallery.model().index(1))  # another image
    assert not why.isVisible() and why.titles() == [] and why.explanation() is None

    _explain_first(qtbot, tab)
    tab.show_cell(0, 0)  # another cell
    assert not why.isVisible() and why.titles() == []

    qtbot.waitUntil(lambda: tab.saved_list.count() == 1, timeout=WAIT_MS)
    tab.images.show_wrong()
    _explain_first(qtbot, tab)
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.saved_list.itemClicked.emit(tab.saved_list.item(0))  # another (the saved) evaluation
        assert not why.isVisible() and why.titles() == []  # at once, not when it has loaded
    assert why.explanation() is None and why.titles() == []


def test_cancel_stops_the_explanation(qtbot, tab) -> None:
    evaluate(qtbot, tab)
    tab.gallery.setCurrentIndex(tab.gallery.model().index(0))
    why = tab.images.why
    tab.images.why_button.click()
    with qtbot.waitSignal(why.runner.sig_cancelled, timeout=WAIT_MS):
        why.job_panel.cancel_button.click()
    assert why.explanation() is None and why.titles() == []
    assert why.job_panel.message() == "Cancelled"


def test_why_on_the_predict_page_shows_the_two_most_probable_classes(qtbot, tab, results_photos) -> None:
    predict = tab.predict
    assert not predict.why_button.isEnabled()
    image = sorted((results_photos / "test" / "dog").iterdir())[0]
    with qtbot.waitSignal(predict.runner.sig_finished, timeout=WAIT_MS):
        predict.predict_image(image)
    bars = predict.bars()
    assert predict.why_button.isEnabled()
    with qtbot.waitSignal(predict.why.runner.sig_finished, timeout=WAIT_MS):
        predict.why_button.click()
    photo, first, second = predict.why.titles()
    assert photo == image.name
    assert first == f"predicted:\n{bars[0][0]} ({percent(bars[0][1])})"
    others = {"cat", "dog"} - {bars[0][0]}
    assert second.startswith(f"2nd most probable:\n{others.pop()} (")
    heat = [c.heatmap for c in predict.why.explanation().cams]
    assert all(np.isfinite(h).all() and 0.0 <= h.min() and h.max() <= 1.0 for h in heat)

    other = sorted((results_photos / "test" / "cat").iterdir())[0]
    with qtbot.waitSignal(predict.runner.sig_finished, timeout=WAIT_MS):
        predict.predict_image(other)  # another image: the first one's explanation goes at once
        assert predict.why.titles() == [] and not predict.why.isVisible()
        assert not predict.why_button.isEnabled()


def test_a_model_without_convolutions_says_so(qtbot, run, results_photos) -> None:
    tab = results_tab(qtbot, run.parent, (1280, 720))  # conftest's copy of the logistic run
    image = sorted((results_photos / "test" / "cat").iterdir())[0]
    with qtbot.waitSignal(tab.predict.runner.sig_finished, timeout=WAIT_MS):
        tab.predict.predict_image(image)
    with qtbot.waitSignal(tab.predict.why.runner.sig_failed, timeout=WAIT_MS):
        tab.predict.why_button.click()
    assert "no convolution layer" in tab.predict.why.message.text()
    assert tab.predict.why.titles() == [] and tab.predict.why_button.isEnabled()
