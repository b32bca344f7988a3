"""The settings column's bar: it hides the settings while both fit, swaps them with the view when
the window is too narrow for both, and follows a change of what they need (larger text)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


def boxed(width: int) -> QWidget:
    widget = QLabel("x")
    widget.setMinimumWidth(width)
    return widget


@pytest.fixture
def drawer(qtbot) -> Iterator[SideDrawerWidget]:
    """A drawer in a window (as in a tab: a window of its own would not narrow below the sum)."""
    window = QWidget()
    drawer = SideDrawerWidget(boxed(300), boxed(400))
    layout = QVBoxLayout(window)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(drawer)
    qtbot.addWidget(window)
    window.resize(1000, 400)
    window.show()
    qtbot.waitExposed(window)
    yield drawer  # the window stays referenced while the test runs
    window.close()


def click(qtbot, drawer: SideDrawerWidget) -> None:
    qtbot.mouseClick(drawer.button, Qt.MouseButton.LeftButton)


def test_the_minimum_width_is_the_wider_of_the_two_not_their_sum(drawer) -> None:
    spare = drawer.button.sizeHint().width() + drawer.layout().spacing()
    assert drawer.minimumSizeHint().width() == spare + 400


def test_while_both_fit_the_bar_hides_and_shows_the_settings(qtbot, drawer) -> None:
    assert drawer.fits() and drawer.panel.isVisible() and drawer.content.isVisible()
    with qtbot.waitSignal(drawer.sig_panel_toggled) as signal:
        click(qtbot, drawer)
    assert signal.args == [False]
    assert not drawer.panel.isVisible() and drawer.content.isVisible()
    assert drawer.button.arrowType() == Qt.ArrowType.RightArrow and "Show" in drawer.button.toolTip()
    click(qtbot, drawer)
    assert drawer.panel.isVisible() and drawer.content.isVisible()


def test_too_narrow_for_both_the_view_shows_and_the_bar_swaps(qtbot, drawer) -> None:
    drawer.window().resize(600, 400)
    qtbot.waitUntil(lambda: not drawer.panel.isVisible())
    assert not drawer.fits() and drawer.content.isVisible()
    click(qtbot, drawer)
    assert drawer.panel.isVisible() and not drawer.content.isVisible()
    click(qtbot, drawer)
    assert not drawer.panel.isVisible() and drawer.content.isVisible()
    drawer.window().resize(1000, 400)  # room again: both, as the user last chose while they fitted
    qtbot.waitUntil(lambda: drawer.panel.isVisible())
    assert drawer.content.isVisible()


def test_a_hidden_choice_is_kept_when_the_room_comes_back(qtbot, drawer) -> None:
    drawer.set_panel_shown(False)
    drawer.window().resize(600, 400)
    qtbot.wait(20)
    drawer.window().resize(1000, 400)
    qtbot.wait(20)
    assert not drawer.panel.isVisible() and drawer.content.isVisible()


def test_settings_that_grow_without_a_resize_give_way(qtbot, drawer) -> None:
    drawer.panel.setMinimumWidth(700)  # as larger text does, the drawer's own size unchanged
    qtbot.waitUntil(lambda: not drawer.panel.isVisible())
    assert drawer.content.isVisible()


def test_the_choice_is_remembered(qtbot, drawer, settings) -> None:
    drawer.remember(settings, "ui/settings_shown/Test")
    assert drawer.panel.isVisible()  # nothing saved yet: shown
    click(qtbot, drawer)
    assert settings.value("ui/settings_shown/Test", type=bool) is False
    again = SideDrawerWidget(boxed(300), boxed(400))
    qtbot.addWidget(again)
    again.remember(settings, "ui/settings_shown/Test")
    again.resize(1000, 400)
    again.show()
    qtbot.waitExposed(again)
    assert not again.panel.isVisible() and again.content.isVisible()
