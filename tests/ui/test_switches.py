"""Switching is tested, not only the first load: after another run, dataset or image is chosen,
nothing on screen may still show the previous one's result, failure or text.

Each test shows something for a first choice, switches, and checks that none of it remains."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.source import BuiltinSource, FolderSource, Source
from filterscope.core.data.sources import open_source as open_dataset
from filterscope.app import create_window
from filterscope.ui.main_window import MainWindow
from filterscope.ui.presentation import refresh_sheet_fonts
from filterscope.ui.state import AppState
from filterscope.ui.tabs.augment_tab import AugmentTab
from filterscope.ui.tabs.dataset_tab import DatasetTab
from filterscope.ui.tabs.filters_tab import FiltersTab
from filterscope.ui.tabs.mask_tab import MaskTab
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.tabs.train_tab import TrainTab
from filterscope.ui.tabs.visualize_tab import VisualizeTab
from filterscope.ui.widgets.predict_panel import ERROR_STYLE
from filterscope.workers import JobRunner
from PIL import Image
from PySide6.QtCore import QPoint, QSettings
from PySide6.QtWidgets import QApplication, QGraphicsView

from tests.results_runs import copy_run, make_photos
from tests.split_tree import damage_bodies, make_split_tree

WAIT_MS = 120_000


@pytest.fixture
def window(qtbot, settings: QSettings, data_dir) -> MainWindow:
    """The real window on its first start (the built-in digits and the guide)."""
    window = create_window(settings)
    window.projects.dialogs.recover = lambda _path, _when: False  # no modal box in tests
    qtbot.addWidget(window, before_close_func=lambda w: qtbot.waitUntil(
        lambda: not any(r.is_running() for r in w.findChildren(JobRunner)), timeout=WAIT_MS))
    window.show()
    qtbot.waitUntil(lambda: window.state.dataset is not None, timeout=WAIT_MS)
    return window


def open_source(qtbot, window: MainWindow, source: Source) -> None:
    with qtbot.waitSignal(window.state.sig_dataset_changed, timeout=WAIT_MS):
        window.findChild(DatasetTab).open_source(source)


@pytest.fixture
def two_runs(results_run: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of the shared run in one runs folder."""
    runs = tmp_path / "runs"
    return copy_run(results_run, runs / "run-a"), copy_run(results_run, runs / "run-b")


@pytest.fixture
def results(qtbot, two_runs) -> ResultsTab:
    state = AppState()
    state.set_runs_dir(two_runs[0].parent)
    tab = ResultsTab(state)
    qtbot.addWidget(tab)
    tab.resize(1300, 850)
    with qtbot.waitSignal(tab.list_runner.sig_finished, timeout=WAIT_MS):
        tab.show()
    return tab


def choose_run(qtbot, tab: ResultsTab, run: Path) -> None:
    """Pick ``run`` in the run combo, as a user does, and let its saved evaluations be listed."""
    combo = tab.picker.run_combo
    index = combo.findData(str(run))
    assert index >= 0 and index != combo.currentIndex()
    with qtbot.waitSignal(tab.list_runner.sig_finished, timeout=WAIT_MS):
        combo.setCurrentIndex(index)
    assert tab.run_dir() == run


def evaluate(qtbot, tab: ResultsTab) -> None:
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.evaluate_button.click()


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


def test_getting_started_follows_the_dataset_open_now(qtbot, window, tmp_path) -> None:
    guide = window.guide
    assert guide.isVisible() and "MNIST digits" in guide.text.text()
    guide.go_to("Mask")
    assert "need no mask" in guide.text.text()
    open_source(qtbot, window, FolderSource(str(make_photos(tmp_path / "my-photos"))))
    assert "need no mask" not in guide.text.text() and "threshold" in guide.text.text()
    for step, button in guide.buttons.items():
        assert "MNIST" not in button.toolTip() and "digits take" not in button.toolTip(), step
        assert "need no mask" not in button.toolTip(), step
    guide.go_to("Dataset")
    text = guide.text.text()
    assert "MNIST" not in text and "my-photos" in text and "29 images in 2 classes" in text
    guide.go_to("Train")
    assert "on the digits" not in guide.text.text() and "photo-convnet" in guide.text.text()
    open_source(qtbot, window, BuiltinSource("mnist"))  # and back: the digits' advice again
    assert "on the digits" in guide.text.text()
    guide.go_to("Dataset")
    assert "my-photos" not in guide.text.text() and "MNIST digits" in guide.text.text()


def test_labels_with_a_style_sheet_follow_presentation_mode_on_and_off(qtbot, window) -> None:
    """Coloured and bold labels (a kernel error, a failed prediction, an evaluation's
    warnings) take the text size of the mode switched to, never keep the previous one's."""
    filters, results = window.findChild(FiltersTab), window.findChild(ResultsTab)
    labels = [filters.error_label, filters.zero_label, results.summary.warnings]
    results.predict._fail("model not found")
    labels.append(results.predict.summary)
    assert all(label.styleSheet() for label in labels)
    normal = window.font().pointSizeF()

    def sizes() -> list[float]:
        return [label.font().pointSizeF() for label in labels]

    assert sizes() == [normal] * len(labels)
    window.set_presenting(True)
    presenting = window.font_size() * window.presentation.factor()
    qtbot.waitUntil(lambda: window.font().pointSizeF() == presenting, timeout=5000)
    assert sizes() == [presenting] * len(labels)
    window.set_presenting(False)
    qtbot.waitUntil(lambda: window.font().pointSizeF() == normal, timeout=5000)
    assert sizes() == [normal] * len(labels)
    actions = {a.text(): a for a in window.actions()}
    app_font = QApplication.font()
    try:
        for _ in range(2):
            actions["Larger text"].trigger()
        bigger = window.font_size()
        qtbot.waitUntil(lambda: window.font().pointSizeF() == bigger > normal, timeout=5000)
        assert sizes() == [bigger] * len(labels)
        for _ in range(2):
            actions["Smaller text"].trigger()
        qtbot.waitUntil(lambda: window.font().pointSizeF() == normal, timeout=5000)
        assert sizes() == [normal] * len(labels)
    finally:
        QApplication.setFont(app_font)


def test_the_filters_status_forgets_a_bad_image_once_a_good_one_loads(qtbot, window, tmp_path
                                                                      ) -> None:
    tab = window.findChild(FiltersTab)
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.layer is not None, timeout=WAIT_MS)
    bad, good = tmp_path / "notes.png", tmp_path / "leaf.png"
    bad.write_text("not an image")
    Image.new("RGB", (40, 30), (20, 160, 40)).save(good)
    status = window.statusBar()
    with qtbot.waitSignal(tab.sig_status, timeout=WAIT_MS):
        tab.source.open_file(bad)
    assert "notes.png" in status.currentMessage() and "Cannot" in tab.source.source_label.text()
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS):
        tab.source.open_file(good)
    assert "notes.png" not in status.currentMessage() and "Cannot" not in status.currentMessage()
    assert "leaf.png" in tab.source.source_label.text()
    with qtbot.waitSignal(tab.sig_status, timeout=WAIT_MS):
        tab.source.open_file(bad)
    tab.source.picker.class_combo.setCurrentIndex(3)  # a built-in digit, after the bad file
    assert "(a 3)" in tab.source.source_label.text()
    assert "notes.png" not in status.currentMessage() and "Cannot" not in status.currentMessage()


@pytest.fixture
def train(qtbot, two_runs) -> TrainTab:
    """The Train tab listing run-a and run-b (without a model: it shows no examples)."""
    (two_runs[1] / "best.keras").unlink()
    tab = TrainTab(AppState())
    qtbot.addWidget(tab)
    tab.runs_edit.setText(str(two_runs[0].parent))
    with qtbot.waitSignal(tab.runs_runner.sig_finished, timeout=WAIT_MS):
        tab.runs_edit.editingFinished.emit()
    assert tab.runs_list.count() == 2
    return tab


def pick(tab: TrainTab, name: str) -> None:
    rows = [r for r in range(tab.runs_list.count()) if tab.runs_list.item(r).data(256) == name]
    tab.runs_list.setCurrentRow(rows[0])


def test_a_run_picked_in_the_train_tab_shows_its_own_result_and_examples(qtbot, train) -> None:
    with qtbot.waitSignal(train.examples_runner.sig_finished, timeout=WAIT_MS):
        pick(train, "run-a")
    assert train.examples.tiles and train.curves.epochs_drawn() == 1
    assert train.result_label.text().startswith("run-a: best validation accuracy")
    pick(train, "run-b")
    assert not train.examples.tiles  # run-b has no model to predict with
    assert "run-b" in train.result_label.text() and "run-a" not in train.result_label.text()


def test_the_examples_fit_their_captions_after_the_text_size_changes(qtbot, train) -> None:
    """Presentation mode (or Larger text) switched on, then off: no caption of the examples is
    cut, at either size (at 175 % the examples become a page beside the summary)."""
    train.resize(1200, 800)
    train.show()
    with qtbot.waitSignal(train.examples_runner.sig_finished, timeout=WAIT_MS):
        pick(train, "run-a")
    strip = train.examples

    def cut() -> list[str]:
        viewport = strip.viewport()
        found = []
        for caption in strip.tiles:
            bottom = caption.mapTo(viewport, QPoint(0, caption.height())).y()
            if caption.height() < caption.heightForWidth(caption.width()) or bottom > viewport.height():
                found.append(f"{caption.text()!r}: {caption.height()} < "
                             f"{caption.heightForWidth(caption.width())} or {bottom} > {viewport.height()}")
        return found

    def settled() -> list[str]:
        try:
            qtbot.waitUntil(lambda: not cut(), timeout=3000)
        except qtbot.TimeoutError:
            pass
        return cut()

    assert not settled()
    small = strip.minimumHeight()
    old = QApplication.font()
    bigger = QApplication.font()
    bigger.setPointSizeF(old.pointSizeF() * 1.75)
    caption = strip.tiles[0]
    QApplication.setFont(bigger)
    refresh_sheet_fonts()  # as the main window does after every change of the text size
    try:
        qtbot.waitUntil(lambda: caption.font().pointSizeF() == bigger.pointSizeF(), timeout=5000)
        qtbot.waitUntil(lambda: train.details.indexOf(train.examples_page) >= 0, timeout=5000)
        train.details.setCurrentWidget(train.examples_page)  # large text: a page of its own
        qtbot.waitUntil(strip.isVisible, timeout=5000)
        assert not settled()
    finally:
        QApplication.setFont(old)
        refresh_sheet_fonts()
    qtbot.waitUntil(lambda: caption.font().pointSizeF() == old.pointSizeF(), timeout=5000)
    qtbot.waitUntil(lambda: train.details.indexOf(train.examples_page) < 0, timeout=5000)
    qtbot.waitUntil(strip.isVisible, timeout=5000)
    assert not settled()
    qtbot.waitUntil(lambda: strip.minimumHeight() == small, timeout=5000)  # not the large one's


def test_examples_still_being_made_for_the_first_run_never_show_beside_the_second(qtbot, train
                                                                                   ) -> None:
    pick(train, "run-a")
    assert train.examples_runner.is_running()
    with qtbot.waitSignal(train.examples_runner.sig_job_ended, timeout=WAIT_MS):
        pick(train, "run-b")
    qtbot.wait(100)
    assert not train.examples.tiles


def test_another_runs_folder_forgets_the_run_picked_in_the_first(qtbot, train, tmp_path) -> None:
    with qtbot.waitSignal(train.examples_runner.sig_finished, timeout=WAIT_MS):
        pick(train, "run-a")
    train.runs_edit.setText(str(tmp_path / "elsewhere"))
    with qtbot.waitSignal(train.runs_runner.sig_finished, timeout=WAIT_MS):
        train.runs_edit.editingFinished.emit()
    assert train.runs_list.count() == 0
    assert train.curves.epochs_drawn() == 0 and not train.examples.tiles
    assert "run-a" not in train.result_label.text()


def dataset(source: Source):
    return open_dataset(source, report=NullReport(), cancel=threading.Event())


def blank(view: QGraphicsView) -> bool:
    """True when the view's pixels on screen are all one colour (no picture in it)."""
    image = view.viewport().grab().toImage()
    pixels = np.array([[image.pixel(x, y) for x in range(0, image.width(), 3)]
                       for y in range(0, image.height(), 3)])
    return len(np.unique(pixels)) == 1


@pytest.fixture
def visualise(qtbot, data_dir, mnist_run: Path) -> VisualizeTab:
    """The Visualise tab on the MNIST run, the built-in digits open."""
    state = AppState()
    state.set_runs_dir(mnist_run.parent)
    state.set_dataset(dataset(BuiltinSource("mnist")))
    tab = VisualizeTab(state)
    qtbot.addWidget(tab)
    tab.resize(1300, 850)
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.show()
    assert tab.layers.select("block1_conv")
    return tab


def test_another_model_forgets_the_first_models_picture_maps_and_weights(qtbot, visualise) -> None:
    tab = visualise
    tab.controls.steps_spin.setValue(10)
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.controls.start_button.click()
    assert tab.ascent.picture() is not None and tab.controls.save_button.isEnabled()
    assert not blank(tab.ascent.view)
    with qtbot.waitSignal(tab.probe.probe_runner.sig_finished, timeout=WAIT_MS):
        tab.pages.setCurrentWidget(tab.probe)
    assert "Feature maps of block1_conv " in tab.probe.maps_title.text() and tab.probe.cams_shown()
    with qtbot.waitSignal(tab.weights_runner.sig_finished, timeout=WAIT_MS):
        tab.pages.setCurrentWidget(tab.weights)
    assert tab.weights.caption.text().startswith("block1_conv:")
    tab.pages.setCurrentWidget(tab.ascent)  # the other pages are not recomputed while hidden
    tab.picker.size_spin.setValue(32)
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.picker.choose("vgg16", "random")
    assert tab.ascent.picture() is None and not tab.controls.save_button.isEnabled()
    assert blank(tab.ascent.view) and "block1_conv filter" not in tab.ascent.caption.text()
    assert "Feature maps of block1_conv " not in tab.probe.maps_title.text()
    assert tab.probe.cams_shown() == 0 and not any(c.text() for _p, c in tab.probe.cams)
    assert not tab.weights.caption.text().startswith("block1_conv:")
    tab.pages.setCurrentWidget(tab.weights)
    assert blank(tab.weights.view) or tab.weights_runner.is_running()
    qtbot.waitUntil(lambda: not tab.weights_runner.is_running(), timeout=WAIT_MS)


def test_another_dataset_forgets_the_first_datasets_feature_maps(qtbot, visualise, tmp_path) -> None:
    tab = visualise
    with qtbot.waitSignal(tab.probe.probe_runner.sig_finished, timeout=WAIT_MS):
        tab.pages.setCurrentWidget(tab.probe)
    assert "mnist5k/" in tab.probe.maps_title.text() and tab.probe.cams_shown()
    tab.hide()  # a hidden tab computes nothing: only the switch acts on the page
    tab._state.set_dataset(dataset(FolderSource(str(make_photos(tmp_path / "photos")))))
    assert "mnist5k/" not in tab.probe.maps_title.text()
    assert tab.probe.cams_shown() == 0 and not any(c.text() for _p, c in tab.probe.cams)
    assert tab.probe.fed.pixmap().isNull()
    tab.show()
    assert blank(tab.probe.maps_view) or tab.probe.image_runner.is_running() or tab.probe.probe_runner.is_running()
    qtbot.waitUntil(lambda: "train/" in tab.probe.maps_title.text() or "Cannot" in
                    tab.probe.note.text(), timeout=WAIT_MS)
    assert "mnist5k/" not in tab.probe.maps_title.text()


@pytest.fixture
def unreadable(tmp_path: Path):
    """A dataset whose every image is cut short: scanned, but none can be read."""
    root = tmp_path / "cut-short"
    make_split_tree(root, {"train": {"ant": 3, "bee": 3}, "val": {"ant": 1, "bee": 1}}, png_only=True)
    damage_bodies(root)
    return dataset(FolderSource(str(root)))


def test_the_mask_tab_shows_nothing_of_the_previous_dataset(qtbot, tmp_path, unreadable) -> None:
    state = AppState()
    tab = MaskTab(state)
    qtbot.addWidget(tab)
    tab.resize(1200, 800)
    tab.show()
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS):
        with qtbot.waitSignal(tab.examples_runner.sig_finished, timeout=WAIT_MS):
            state.set_dataset(dataset(FolderSource(str(make_photos(tmp_path / "photos")))))
    assert not blank(tab.views[0]) and tab.kept_label.text().startswith("Kept")
    assert tab.strip._buttons
    with qtbot.waitSignal(tab.image_runner.sig_failed, timeout=WAIT_MS):
        state.set_dataset(unreadable)
    assert all(blank(view) for view in tab.views)
    assert tab.kept_label.text() == ""
    assert not tab.strip._buttons or tab.examples_runner.is_running()
    qtbot.waitUntil(lambda: not tab.examples_runner.is_running(), timeout=WAIT_MS)
    assert {b.toolTip() for b in tab.strip._buttons} <= {"ant", "bee"}  # never cat or dog


def test_the_augment_tab_shows_nothing_of_the_previous_dataset(qtbot, tmp_path, unreadable) -> None:
    state = AppState()
    tab = AugmentTab(state)
    qtbot.addWidget(tab)
    tab.resize(1200, 800)
    tab.show()
    with qtbot.waitSignal(tab.model_view.sig_viewed, timeout=WAIT_MS):
        with qtbot.waitSignal(tab.sig_previewed, timeout=WAIT_MS):
            state.set_dataset(dataset(FolderSource(str(make_photos(tmp_path / "photos")))))
    assert tab.grid.count() > 0 and tab.model_view.row.count() > 0
    assert "(24, 32, 3)" in tab.model_view.caption.text()
    statuses: list[str] = []
    tab.sig_status.connect(statuses.append)
    with qtbot.waitSignal(tab.items_runner.sig_finished, timeout=WAIT_MS):
        state.set_dataset(unreadable)
    qtbot.waitUntil(lambda: tab.grid.count() == 0, timeout=5000)
    assert tab.model_view.row.count() == 0 and "(24, 32, 3)" not in tab.model_view.caption.text()
    assert any("could not be read" in status for status in statuses)
