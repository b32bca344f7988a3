"""The Visualise tab's network and drawing pages through qtbot, in a main window with the
Filters tab: a real MNIST run, every layer's output in a worker, a clicked tile opening the
Filters tab on the step that computes it with the same value, the way back to the hand-made
lesson, and a digit drawn with the mouse read live."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.drawn import mnist_digit
from filterscope.core.data.source import BuiltinSource
from filterscope.core.data.sources import open_source
from filterscope.core.filters.kernels import format_number, preset
from filterscope.core.filters.settings import DEFAULT_PRESETS
from filterscope.ui.main_window import MainWindow
from filterscope.ui.tabs.filters_tab import FiltersTab
from filterscope.ui.tabs.visualize_tab import VisualizeTab
from filterscope.ui.presentation import SCALES
from filterscope.ui.widgets import network_page
from PIL import Image
from PySide6.QtCore import QPoint, Qt

from tests.ui.screen import settle
from tests.ui.test_presentation import PROJECTOR, app_look, settled_clipped  # noqa: F401 (a fixture)

WAIT_MS = 120_000


@pytest.fixture
def window(qtbot, data_dir, settings, mnist_run: Path) -> MainWindow:
    """Visualise and Filters tabs in one window, the run loaded and the network page shown."""
    settings.setValue("dataset/last", "builtin:mnist")  # a returning user: the guide stays closed
    window = MainWindow([VisualizeTab, FiltersTab], settings)
    qtbot.addWidget(window)
    window.state.set_runs_dir(mnist_run.parent)
    window.state.set_dataset(open_source(BuiltinSource("mnist"), report=NullReport(), cancel=threading.Event()))
    visualize = window.tabs.widget(0)
    with qtbot.waitSignal(visualize.load_runner.sig_finished, timeout=WAIT_MS):
        window.show()
    page = visualize.pages.network
    with qtbot.waitSignal(page.network_runner.sig_finished, timeout=WAIT_MS):
        visualize.pages.setCurrentWidget(page)
    return window


def test_every_layer_is_shown_left_to_right(qtbot, window) -> None:
    page = window.tabs.widget(0).pages.network
    view = page.view.view()
    assert view is not None and [layer.name for layer in view.layers][:3] == ["block1_conv", "block1_relu",
                                                                              "block1_maxpool"]
    assert set(page.view.maps_views) == {layer.index for layer in view.layers if layer.maps}
    first = page.view.maps_views[0]
    assert len(first.panels()) == 6  # block1_conv's six maps
    block2 = next(layer for layer in view.layers if layer.name == "block2_conv")
    assert len(page.view.maps_views[block2.index].panels()) == 8 < block2.values.shape[-1]
    more = [b for b in page.view.findChildren(type(window.tabs.widget(1).steps.step_button))
            if b.text().startswith("More maps (8 of 12")]
    qtbot.mouseClick(more[0], Qt.MouseButton.LeftButton)
    assert len(page.view.maps_views[block2.index].panels()) == 12 and not more[0].isVisibleTo(page)
    assert "Softmax turns them into probabilities" in page.view.widget().findChildren(
        type(page.note))[-1].text()


def test_a_clicked_tile_opens_the_filters_tab_on_its_step(qtbot, window) -> None:
    visualize, filters = window.tabs.widget(0), window.tabs.widget(1)
    page = visualize.pages.network
    view = page.view.view()
    block2 = next(layer for layer in view.layers if layer.name == "block2_conv")
    row, col, channel = 4, 7, 5
    page.view.maps_views[block2.index].sig_cell_clicked.emit(channel, row, col)
    assert window.tabs.currentWidget() is filters
    step = filters.settings.model_step
    assert step is not None and step.stage == "convolution"
    tile = float(block2.values[row, col, channel])
    layer = filters.layer
    assert layer is step.layer and layer.image.shape == (13, 13, 6)  # block1_maxpool's output
    computed = layer.conv_step(filters.steps.position()).value
    assert computed == pytest.approx(tile, abs=1e-4)
    assert f"= {format_number(computed)}, the output at row {row + 1 - 0}, column {col + 1}" in filters.views.equation()
    assert "block2_conv" in filters.model_panel.origin_label.text()
    assert "channel 6 of 12" in filters.model_panel.origin_label.text()
    assert f"the model computed {format_number(tile, 4)}" in filters.model_panel.value_label.text()
    assert filters.views.output_view.panels()[0].caption == "block2_conv, channel 6"
    assert not filters.model_panel.channel_spin.isHidden()  # six input channels: one drawn at a time
    sums = np.abs(layer.conv_step(filters.steps.position()).products.sum(axis=(0, 1)))
    assert filters.model_panel.channel_spin.value() == int(np.argmax(sums)) + 1  # the strongest first
    filters.model_panel.channel_spin.setValue(3)
    assert "Window, channel 3 of 6" in [p.caption for p in filters.views.detail_view.panels()]
    assert all(group.isHidden() for group in filters._lesson_groups)
    assert "# image: the 13 x 13 x 6 values the tab shows: Input: the output of block1_maxpool" in \
        filters.code.toPlainText()


def test_back_to_hand_made_kernels_leaves_nothing_of_the_model(qtbot, window) -> None:
    visualize, filters = window.tabs.widget(0), window.tabs.widget(1)
    window.show_tab("Filters")  # the hand-made lesson: the first seven
    qtbot.waitUntil(lambda: filters.layer is not None and filters.layer.image.shape == (28, 28, 1), timeout=WAIT_MS)
    filters.settings.update({"stage": "relu", "position": 30})
    window.show_tab("Visualise")
    page = visualize.pages.network
    pool = next(layer for layer in page.view.view().layers if layer.name == "block1_maxpool")
    page.view.maps_views[pool.index].sig_cell_clicked.emit(2, 3, 4)
    assert filters.settings.stage == "pooling" and filters.layer.kernels.shape == (3, 3, 1, 1)
    assert filters.layer.pooled[3, 4, 0] == pytest.approx(float(pool.values[3, 4, 2]), abs=1e-5)
    qtbot.mouseClick(filters.model_panel.back_button, Qt.MouseButton.LeftButton)
    assert filters.settings.model_step is None
    assert (filters.settings.stage, filters.settings.position) == ("relu", 30)  # where the lesson was
    assert filters._model_group.isHidden() and not any(group.isHidden() for group in filters._lesson_groups)
    filters.editors[0].preset_combo.setCurrentText("Sobel x")
    filters.editors[0].preset_combo.activated.emit(filters.editors[0].preset_combo.currentIndex())
    layer = filters.layer
    assert layer.image.shape == (28, 28, 1) and layer.image.max() > 200  # the digit's pixels again
    np.testing.assert_array_equal(layer.kernels[..., 0], preset("Sobel x", 3, 1))
    assert "block1" not in filters.views.equation() + filters.size_label.text() + filters.code.toPlainText()
    assert filters.views.input_view.panels()[0].decimals == 0
    assert DEFAULT_PRESETS[0] != filters.editors[0].preset_combo.currentText()


def test_a_drawn_digit_is_read_live_and_its_tiles_open_the_filters_tab(qtbot, window) -> None:
    visualize, filters = window.tabs.widget(0), window.tabs.widget(1)
    page = visualize.pages.draw
    visualize.pages.setCurrentWidget(page)
    canvas = page.canvas
    assert canvas.width() > 100 and not canvas.ink().any()
    with qtbot.waitSignal(page.runner.sig_finished, timeout=WAIT_MS):
        side = min(canvas.width(), canvas.height())
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(side // 2, side // 5))
        for step in range(1, 11):  # a stroke down the middle: a one
            qtbot.mouseMove(canvas, QPoint(side // 2, side // 5 + step * side * 6 // 100))
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(side // 2, side * 4 // 5))
    ink = canvas.ink()
    assert ink[:, 120:160].sum() > 0.9 * ink.sum() > 0  # drawn where the mouse went
    inked = np.flatnonzero(ink.any(axis=1))
    assert inked[-1] - inked[0] > 150  # a stroke, not a dot
    view = page.view.view()
    np.testing.assert_allclose(view.image.batch[0, ..., 0], mnist_digit(ink) / 255.0, atol=1e-6)
    assert "The model reads" in page.answer.text() and not page.cam.pixmap().isNull()
    best = view.class_names[int(np.argmax(view.probabilities))]
    assert f"<b>{best}</b>" in page.answer.text()
    page.view.maps_views[0].sig_cell_clicked.emit(1, 10, 12)  # block1_conv on the drawn digit
    assert window.tabs.currentWidget() is filters
    assert filters.layer.image.shape == (28, 28, 1)
    np.testing.assert_allclose(filters.layer.image[..., 0], mnist_digit(ink) / 255.0, atol=1e-6)
    assert filters.settings.model_step.computed() == pytest.approx(float(view.layers[0].values[10, 12, 1]), abs=1e-4)
    window.show_tab("Visualise")
    page.clear_button.click()
    assert not canvas.ink().any() and page.view.view() is None and page.answer.text() == ""


def test_an_image_file_goes_through_the_network_and_back_to_the_dataset(qtbot, window, tmp_path, monkeypatch) -> None:
    page = window.tabs.widget(0).pages.network
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(path)
    monkeypatch.setattr(network_page.QFileDialog, "getOpenFileName", lambda *_args: (str(path), ""))
    assert page.picker.item_spin.text() == "0"  # the dataset's first image: a number, not "–"
    with qtbot.waitSignal(page.network_runner.sig_finished, timeout=WAIT_MS):
        page.open_button.click()
    view = page.view.view()
    assert view.image.seen.shape == (40, 60, 3) and view.image.batch.shape == (1, 28, 28, 1)
    assert page.note.text().startswith("photo.png: ")
    picker = page.picker  # no image of the dataset shown as chosen
    assert (picker.class_combo.currentText(), picker.item_spin.text()) == ("", "–")
    assert picker.current_item() is None
    with qtbot.waitSignal(page.network_runner.sig_finished, timeout=WAIT_MS):
        picker.item_spin.setValue(2)  # the dataset's images again: the first class's third
    assert picker.class_combo.currentIndex() == 0 and picker.item_spin.text() == "2"
    assert picker.current_item() == int(np.flatnonzero(window.state.dataset.labels == 0)[2])
    assert page.view.view().image.seen.shape == (28, 28, 3)
    picker.class_combo.setCurrentIndex(1)
    assert picker.item_spin.text() == "0"


@pytest.mark.usefixtures("app_look")
def test_a_models_step_and_the_new_pages_fit_a_projector_at_the_largest_scale(qtbot, window) -> None:
    visualize, filters = window.tabs.widget(0), window.tabs.widget(1)
    page = visualize.pages.network
    block2 = next(layer for layer in page.view.view().layers if layer.name == "block2_conv")
    page.view.maps_views[block2.index].sig_cell_clicked.emit(3, 2, 2)
    column = page.view.maps_views[0].parentWidget().width()
    try:
        window.set_presentation_scale(max(SCALES))
        window.set_presenting(True)
        window.resize(*PROJECTOR)
        qtbot.waitUntil(lambda: page.view.maps_views[0].parentWidget().width() > 2 * column)  # sized in text lines
        for tab, shown in ((filters, None), (visualize, page), (visualize, visualize.pages.draw)):
            window.tabs.setCurrentWidget(tab)
            if shown is not None:
                visualize.pages.setCurrentWidget(shown)
            qtbot.wait(50)
            hint = window.minimumSizeHint()
            assert hint.width() <= PROJECTOR[0] and hint.height() <= PROJECTOR[1], (tab.title, hint)
            assert settled_clipped(qtbot, tab) == [], tab.title
    finally:
        settle(qtbot, window)
        window.presentation.set_on(False)
