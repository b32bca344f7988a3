"""TensorFlow fails to load: every tab that needs it says why and stays usable.

The one failure injected is TensorFlow's import (``tf_runtime._import``, which every job that
needs TensorFlow goes through: ``load_tensorflow``, the training pipeline, opening a model);
the tabs, their runners and the core jobs are the real ones. The Filters tab never loads
TensorFlow (its convolutions are numpy), so it is not here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from filterscope.core.training import tf_runtime
from filterscope.core.visualize.model_source import VGG16_NAME
from filterscope.ui.state import AppState
from filterscope.ui.tabs.augment_tab import AugmentTab
from filterscope.ui.tabs.visualize_tab import VisualizeTab

from tests.ui.screen import idle, results_tab, shown, train_tab

REASON = "libtensorflow_cc.so.2: cannot open shared object file: No such file or directory"
WAIT_MS = 60_000


@pytest.fixture
def no_tensorflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import tensorflow`` fails as it does on a machine with a broken TensorFlow."""

    def broken_import():
        raise ImportError(REASON)

    monkeypatch.setattr(tf_runtime, "_import", broken_import)


def test_the_train_tab_says_why_and_can_still_start_and_retry(qtbot, no_tensorflow, mnist, tmp_path,
                                                              monkeypatch) -> None:
    tab = train_tab(qtbot, mnist, tmp_path / "runs")
    with qtbot.waitSignal(tab.tf_status.sig_failed, timeout=WAIT_MS):
        tab.show()
    assert tab.tf_status.label.text() == f"TensorFlow could not be loaded: {REASON}"
    assert tab.tf_status.retry_button.isVisible()
    qtbot.waitUntil(lambda: idle(tab), timeout=WAIT_MS)
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()

    with qtbot.waitSignal(tab.runner.sig_failed, timeout=WAIT_MS):
        tab.start_button.click()  # training needs TensorFlow too: it fails the same way, and says so
    assert tab.result_label.text() == f"Training failed: {REASON}"
    assert tab.job_panel.message() == f"Failed: {REASON}"
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()
    assert not tab.job_panel.cancel_button.isVisible()  # no busy indicator left behind
    assert list((tmp_path / "runs").glob("*")) == []

    monkeypatch.undo()  # TensorFlow repaired: Try again loads it
    with qtbot.waitSignal(tab.tf_status.sig_loaded, timeout=WAIT_MS):
        tab.tf_status.retry_button.click()
    assert tab.tf_status.label.text().startswith("TensorFlow 2.")
    assert not tab.tf_status.retry_button.isVisible()


def test_the_visualise_tab_says_why_and_a_model_can_still_be_chosen(qtbot, no_tensorflow, tmp_path) -> None:
    state = AppState()
    state.set_runs_dir(tmp_path / "runs")
    tab = VisualizeTab(state)
    shown(qtbot, tab, (1300, 850), until=tab.tf_status.sig_failed, timeout=WAIT_MS)
    assert tab.tf_status.isVisible() and tab.tf_status.retry_button.isVisible()
    assert tab.tf_status.label.text() == f"TensorFlow could not be loaded: {REASON}"
    with qtbot.waitSignal(tab.load_runner.sig_failed, timeout=WAIT_MS):
        tab.picker.choose(VGG16_NAME, "random")
        assert tab.picker.status.text() == "Loading the model…"
    assert tab.picker.status.text() == f"Not loaded: {REASON}."
    qtbot.waitUntil(lambda: idle(tab), timeout=WAIT_MS)
    assert tab.picker.combo.isEnabled() and tab.picker.open_button.isEnabled()
    assert not tab.controls.start_button.isEnabled()  # no model to paint with, and no busy state
    assert not tab.job_panel.cancel_button.isVisible()
    with qtbot.waitSignal(tab.tf_status.sig_failed, timeout=WAIT_MS):
        tab.tf_status.retry_button.click()  # tried again, and said again


def test_the_augment_tabs_model_view_says_why_and_the_preview_still_works(qtbot, no_tensorflow,
                                                                          mnist) -> None:
    state = AppState()
    tab = shown(qtbot, AugmentTab(state), (1200, 800))
    with qtbot.waitSignal(tab.model_view.runner.sig_failed, timeout=WAIT_MS), \
            qtbot.waitSignal(tab.sig_previewed, timeout=WAIT_MS):
        state.set_dataset(mnist)
    assert tab.model_view.caption.text() == f"What the model sees could not be shown: {REASON}"
    assert tab.previews.grid.count() == tab._state.augment.versions  # imgaug's preview needs no TensorFlow
    qtbot.waitUntil(lambda: idle(tab), timeout=WAIT_MS)
    with qtbot.waitSignal(tab.model_view.runner.sig_failed, timeout=WAIT_MS):
        tab.reroll_button.click()  # every change tries again
    assert tab.model_view.caption.text() == f"What the model sees could not be shown: {REASON}"


def test_the_results_tab_says_why_evaluating_and_predicting_fail(qtbot, run: Path, results_photos: Path,
                                                                 no_tensorflow) -> None:
    tab = results_tab(qtbot, run.parent, (1300, 850), timeout=WAIT_MS)
    with qtbot.waitSignal(tab.runner.sig_failed, timeout=WAIT_MS):
        tab.evaluate_button.click()
    assert tab.summary.headline.text() == REASON
    assert tab.job_panel.message() == f"Failed: {REASON}"
    assert tab.evaluate_button.isEnabled()
    image = next(results_photos.rglob("*.png"))
    with qtbot.waitSignal(tab.predict.runner.sig_failed, timeout=WAIT_MS):
        tab.predict.predict_image(image)
    assert tab.predict.summary.text() == REASON
    qtbot.waitUntil(lambda: idle(tab), timeout=WAIT_MS)
    assert tab.predict.image_button.isEnabled()
