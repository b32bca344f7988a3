"""The Filters tab through qtbot: the default seven, presets, a bad kernel cell, step-through by
click and by timer, colour mode, two filters, stride and padding, bad and large image files; the
lesson model (FiltersSettings) shown by the tab and set by its controls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from filterscope.core.data.images import to_rgb
from filterscope.core.filters.conv import conv_step, convolve
from filterscope.core.filters.kernels import format_number, preset
from filterscope.core.filters.settings import FiltersSettings, as_kernel
from filterscope.core.filters.source import to_input
from filterscope.core.filters.pooling import pool_step
from filterscope.ui.state import AppState
from filterscope.ui.tabs.filters_tab import FiltersTab
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from tests.ui.screen import shown

WAIT_MS = 20_000


@pytest.fixture
def tab(qtbot):
    tab = shown(qtbot, FiltersTab(AppState()), (1300, 850))
    qtbot.waitUntil(lambda: tab.layer is not None, timeout=WAIT_MS)
    return tab


def expected_output(tab: FiltersTab) -> np.ndarray:
    layer = tab.layer
    return convolve(layer.image, layer.kernels, layer.bias, layer.stride, layer.padding)


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_default_is_the_first_seven_with_the_chapters_vertical_filter(tab) -> None:
    assert "(a 7)" in tab.source.source_label.text()
    assert tab.source.picker.class_combo.currentText() == "7"
    layer = tab.layer
    assert layer.image.shape == (28, 28, 1) and layer.image.max() > 200
    np.testing.assert_array_equal(layer.kernels[..., 0], preset("Vertical lines (chapter)", 3, 1))
    assert layer.output.shape == (26, 26, 1)
    np.testing.assert_allclose(layer.output, expected_output(tab))
    # The seven's strokes give negative responses on one side (the chapter's point): they show.
    assert layer.output.min() < 0 < layer.output.max()
    assert len(tab.views.output_view.panels()) == 1


def test_a_preset_changes_the_output(tab) -> None:
    before = tab.layer.output.copy()
    combo = tab.editors[0].preset_combo
    combo.setCurrentIndex(combo.findText("Horizontal lines (chapter)"))
    combo.activated.emit(combo.currentIndex())
    np.testing.assert_array_equal(tab.layer.kernels[..., 0],
                                  preset("Horizontal lines (chapter)", 3, 1))
    assert not np.array_equal(tab.layer.output, before)
    np.testing.assert_allclose(tab.layer.output, expected_output(tab))


def test_a_non_number_marks_the_cell_and_keeps_the_last_good_kernel(tab) -> None:
    editor = tab.editors[0]
    before = tab.layer.output.copy()
    item = editor.tables[0].item(1, 2)
    item.setText("abc")
    assert item.background().color().red() > 200 and item.background().color().green() < 80
    assert "Row 2, column 3: 'abc' is not a number" in tab.error_label.text()
    assert "last good kernel" in tab.error_label.text()
    np.testing.assert_array_equal(tab.layer.output, before)
    item.setText("2")
    assert tab.error_label.text() == ""
    assert tab.layer.kernels[1, 2, 0, 0] == 2.0
    np.testing.assert_allclose(tab.layer.output, expected_output(tab))
    assert editor.preset_combo.currentText() == "Custom"


def test_an_all_zero_kernel_says_the_output_is_the_bias(tab) -> None:
    editor = tab.editors[0]
    editor.bias_edit.setText("3")
    editor.bias_edit.editingFinished.emit()
    for row in range(3):
        for col in range(3):
            editor.tables[0].item(row, col).setText("0")
    assert (tab.layer.output == 3).all()
    assert "every output is just its bias, 3" in tab.zero_label.text()
    editor.bias_edit.setText("x")
    editor.bias_edit.editingFinished.emit()
    assert "The bias: 'x' is not a number" in tab.error_label.text()
    assert (tab.layer.output == 3).all()


def test_step_through_moves_the_window_and_shows_the_cores_sum(qtbot, tab) -> None:
    steps = tab.steps
    assert steps.position() is None
    for _ in range(40):
        click(qtbot, steps.step_button)
    assert steps.position() == 39
    layer = tab.layer
    step = conv_step(layer.image, layer.kernels, layer.bias, 39)
    assert (step.row, step.col) == divmod(39, 26)
    window = tab.views.input_view.highlights()[0]
    assert (window.top, window.left, window.height) == (step.top, step.left, 3)
    assert tab.views.output_view.highlights()[0].top == step.row
    assert tab.views.output_view.panels()[0].shown == 40
    assert f"= {format_number(step.value)}, the output at row {step.row + 1}" in tab.views.equation()
    products = tab.views.detail_view.panels()[2].values
    np.testing.assert_allclose(products, step.products[..., 0])
    click(qtbot, steps.back_button)
    assert steps.position() == 38
    click(qtbot, steps.all_button)
    assert steps.position() is None and tab.views.input_view.highlights() == []


def test_step_on_the_stroke_writes_out_the_nine_products(qtbot, tab) -> None:
    layer = tab.layer
    index = int(np.argmax(np.abs(layer.output[..., 0]).ravel()))
    tab.steps.set_position(index)
    step = conv_step(layer.image, layer.kernels, layer.bias, index)
    assert step.value != 0
    text = tab.views.equation()
    assert text.count(" × ") == 9
    assert f"= {format_number(step.total)};" in text


def test_play_steps_on_the_timer_and_stop_stops(qtbot, tab) -> None:
    steps = tab.steps
    steps.speed_spin.setValue(20)  # the control sets the lesson's play speed, the timer follows it
    assert tab.settings.interval == 20 and steps.timer.interval() == 20
    click(qtbot, steps.play_button)
    assert steps.is_playing() and steps.play_button.text() == "Stop"
    qtbot.waitUntil(lambda: (steps.position() or 0) >= 5, timeout=WAIT_MS)
    click(qtbot, steps.play_button)
    assert not steps.is_playing()
    stopped = steps.position()
    qtbot.wait(100)
    assert steps.position() == stopped


def test_play_stops_at_the_last_position(qtbot, tab) -> None:
    tab.settings.update({"crop": 5, "interval": 20})  # 3 x 3 positions
    steps = tab.steps
    click(qtbot, steps.play_button)
    qtbot.waitUntil(lambda: not steps.is_playing(), timeout=WAIT_MS)
    assert steps.position() == 8 and not steps.step_button.isEnabled()


def test_colour_mode_has_27_weights_plus_bias(qtbot, tab) -> None:
    tab.settings.colour = True
    editor = tab.editors[0]
    assert len(editor.tables) == 3
    assert sum(t.rowCount() * t.columnCount() for t in editor.tables) == 27
    assert tab.layer.kernels.shape == (3, 3, 3, 1) and tab.layer.image.shape == (28, 28, 3)
    editor.tables[1].item(0, 0).setText("5")  # the G kernel only
    assert tab.layer.kernels[0, 0, 1, 0] == 5 and tab.layer.kernels[0, 0, 0, 0] == 1
    np.testing.assert_allclose(tab.layer.output, expected_output(tab))
    editor.tables[2].item(0, 1).setText("?")
    assert "Row 1, column 2 of the B kernel" in tab.error_label.text()
    tab.steps.set_position(300)
    assert "The 27 products add up to R: " in tab.views.equation()
    assert len(tab.views.detail_view.panels()) == 6
    tab.settings.colour = False
    assert tab.layer.kernels.shape == (3, 3, 1, 1)


def test_two_filters_give_a_two_channel_output(qtbot, tab) -> None:
    tab.settings.second = True
    layer = tab.layer
    assert layer.output.shape == (26, 26, 2)
    np.testing.assert_array_equal(layer.kernels[..., 1], preset("Horizontal lines (chapter)", 3, 1))
    np.testing.assert_allclose(layer.output, expected_output(tab))
    assert [p.caption for p in tab.views.output_view.panels()] == [
        "Output channel 1", "Output channel 2"]
    assert "26 × 26 × 2" in tab.size_label.text()
    assert tab.steps.filter_combo.isVisibleTo(tab)
    tab.settings.filter_index = 1
    tab.steps.set_position(100)
    step = conv_step(layer.image, layer.kernels, layer.bias, 100, filter_index=1)
    assert f"= {format_number(step.value)}, the output" in tab.views.equation()
    assert tab.views.output_view.highlights()[0].panel == 1


def test_stride_and_padding_change_the_size_sentence(tab) -> None:
    assert "(28 − 3) // 1 + 1 = 26" in tab.size_label.text()
    tab.settings.stride = 2
    assert "(28 − 3) // 2 + 1 = 13" in tab.size_label.text()
    assert tab.layer.output.shape == (13, 13, 1)
    tab.settings.padding = "same"
    assert "ceil(28 / 2)" in tab.size_label.text() and tab.layer.output.shape == (14, 14, 1)
    assert tab.views.input_view.panels()[0].padding.any()
    assert tab.stride_label.text() == ""
    tab.settings.stride = 4
    assert "never looked at" in tab.stride_label.text()
    tab.settings.size = 5
    assert tab.layer.kernels.shape[:2] == (5, 5) and tab.stride_label.text() == ""
    assert tab.editors[0].preset_combo.currentText() == "Custom"  # the chapter's filter is 3 x 3
    np.testing.assert_allclose(tab.layer.output, expected_output(tab))


def test_relu_and_pooling_stages_step_through(tab) -> None:
    steps = tab.steps
    tab.settings.stage = "relu"
    assert steps.position() is None
    layer = tab.layer
    negative = int(np.argmin(layer.output[..., 0]))
    steps.set_position(negative)
    assert tab.views.equation().endswith("negative responses become 0.")
    assert ", 0) = 0 at row" in tab.views.equation()
    tab.settings.stage = "pooling"
    steps.step()
    assert steps.position() == 0
    best = int(np.argmax(layer.pooled[..., 0]))
    steps.set_position(best)
    step = pool_step(layer.rectified, best)
    assert f") = {format_number(step.value)}, from row {step.winner[0] + 1}" in tab.views.equation()
    marks = tab.views.after_view.highlights()
    assert (marks[1].top, marks[1].left) == step.winner


def test_clicking_an_output_cell_shows_its_step(qtbot, tab) -> None:
    view = tab.views.output_view
    view.sig_cell_clicked.emit(0, 10, 12)
    assert tab.steps.stage() == "convolution" and tab.steps.position() == 10 * 26 + 12


def test_a_bad_file_is_named_and_the_image_stays(qtbot, tab, tmp_path: Path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    before = tab.layer.image.copy()
    with qtbot.waitSignal(tab.sig_status, timeout=WAIT_MS) as blocker:
        tab.source.open_file(bad)
    assert "notes.png" in blocker.args[0]
    np.testing.assert_array_equal(tab.layer.image, before)


def test_a_large_image_is_cropped_and_the_crop_moves(qtbot, tab, tmp_path: Path) -> None:
    rgb = np.zeros((600, 900, 3), np.uint8)
    rgb[:, 450:] = (0, 200, 0)
    path = tmp_path / "big.png"
    Image.fromarray(rgb).save(path)
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS):
        tab.source.open_file(path)
    assert tab.layer.image.shape == (32, 32, 1)
    assert tab.source.overview.isVisibleTo(tab)
    assert max(tab.source.overview.panels()[0].values.shape) <= 160
    box = tab.source.box()
    assert (box.top, box.left) == (284, 434)
    # The crop straddles the black/green edge: the vertical filter answers along it.
    assert np.abs(tab.layer.output).max() > 0
    tab.source.overview.sig_cell_clicked.emit(0, 10, 10)
    assert tab.source.box().left < 100 and not tab.layer.output.any()
    assert tab.settings.image == str(path) and tab.settings.crop == 32
    scale = 160 / 900  # the overview's pixels per image pixel
    assert tab.settings.crop_centre == (int(10 / scale), int(10 / scale))  # the click is the lesson's
    tab.settings.colour = True
    assert tab.layer.image.shape == (32, 32, 3)


def test_the_crop_centre_is_the_lessons_and_a_new_image_starts_from_its_centre(qtbot, tab, tmp_path: Path) -> None:
    """The lesson's centre moves the crop (a project's); another file or digit is cropped about
    its own centre; a centre outside the image is named and kept, the crop about the image's
    centre meanwhile."""
    rows, cols = np.mgrid[0:200, 0:300]
    rgb = np.dstack([rows, cols % 256, (rows + cols) % 256]).astype(np.uint8)  # each pixel its own
    path, other = tmp_path / "rows.png", tmp_path / "other.png"
    Image.fromarray(rgb).save(path)
    Image.fromarray(rgb[::-1].copy()).save(other)
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS, check_params_cb=lambda: tab.source.box().height == 32):
        tab.settings.update({"image": str(path), "crop": 32, "colour": True, "crop_centre": (150, 40)})
    qtbot.waitUntil(lambda: "rows.png" in tab.source.source_label.text(), timeout=WAIT_MS)
    np.testing.assert_array_equal(tab.layer.image, rgb[134:166, 24:56])
    tab.settings.crop_centre = (5, 290)  # near a corner: the crop moves to lie inside the image
    np.testing.assert_array_equal(tab.layer.image, rgb[0:32, 268:300])
    with qtbot.waitSignal(tab.sig_status, timeout=WAIT_MS) as blocker:
        tab.settings.crop_centre = (200, 10)
    assert blocker.args[0] == ("crop_centre: (200, 10) lies outside the image (200 × 300 pixels: rows 0 to 199, "
                               "columns 0 to 299): the crop is about the image's centre")
    assert "(200, 10) lies outside" in tab.source.source_label.text()
    np.testing.assert_array_equal(tab.layer.image, rgb[84:116, 134:166])
    assert tab.settings.crop_centre == (200, 10)  # named, kept
    with qtbot.waitSignal(tab.sig_status, timeout=WAIT_MS) as blocker:
        tab.settings.crop_centre = (100, 100)
    assert blocker.args[0] == "Filtering rows.png: 200 × 300 pixels"  # in place of the centre named
    assert "outside" not in tab.source.source_label.text()
    tab.source.open_file(other)  # opened by the user: another image
    qtbot.waitUntil(lambda: "other.png" in tab.source.source_label.text(), timeout=WAIT_MS)
    assert tab.settings.crop_centre is None and tab.settings.image == str(other)
    np.testing.assert_array_equal(tab.layer.image, rgb[::-1][84:116, 134:166])
    tab.settings.crop_centre = (3, 3)
    tab.source.picker.item_spin.setValue(tab.source.picker.item_spin.value() + 1)  # a digit picked
    qtbot.waitUntil(lambda: "Built-in MNIST digit" in tab.source.source_label.text(), timeout=WAIT_MS)
    assert tab.settings.crop_centre is None and tab.layer.image.shape == (28, 28, 3)


def test_the_code_page_reproduces_the_tabs_output(tab) -> None:
    tab.settings.update({"second": True, "stride": 2, "padding": "same"})
    tab.editors[0].tables[0].item(0, 0).setText("1/3")
    tab.pages.setCurrentWidget(tab.code)
    namespace = {"image": tab.layer.image.copy()}
    exec(compile(tab.code.toPlainText(), "filters-code", "exec"), namespace)
    np.testing.assert_allclose(namespace["output"], tab.layer.output)
    np.testing.assert_allclose(namespace["pooled"], tab.layer.pooled)
    assert "kernels[:, :, 0, 0] = [[1 / 3," in tab.code.toPlainText()


def test_larger_text_widens_the_settings_and_the_code(qtbot, tab) -> None:
    app = QApplication.instance()
    before = app.font()
    width = tab.scroll.width()
    try:
        bigger = QFont(before)
        bigger.setPointSize(before.pointSize() + 8)
        app.setFont(bigger)
        qtbot.waitUntil(lambda: tab.code.font().pointSize() == bigger.pointSize(), timeout=WAIT_MS)
        assert tab.scroll.width() > width
    finally:
        app.setFont(before)


def test_a_kernel_larger_than_the_crop_gives_no_output_and_no_crash(qtbot, tab) -> None:
    tab.settings.crop = 3
    tab.settings.size = 5  # 5 x 5 on 3 x 3 pixels
    assert tab.layer.output.shape == (0, 0, 1) and tab.layer.pooled.shape == (0, 0, 1)
    assert "does not fit" in tab.size_label.text()
    assert not tab.steps.step_button.isEnabled() and not tab.steps.play_button.isEnabled()
    tab.views.output_view.grab()  # paints without dividing by zero
    tab.settings.padding = "same"
    assert tab.layer.output.shape == (3, 3, 1)


def test_hiding_the_tab_stops_playing(qtbot, tab) -> None:
    click(qtbot, tab.steps.play_button)
    assert tab.steps.is_playing()
    tab.hide()
    assert not tab.steps.is_playing() and tab.steps.play_button.text() == "Play"


def test_setting_the_lesson_shows_it_in_the_controls_the_editors_and_the_maps(qtbot, tab) -> None:
    lesson = tab.settings
    kernels = (as_kernel(np.arange(27.0).reshape(3, 3, 3) - 13), as_kernel(preset("Sobel y", 3, 3)))
    lesson.update({"colour": True, "second": True, "stride": 2, "padding": "same", "digit": 3,
                   "kernels": kernels, "biases": (1.5, -2.0), "stage": "relu", "filter_index": 1,
                   "position": 20})
    assert tab.colour_box.isChecked() and tab.second_box.isChecked() and tab.editors[1].isVisibleTo(tab)
    assert tab.stride_spin.value() == 2 and tab.padding_combo.currentData() == "same"
    assert tab.size_combo.currentData() == 3
    editor = tab.editors[0]
    assert len(editor.tables) == 3 and editor.tables[2].item(2, 2).text() == "13"
    assert editor.bias_edit.text() == "1.5" and editor.preset_combo.currentText() == "Custom"
    assert tab.editors[1].preset_combo.currentText() == "Sobel y" and tab.editors[1].bias() == -2.0
    digits = tab.source._digits
    assert "Built-in MNIST digit 3 " in tab.source.source_label.text()
    layer = tab.layer
    np.testing.assert_array_equal(layer.image, to_input(to_rgb(digits.pixels[3]), True))
    np.testing.assert_array_equal(layer.kernels[..., 0], np.asarray(kernels[0]))
    np.testing.assert_array_equal(layer.bias, [1.5, -2.0])
    assert (layer.stride, layer.padding) == (2, "same") and layer.output.shape == (14, 14, 2)
    np.testing.assert_allclose(layer.output, expected_output(tab))
    assert [p.caption for p in tab.views.output_view.panels()] == ["Output channel 1", "Output channel 2"]
    steps = tab.steps
    assert (steps.stage(), steps.filter_index(), steps.position()) == ("relu", 1, 20)
    assert steps.stage_combo.currentData() == "relu" and steps.filter_combo.currentData() == 1
    assert "Position 21 of " in steps.position_label.text()
    assert tab.views.output_view.highlights()[0].panel == 1
    lesson.size = 5  # the model re-makes the weights; the editors show them
    assert tab.editors[1].preset_combo.currentText() == "Sobel y" and len(tab.editors[0].tables[0].item(4, 4).text())
    assert tab.layer.kernels.shape == (5, 5, 3, 2)


def test_the_controls_and_the_editors_set_the_lesson(qtbot, tab) -> None:
    lesson = tab.settings
    tab.stride_spin.setValue(3)
    tab.padding_combo.setCurrentIndex(tab.padding_combo.findData("same"))
    tab.colour_box.setChecked(True)
    tab.second_box.setChecked(True)
    tab.size_combo.setCurrentIndex(tab.size_combo.findData(5))
    tab.source.crop_spin.setValue(20)
    assert (lesson.stride, lesson.padding, lesson.colour, lesson.second, lesson.size, lesson.crop) == \
        (3, "same", True, True, 5, 20)
    assert tab.layer.image.shape == (20, 20, 3) and tab.layer.kernels.shape == (5, 5, 3, 2)
    tab.editors[1].tables[2].item(0, 4).setText("7")
    assert lesson.kernels[1][0][4][2] == 7.0 and tab.layer.kernels[0, 4, 2, 1] == 7.0
    tab.editors[0].bias_edit.setText("-0.5")
    tab.editors[0].bias_edit.editingFinished.emit()
    assert lesson.biases[0] == -0.5
    tab.source.picker.item_spin.setValue(2)  # the third seven: a digit picked is the lesson's
    assert lesson.digit == tab.source.picker.current_item() and lesson.crop == 28
    tab.steps.step()
    tab.steps.step()
    assert lesson.position == 1
    assert FiltersSettings.from_json(lesson.to_json()) == lesson


def test_a_lessons_file_is_read_again_and_its_position_waits_for_it(qtbot, tab, tmp_path: Path) -> None:
    rgb = np.zeros((80, 80, 3), np.uint8)
    rgb[:, 40:] = 255
    path = tmp_path / "edge.png"
    Image.fromarray(rgb).save(path)
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS, check_params_cb=lambda: tab.layer.image.shape[0] == 40):
        tab.settings.update({"image": str(path), "crop": 40, "position": 1000})
        assert tab.settings.position == 1000  # the digit's 676 positions do not clamp it
    qtbot.waitUntil(lambda: "edge.png" in tab.source.source_label.text(), timeout=WAIT_MS)
    assert tab.layer.image.shape == (40, 40, 1) and tab.settings.crop == 40
    assert tab.steps.position() == 1000 and tab.settings.position == 1000
    tab.settings.update({"image": "", "digit": None, "crop": 28})  # back to the first seven
    assert "(a 7)" in tab.source.source_label.text() and tab.settings.position == 675
