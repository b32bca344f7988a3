"""The Train tab after another run or runs folder: its result line, curves and examples.

Switching is tested, not only the first load: each test shows something for a first choice,
switches, and checks that none of it remains on screen (result, failure or text)."""

from __future__ import annotations

import pytest
from filterscope.ui.presentation import refresh_sheet_fonts
from filterscope.ui.state import AppState
from filterscope.ui.tabs.train_tab import TrainTab
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication


WAIT_MS = 120_000


@pytest.fixture
def train(qtbot, two_runs) -> TrainTab:
    """The Train tab listing run-a and run-b (without a model: it shows no examples)."""
    (two_runs[1] / "best.keras").unlink()
    tab = TrainTab(AppState())
    qtbot.addWidget(tab)
    tab.runs_folder.edit.setText(str(two_runs[0].parent))
    with qtbot.waitSignal(tab.runs_runner.sig_finished, timeout=WAIT_MS):
        tab.runs_folder.edit.editingFinished.emit()
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
    train.runs_folder.edit.setText(str(tmp_path / "elsewhere"))
    with qtbot.waitSignal(train.runs_runner.sig_finished, timeout=WAIT_MS):
        train.runs_folder.edit.editingFinished.emit()
    assert train.runs_list.count() == 0
    assert train.curves.epochs_drawn() == 0 and not train.examples.tiles
    assert "run-a" not in train.result_label.text()


def test_the_proposed_recipe_and_its_measured_augmentation_follow_the_dataset(qtbot, tmp_path) -> None:
    """Colour photos: photo-transfer is proposed, taken in one click, and its augmentation is
    measured on the photos and said why; the digits next: nothing of the photos' proposal or
    measurement stays (grey images get no augmentation, and say why)."""
    import threading

    from filterscope.core.augment.chain import builtin_chain
    from filterscope.core.base.jobs import NullReport
    from filterscope.core.data.source import BuiltinSource, FolderSource
    from filterscope.core.data.sources import open_source

    from tests.transfer_data import colour_folder

    def opened(source):
        return open_source(source, report=NullReport(), cancel=threading.Event())

    state = AppState()
    tab = TrainTab(state)
    qtbot.addWidget(tab)
    proposal = tab.proposal
    state.set_dataset(opened(FolderSource(str(colour_folder(tmp_path / "colours")))))
    assert proposal.template_label.isVisibleTo(tab) and "photo-transfer" in proposal.use_button.text()
    with qtbot.waitSignal(proposal.runner.sig_finished, timeout=WAIT_MS):
        proposal.use_button.click()
    assert state.train.template() == "photo-transfer" and not proposal.template_label.isVisibleTo(tab)
    measured = proposal.chain_label.text()
    assert measured.startswith("Augmentation proposed: ") and "over 18 photos" in measured
    preset = "upright" if "have an up" in measured else "photos"
    assert state.chain == builtin_chain(preset) and state.train.use_chain

    state.set_dataset(opened(BuiltinSource("mnist")))
    assert "18 photos" not in proposal.chain_label.text()
    assert "a 6 upside down is a 9" in proposal.chain_label.text()
    assert state.chain == builtin_chain("none") and not proposal.template_label.isVisibleTo(tab)
