"""Presentation mode as a teacher uses it on a projector's 1280 x 720 window: tab titles whole,
the Filters tab's numbers growing with the text, and leaving it (F5 again) giving back exactly
the window a fresh start shows."""

from __future__ import annotations

import numpy as np
import pytest
from filterscope.ui.main_window import MainWindow
from filterscope.ui.presentation import SCALES
from filterscope.ui.tabs.augment_tab import AugmentTab
from filterscope.ui.tabs.filters_tab import FiltersTab
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.tabs.train_tab import TrainTab
from filterscope.ui.widgets.matrix_view import MatrixViewWidget
from filterscope.ui.widgets.mpl_canvas import CHART_LINES
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QLabel, QTabBar, QToolButton, QWidget

from tests.ui.test_presentation import (  # noqa: F401 (app_look is a fixture)
    PROJECTOR,
    WAIT_MS,
    app_look,
    open_window,
    settle,
    settled_clipped,
    tabs,
)

LARGEST = max(SCALES)


@pytest.fixture
def window(qtbot, settings, app_look, data_dir):  # noqa: F811 (app_look is a fixture)
    window = open_window(qtbot, settings)
    window.resize(*PROJECTOR)
    return window


def present(qtbot, window: MainWindow, scale: int | None) -> None:
    """Presentation mode at ``scale`` (None: off), once the fonts have followed."""
    if scale is not None:
        window.set_presentation_scale(scale)
    window.set_presenting(scale is not None)
    points = window.font_size() * (scale or 100) / 100
    qtbot.waitUntil(lambda: window.font().pointSizeF() == pytest.approx(points))


def cut_tab_titles(root: QWidget) -> list[str]:
    """Tabs of the visible tab bars under ``root`` whose title is elided or lies (partly)
    outside the bar, behind its scroll arrows: what the user would see cut off."""
    found = []
    for bar in root.findChildren(QTabBar):
        if not bar.isVisible():
            continue
        for index in range(bar.count()):
            text = bar.tabText(index).replace("&&", "&")
            rect = bar.tabRect(index)
            if rect.left() < 0 or rect.right() >= bar.width() \
                    or rect.width() < bar.fontMetrics().horizontalAdvance(text):
                found.append(f"{text!r}: {rect.left()}..{rect.right()} of {bar.width()}, "
                             f"{rect.width()} for {bar.fontMetrics().horizontalAdvance(text)}")
    return found


@pytest.mark.parametrize("scale", [None, *SCALES])
def test_every_tab_title_shows_whole_on_a_projector(qtbot, window, scale) -> None:
    present(qtbot, window, scale)
    for index, tab in enumerate(tabs(window)):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(50)
        try:
            qtbot.waitUntil(lambda: not cut_tab_titles(window), timeout=1000)
        except qtbot.TimeoutError:
            pass
        assert cut_tab_titles(window) == [], tab.title
    settle(qtbot, window)


def stepped_filters(qtbot, window: MainWindow) -> FiltersTab:
    """The Filters tab shown, stepped to its fifth convolution position."""
    filters = window.findChild(FiltersTab)
    window.tabs.setCurrentWidget(filters)
    qtbot.waitUntil(lambda: filters.layer is not None, timeout=WAIT_MS)
    filters.steps.set_position(4)
    qtbot.wait(100)
    return filters


def digits(view: MatrixViewWidget) -> tuple[float, int]:
    """The cell size and the digits' pixel size of ``view``'s first panel (0: not printed)."""
    font = view.text_font(0)
    return view.cell_size(), 0 if font is None else font.pixelSize()


def test_the_steps_numbers_grow_with_the_presentation_scale(qtbot, window) -> None:
    detail = stepped_filters(qtbot, window).views.detail_view
    cell, pixels = digits(detail)
    text = QFontInfo(window.font()).pixelSize()
    assert pixels >= 0.6 * text, (cell, pixels, text)
    present(qtbot, window, LARGEST)
    qtbot.wait(100)
    big_cell, big_pixels = digits(detail)
    big_text = QFontInfo(window.font()).pixelSize()
    # The window, kernel and products are what the class reads: their digits follow the text.
    assert big_pixels >= 0.6 * big_text, (big_cell, big_pixels, big_text)
    assert big_cell >= 0.6 * cell * LARGEST / 100, (cell, big_cell)


def misfits(view: MatrixViewWidget) -> list[str]:
    """Panels of ``view`` drawn outside the part of it on screen, and caption words wider than
    their room (wrapping cannot save a word: it loses letters)."""
    found = []
    visible = view.visibleRegion().boundingRect()
    metrics = view.fontMetrics()
    for index, panel in enumerate(view.panels()):
        rect = view.panel_rect(index).toAlignedRect()
        if not visible.contains(rect):
            found.append(f"panel {panel.caption!r} at {rect.getRect()} outside {visible.getRect()}")
        room = view.caption_rect(index).width() - 4  # the margins the caption is painted in
        for word in panel.caption.split():
            if metrics.horizontalAdvance(word) > room:
                found.append(f"caption word {word!r}: {metrics.horizontalAdvance(word)} > {room:.0f}")
    return found


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize(("colour", "second"), [(False, True), (True, False), (True, True)])
def test_the_filters_pictures_and_captions_fit_at_every_scale(qtbot, window, scale, colour,
                                                               second) -> None:
    present(qtbot, window, scale)
    filters = stepped_filters(qtbot, window)
    filters.settings.update({"colour": colour, "second": second})
    filters.steps.set_position(4)
    qtbot.wait(100)
    views = filters.views
    shown = [view for view in views.findChildren(MatrixViewWidget) if view.isVisible()]
    assert len(shown) == 4
    for view in shown:
        assert misfits(view) == [], (view is views.detail_view, scale)
    # A colour step's three windows and products still print their numbers.
    assert views.detail_view.numbers_visible(0), views.detail_view.cell_size()
    hint = window.minimumSizeHint()
    assert hint.width() <= PROJECTOR[0] and hint.height() <= PROJECTOR[1], hint


def test_a_colour_step_shows_one_channel_at_a_time_at_large_text(qtbot, window) -> None:
    filters = stepped_filters(qtbot, window)
    filters.settings.update({"colour": True, "second": True})
    filters.steps.set_position(4)
    qtbot.wait(50)
    views, picker = filters.views, filters.steps.channel_combo
    assert len(views.detail_view.panels()) == 6 and picker.isHidden()  # R, G and B side by side
    present(qtbot, window, LARGEST)
    qtbot.waitUntil(lambda: len(views.detail_view.panels()) == 3)
    assert picker.isVisible()
    picker.setCurrentIndex(1)  # G: the user's choice is the lesson's
    assert filters.settings.channel == 2
    step = filters.layer.conv_step(4, 0)
    window_panel, kernel_panel, products_panel = views.detail_view.panels()
    assert window_panel.caption == "Window G"
    np.testing.assert_array_equal(window_panel.values, step.window[..., 1])
    np.testing.assert_array_equal(kernel_panel.values, filters.layer.kernels[..., 1, 0])
    np.testing.assert_array_equal(products_panel.values, step.products[..., 1])
    # The sentence still adds up every channel, and the digits are a gray step's size.
    assert all(f"{name}: " in views.equation() for name in "RGB"), views.equation()
    assert views.detail_view.numbers_visible(0)
    present(qtbot, window, None)
    qtbot.waitUntil(lambda: len(views.detail_view.panels()) == 6)
    assert picker.isHidden()


def widgets_at(window: MainWindow) -> dict[str, list[tuple[float, int, tuple[int, int]]]]:
    """The font's point and pixel size and the size of every visible widget of the window, by
    its path of class and object names (widgets moved between layouts change their order
    among their siblings, so the widgets of one path are compared as a sorted list)."""
    found: dict[str, list] = {}
    for widget in window.findChildren(QWidget):
        if not widget.isVisible():
            continue
        path, part = [], widget
        while part is not window:
            path.append(f"{type(part).__name__}:{part.objectName()}")
            part = part.parentWidget()
        font = widget.font()
        found.setdefault("/".join(reversed(path)), []).append(
            (font.pointSizeF(), font.pixelSize(), widget.size().toTuple()))
    return {path: sorted(sizes) for path, sizes in found.items()}


def every_tab(qtbot, window: MainWindow) -> dict[str, dict]:
    """:func:`widgets_at` with each tab shown in turn, once its jobs have ended."""
    seen = {}
    for index, tab in enumerate(tabs(window)):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(100)
        settle(qtbot, window)
        qtbot.wait(100)
        seen[tab.title] = widgets_at(window)
    return seen


def differences(before: dict, after: dict) -> list[str]:
    return [f"{title} {path}: {before[title].get(path)} then {after[title].get(path)}"
            for title in before for path in sorted(set(before[title]) | set(after[title]))
            if before[title].get(path) != after[title].get(path)]


def test_leaving_presentation_mode_gives_back_the_fresh_window(qtbot, window) -> None:
    fresh = every_tab(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    present(qtbot, window, LARGEST)
    every_tab(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert not window.present_action.isChecked()
    qtbot.waitUntil(lambda: window.font().pointSizeF() == window.font_size())
    assert differences(fresh, every_tab(qtbot, window)) == []


def cut_lines(root: QWidget) -> list[str]:
    """Word-wrapped labels under ``root`` shown less tall than their wrapped lines: text cut
    off mid-line at the bottom."""
    return [f"{label.text()[:40]!r}: {label.height()} < {label.heightForWidth(label.width())}"
            for label in root.findChildren(QLabel)
            if label.isVisible() and label.wordWrap() and label.text()
            and label.height() < label.heightForWidth(label.width())]


@pytest.mark.parametrize("scale", [None, 175, LARGEST])
def test_after_a_run_the_curves_keep_their_height_and_results_show_whole(
        qtbot, window, scale, tmp_path) -> None:
    window.state.set_runs_dir(tmp_path / "runs")
    train = window.findChild(TrainTab)
    window.tabs.setCurrentWidget(train)
    window.state.train.update({"epochs": 1, "batch_size": 256})
    with qtbot.waitSignal(train.runner.sig_finished, timeout=WAIT_MS):
        train.start()
    settle(qtbot, window)
    present(qtbot, window, scale)
    qtbot.wait(100)
    least = CHART_LINES * window.fontMetrics().height()
    assert train.curves.isVisible() and train.curves.height() >= max(150, least), train.curves.height()
    results = window.findChild(ResultsTab)
    window.tabs.setCurrentWidget(results)
    qtbot.waitUntil(lambda: results.evaluate_button.isEnabled(), timeout=WAIT_MS)
    with qtbot.waitSignal(results.runner.sig_finished, timeout=WAIT_MS):
        results.evaluate_button.click()
    qtbot.wait(100)
    assert cut_lines(results) == [] and settled_clipped(qtbot, results) == []
    settle(qtbot, window)


def test_the_augment_preview_shows_two_rows_at_the_largest_scale(qtbot, window) -> None:
    present(qtbot, window, LARGEST)
    augment = window.findChild(AugmentTab)
    with qtbot.waitSignal(augment.sig_previewed, timeout=WAIT_MS):
        window.tabs.setCurrentWidget(augment)
    qtbot.wait(100)
    previews = augment.previews
    pictures = [label for label in previews.findChildren(QLabel) if label.isVisible()]
    assert len(pictures) >= 2 * previews.columns()
    side = max(label.height() for label in pictures)
    assert previews.viewport().height() >= 2 * side, (previews.viewport().height(), side)
    settle(qtbot, window)


def test_the_getting_started_steps_follow_the_text_size(qtbot, window) -> None:
    window.guide.open_guide()
    present(qtbot, window, LARGEST)
    window.guide.show_popup()
    qtbot.wait(50)
    buttons = list(window.guide.buttons.values())
    assert any(button.font().bold() for button in buttons)  # the step shown
    assert {button.font().pointSizeF() for button in buttons} == {window.font().pointSizeF()}


@pytest.mark.parametrize("scale", SCALES)
def test_the_getting_started_panel_leaves_the_tabs_a_projectors_height(qtbot, window, scale) -> None:
    """At large text the guide is a button in the menu bar's corner naming the step, over
    nothing of the tabs; it opens the steps under the menu bar; F5 off docks the panel again."""
    guide = window.guide
    guide.open_guide()
    present(qtbot, window, scale)
    qtbot.wait(50)
    hint = window.minimumSizeHint()
    assert hint.width() <= PROJECTOR[0] and hint.height() <= PROJECTOR[1], hint
    assert (window.width(), window.height()) == PROJECTOR
    assert guide.is_open() and not guide.isVisible()  # nothing floats over the tabs' foot
    corner = guide.corner_button
    assert corner.isVisible() and corner.text() == "Getting started: ✓  Dataset"
    menu = window.menuBar()
    room = menu.width() - max(menu.actionGeometry(a).right() for a in menu.actions())
    assert corner.parentWidget().width() <= room, (corner.parentWidget().width(), room)
    assert cut_tab_titles(window) == []
    qtbot.mouseClick(corner, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(guide.popup.isVisible)
    guide.go_to("Train")  # the longest step
    assert corner.text() == "Getting started: 4  Train"
    popup = guide.popup.frameGeometry()
    assert window.frameGeometry().contains(popup) and popup.top() >= menu.mapToGlobal(menu.rect().bottomLeft()).y()
    assert cut_lines(guide.popup) == [] and settled_clipped(qtbot, guide.popup) == []
    window.set_presenting(False)
    qtbot.waitUntil(guide.isVisible)  # docked again at the normal text, the steps inside
    assert not guide.popup.isVisible() and not corner.isVisible() and guide.widget() is guide.body
    assert guide.text.isVisible() and "Train" in guide.text.text()
    settle(qtbot, window)


def test_closing_the_guide_at_large_text_closes_it_for_the_normal_text_too(qtbot, window) -> None:
    guide = window.guide
    guide.open_guide()
    present(qtbot, window, LARGEST)
    close = next(b for b in guide.corner.findChildren(QToolButton) if b.text() == "✕")
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert not guide.is_open() and not guide.corner.isVisible()
    window.set_presenting(False)
    qtbot.wait(50)
    assert not guide.isVisible() and not guide.is_open()
    window.close()
    assert window.settings.value("guide/open", type=bool) is False  # the next start opens none


@pytest.mark.parametrize("scale", [None, LARGEST])
def test_a_status_message_shows_whole_or_cut_in_the_middle_never_under_the_datasets_name(
        qtbot, window, scale, tmp_path) -> None:
    present(qtbot, window, scale)
    bar, label = window.statusBar(), window.dataset_label
    qtbot.waitUntil(lambda: label.text() != "No dataset", timeout=WAIT_MS)
    short = "Saved."
    long = f"Saved the frame to {tmp_path / ('a-long-folder-name-' * 4)}/frame-0001.png"
    for message in (short, long):
        window.show_status(message)
        qtbot.wait(50)
        shown = bar.currentMessage()
        # QStatusBar paints the message from x = 6 up to the first permanent widget shown.
        right = label.x() if label.isVisible() else bar.width() - 12
        assert bar.fontMetrics().horizontalAdvance(shown) <= right - 6, (shown, right)
        if shown != message:  # cut: in the middle, whole in the tooltip
            assert shown.startswith("Saved the") and shown.endswith("png") and "…" in shown
            assert bar.toolTip() == message
    assert window.show_status(short) is None and label.isVisible()
    window.show_status(long)
    bar.clearMessage()  # the message gone (its 8 s): the dataset's name is back
    assert label.isVisible() and bar.toolTip() == ""


def test_a_window_started_presenting_and_made_projector_sized_stays_so_after_f5(
        qtbot, settings, app_look, data_dir) -> None:  # noqa: F811 (app_look is a fixture)
    """Leaving presentation mode gives back the size from before it, but no side larger than
    the window has now: one started presenting (remembered) and made 1280 x 720 kept growing
    back to the size it was built at."""
    settings.setValue("ui/presentation", True)
    settings.setValue("ui/presentation_scale", LARGEST)
    window = open_window(qtbot, settings)
    window.resize(*PROJECTOR)
    qtbot.wait(50)
    window.set_presenting(False)
    qtbot.wait(50)
    least = window.minimumSizeHint()
    assert window.width() == PROJECTOR[0] and window.height() == max(PROJECTOR[1], least.height())
    settle(qtbot, window)
