"""Presentation mode, full screen and the keyboard shortcuts, on the real main window."""

from __future__ import annotations

import matplotlib
import pytest
from filterscope.app import TABS, create_window
from filterscope.ui.main_window import MainWindow
from filterscope.ui.presentation import DEFAULT_SCALE, SCALES, PresentationStyle
from filterscope.ui.widgets.mpl_canvas import MplCanvasWidget
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QHeaderView, QLabel, QPushButton, QStyle, QWidget

from tests.ui.screen import settle, show_window

PROJECTOR = (1280, 720)
WAIT_MS = 120_000


@pytest.fixture
def app_look():
    """The application's font, palette and style before the test, put back after it."""
    app = QApplication.instance()
    font, palette, style = app.font(), app.palette(), app.style().name()
    yield font, palette, style
    if not isinstance(app.style(), PresentationStyle) and app.style().name() == style:
        app.setPalette(palette)
    else:  # a failed test left presentation mode on
        app.setStyle(style)
        app.setPalette(palette)
    MplCanvasWidget.set_presenting(False)
    app.setFont(font)


def open_window(qtbot, settings) -> MainWindow:
    """The app's window on the built-in digits, shown and active."""
    settings.setValue("dataset/last", "builtin:mnist")
    # pytest-qt closes and deletes the window before fixtures are torn down: leave it first.
    window = show_window(qtbot, create_window(settings), before_close=lambda shown: leave(qtbot, shown))
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)  # shortcuts need it
    return window


def leave(qtbot, window: MainWindow) -> None:
    """No job left running, and the application's look back to plain."""
    settle(qtbot, window)
    window.presentation.set_on(False)


@pytest.fixture
def window(qtbot, settings, app_look, data_dir):
    return open_window(qtbot, settings)


def tabs(window: MainWindow) -> list[QWidget]:
    return [window.tabs.widget(i) for i in range(window.tabs.count())]


def test_presentation_scales_every_tab_and_turning_it_off_restores_everything(qtbot, window) -> None:
    app = QApplication.instance()
    before = {tab.title: tab.font().pointSizeF() for tab in tabs(window)}
    palette, style = QPalette(app.palette()), app.style().name()
    indicator = app.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
    canvas = window.findChild(MplCanvasWidget)
    chart_points = canvas.text_points()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.present_action.isChecked()
    factor = DEFAULT_SCALE / 100
    qtbot.waitUntil(lambda: window.font().pointSizeF() != before["Dataset"])  # fonts follow on events
    for tab in tabs(window):
        assert tab.font().pointSizeF() == pytest.approx(before[tab.title] * factor), tab.title
    assert app.palette().color(QPalette.ColorRole.Text).name() == "#000000"
    assert app.palette().color(QPalette.ColorRole.Base).name() == "#ffffff"
    assert app.palette().color(QPalette.ColorRole.Highlight).name() == "#0033cc"
    assert app.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth) == round(indicator * factor)
    assert canvas.text_points() == pytest.approx(chart_points * factor)
    with canvas.styled():
        assert matplotlib.rcParams["lines.linewidth"] >= 3
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert not window.present_action.isChecked()
    qtbot.waitUntil(lambda: window.font().pointSizeF() == before["Dataset"])
    assert {tab.title: tab.font().pointSizeF() for tab in tabs(window)} == before
    assert app.style().name() == style and not isinstance(app.style(), PresentationStyle)
    assert app.palette() == palette
    assert app.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth) == indicator
    with canvas.styled():
        assert matplotlib.rcParams["lines.linewidth"] < 3


def clipped(tab: QWidget) -> list[str]:
    """Labels shown narrower than their one-line text, and header sections narrower than
    their title: what the user would see cut off."""
    found = []
    for label in tab.findChildren(QLabel):
        if label.isVisible() and label.text() and not label.wordWrap() and label.pixmap().isNull() \
                and label.sizeHint().width() > label.width():
            found.append(f"label {label.text()!r}: {label.width()} < {label.sizeHint().width()}")
    for header in tab.findChildren(QHeaderView):
        if not header.isVisible() or header.orientation() != Qt.Orientation.Horizontal:
            continue
        for section in range(header.count()):
            if not header.isSectionHidden(section) \
                    and header.sectionSize(section) < header.sectionSizeHint(section):
                title = header.model().headerData(section, Qt.Orientation.Horizontal)
                found.append(f"header {title!r}: {header.sectionSize(section)} "
                             f"< {header.sectionSizeHint(section)}")
    return found


def settled_clipped(qtbot, tab: QWidget) -> list[str]:
    """What :func:`clipped` finds once the tab's layouts have caught up with a change of text
    size or width (they run on posted events, a moment apart)."""
    try:
        qtbot.waitUntil(lambda: not clipped(tab), timeout=2000)
    except qtbot.TimeoutError:
        pass
    return clipped(tab)


@pytest.mark.parametrize("scale", [None, *SCALES])
def test_every_tab_fits_a_projector_unclipped(qtbot, window, scale) -> None:
    if scale is not None:
        window.set_presentation_scale(scale)
        window.set_presenting(True)
        points = window.font_size() * scale / 100
        qtbot.waitUntil(lambda: window.font().pointSizeF() == pytest.approx(points))
    window.resize(*PROJECTOR)
    for index, tab in enumerate(tabs(window)):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(50)  # the tab's layout settles once shown
        hint = window.minimumSizeHint()  # menus, tab bar and status bar included
        assert hint.width() <= PROJECTOR[0] and hint.height() <= PROJECTOR[1], (tab.title, hint)
        assert (window.width(), window.height()) == PROJECTOR, tab.title
        assert settled_clipped(qtbot, tab) == [], tab.title
        drawer = tab.findChild(SideDrawerWidget)
        assert drawer.content.isVisible(), tab.title  # the tab's view is what shows first
        if not drawer.panel_shown():  # no room for both: the settings swap in, unclipped
            qtbot.mouseClick(drawer.button, Qt.MouseButton.LeftButton)
            qtbot.wait(50)
            assert drawer.panel.isVisible() and not drawer.content.isVisible(), tab.title
            assert settled_clipped(qtbot, tab) == [], tab.title
            qtbot.mouseClick(drawer.button, Qt.MouseButton.LeftButton)
            assert drawer.content.isVisible() and not drawer.panel_shown(), tab.title


def test_presentation_mode_and_its_scale_are_remembered(qtbot, window, settings) -> None:
    base = window.font_size()
    window.set_presentation_scale(150)
    window.set_presenting(True)
    window.presentation.set_on(False)  # one window per process: the next one starts from plain
    QApplication.setFont(window.font())
    window.close()
    again = open_window(qtbot, settings)
    assert again.present_action.isChecked()
    assert [a.isChecked() for a in again.scale_actions.actions()] == [True, False, False, False]
    assert QApplication.font().pointSizeF() == pytest.approx(base * 1.5)
    assert again.font_size() == base  # Larger text's own size is kept apart


def test_larger_text_still_works_in_presentation_mode(qtbot, window) -> None:
    base = window.font_size()
    window.set_presenting(True)
    qtbot.keyClick(window, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert window.font_size() == base + 2
    assert QApplication.font().pointSizeF() == pytest.approx((base + 2) * DEFAULT_SCALE / 100)


def test_full_screen_shows_the_tab_alone_and_escape_leaves(qtbot, window) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.isFullScreen()
    assert not window.tabs.tabBar().isVisible()
    assert not window.menuBar().isVisible() and not window.statusBar().isVisible()
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # shortcuts still work
    assert window.tabs.currentIndex() == 2
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isFullScreen()
    assert window.tabs.tabBar().isVisible() and window.menuBar().isVisible()


def test_shortcuts_switch_tabs_and_step_the_filters_tab(qtbot, window) -> None:
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(window, Qt.Key.Key_4, ctrl)
    assert window.tabs.currentWidget().title == "Train"
    qtbot.keyClick(window, Qt.Key.Key_PageDown, ctrl)
    assert window.tabs.currentWidget().title == "Visualise"
    qtbot.keyClick(window, Qt.Key.Key_PageUp, ctrl)
    qtbot.keyClick(window, Qt.Key.Key_PageUp, ctrl)
    assert window.tabs.currentWidget().title == "Augment"
    qtbot.keyClick(window, Qt.Key.Key_7, ctrl)
    filters = window.tabs.currentWidget()
    assert filters.title == "Filters"
    qtbot.waitUntil(lambda: filters.layer is not None, timeout=WAIT_MS)
    steps = filters.steps
    assert steps.position() is None
    qtbot.keyClick(window, Qt.Key.Key_N)
    qtbot.keyClick(window, Qt.Key.Key_N)
    assert steps.position() == 1
    qtbot.keyClick(window, Qt.Key.Key_P)
    assert steps.position() == 0
    filters.views.setFocus()
    qtbot.keyClick(filters.views, Qt.Key.Key_Right)
    qtbot.keyClick(filters.views, Qt.Key.Key_Right)
    assert steps.position() == 2
    qtbot.keyClick(filters.views, Qt.Key.Key_Left)
    assert steps.position() == 1
    assert "(N)" in steps.step_button.toolTip()


class FakeJobTab(QWidget):
    """A tab with a start and a stop button, and the clicks they got."""

    title = "Job"

    def __init__(self, _state) -> None:
        super().__init__()
        self.clicks: list[str] = []
        self.start_button, self.stop_button = QPushButton("Start", self), QPushButton("Stop", self)
        self.start_button.clicked.connect(lambda: self.clicks.append("start"))
        self.stop_button.clicked.connect(lambda: self.clicks.append("stop"))
        self.stop_button.move(0, 40)

    def shortcut_buttons(self) -> dict[str, QPushButton]:
        return {"start": self.start_button, "stop": self.stop_button}


def test_start_and_stop_press_the_tabs_buttons_only_when_they_can_be_clicked(
        qtbot, settings, app_look) -> None:
    window = MainWindow([FakeJobTab], settings)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)  # shortcuts need it
    tab = window.tabs.currentWidget()
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(window, Qt.Key.Key_Return, ctrl)
    qtbot.keyClick(window, Qt.Key.Key_Period, ctrl)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert tab.clicks == ["start", "stop", "stop"]
    tab.start_button.setEnabled(False)
    tab.stop_button.hide()
    qtbot.keyClick(window, Qt.Key.Key_Return, ctrl)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert tab.clicks == ["start", "stop", "stop"]
    assert "Ctrl+Return" in tab.start_button.toolTip()


def test_the_real_tabs_offer_their_start_and_stop_buttons(qtbot, window) -> None:
    by_title = {tab.title: tab for tab in tabs(window)}
    assert by_title["Train"].shortcut_buttons()["start"] is by_title["Train"].start_button
    assert by_title["Visualise"].shortcut_buttons()["stop"] is by_title["Visualise"].controls.stop_button
    assert by_title["Results"].shortcut_buttons()["start"] is by_title["Results"].evaluate_button
    assert by_title["Live"].shortcut_buttons()["stop"] is by_title["Live"].view.stop_button
    assert {tab.title for tab in tabs(window) if hasattr(tab, "shortcut_buttons")} \
        == {"Train", "Visualise", "Results", "Filters", "Live"}
    assert len(tabs(window)) == len(TABS)
