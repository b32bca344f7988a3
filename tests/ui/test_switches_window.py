"""The whole window after another dataset, image or text size: Getting started, the Dataset tab's
filters, presentation sizes, the Filters status.

Switching is tested, not only the first load: each test shows something for a first choice,
switches, and checks that none of it remains on screen (result, failure or text)."""

from __future__ import annotations

import pytest
from filterscope.core.data.source import BuiltinSource, FolderSource, Source
from filterscope.app import create_window
from filterscope.ui.main_window import MainWindow
from filterscope.ui.tabs.dataset_tab import DatasetTab
from filterscope.ui.tabs.filters_tab import FiltersTab
from filterscope.ui.tabs.results_tab import ResultsTab
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from tests.results_runs import make_photos
from tests.split_tree import make_split_tree
from tests.ui.screen import settle, show_window


WAIT_MS = 120_000


@pytest.fixture
def window(qtbot, settings: QSettings, data_dir) -> MainWindow:
    """The real window on its first start (the built-in digits and the guide)."""
    window = create_window(settings)
    window.projects.dialogs.recover = lambda _path, _when: False  # no modal box in tests
    return show_window(qtbot, window, before_close=lambda w: settle(qtbot, w))


def open_source(qtbot, window: MainWindow, source: Source) -> None:
    with qtbot.waitSignal(window.state.sig_dataset_changed, timeout=WAIT_MS):
        window.findChild(DatasetTab).open_source(source)


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
    assert "on the digits" not in guide.text.text() and "photo-transfer" in guide.text.text()
    open_source(qtbot, window, BuiltinSource("mnist"))  # and back: the digits' advice again
    assert "on the digits" in guide.text.text()
    guide.go_to("Dataset")
    assert "my-photos" not in guide.text.text() and "MNIST digits" in guide.text.text()


def test_another_dataset_shows_nothing_of_the_first_datasets_filters(qtbot, window, tmp_path) -> None:
    """A class and subset chosen on one dataset: another dataset (one with that class and subset
    too) is shown whole, its own choices only; back on the first, it is shown whole as well."""
    first, second = tmp_path / "first", tmp_path / "second"
    make_split_tree(first, {"train": {"Maize": 5, "Rice": 4}, "Valid": {"Maize": 2, "Rice": 1},
                            "test": {"Maize": 2, "Rice": 3}})
    make_split_tree(second, {"train": {"Oats": 3, "Rice": 6}, "test": {"Oats": 2, "Rice": 1}})
    tab = window.findChild(DatasetTab)
    window.tabs.setCurrentWidget(tab)
    open_source(qtbot, window, FolderSource(str(first)))
    tab.subset_filter.setCurrentIndex(3)  # test/
    tab.class_filter.setCurrentIndex(2)  # Rice
    assert tab.grid.model().rowCount() == 3
    assert [tab.classes.table.item(r, 1).text() for r in range(2)] == ["2", "3"]

    def choices(combo) -> list[str]:
        return [combo.itemText(i) for i in range(combo.count())]

    for source, classes, counts in ((second, ["Oats", "Rice"], ["5", "7"]),
                                    (first, ["Maize", "Rice"], ["9", "8"])):
        open_source(qtbot, window, FolderSource(str(source)))
        assert window.state.browse.class_name is None and window.state.browse.subset is None
        assert tab.class_filter.currentText() == "All classes" and tab.subset_filter.currentText() == "All subsets"
        assert choices(tab.class_filter) == ["All classes", *classes]
        assert choices(tab.subset_filter) == ["All subsets", "train/", *(["Valid/"] if source == first else []),
                                              "test/"]
        assert not tab.class_filter.placeholderText() and not tab.subset_filter.placeholderText()
        assert tab.grid.model().rowCount() == len(window.state.dataset)
        assert [tab.classes.table.item(r, 1).text() for r in range(2)] == counts
        assert "Rice" not in window.statusBar().currentMessage()


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
