"""Getting started: the first start opens on the built-in digits with the five-step guide; its
buttons go to the tabs; steps tick; "Don't show again" and closing it are remembered."""

from __future__ import annotations

from pathlib import Path

from filterscope.app import create_window
from filterscope.core.data.source import BuiltinSource
from filterscope.ui.guide import STEPS
from filterscope.ui.main_window import MainWindow
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMenu

from tests.ui.screen import settle, show_window

WAIT_MS = 60_000


def start(qtbot, settings: QSettings) -> MainWindow:
    window = create_window(settings)
    # A window closed with changes keeps them for recovery; the next start's question is
    # answered here (no modal box in tests).
    window.projects.dialogs.recover = lambda _path, _when: False
    return show_window(qtbot, window, timeout=WAIT_MS)


def stop(qtbot, window: MainWindow) -> None:
    settle(qtbot, window, WAIT_MS)
    window.close()


def current_title(window: MainWindow) -> str:
    return window.tabs.currentWidget().title


def test_the_first_start_opens_on_the_digits_with_the_guide(qtbot, settings, data_dir) -> None:
    assert not settings.allKeys()  # a new machine
    window = start(qtbot, settings)
    guide = window.guide
    assert window.state.dataset.source == BuiltinSource("mnist")  # shipped with the app: offline
    assert guide.isVisible() and [b.text() for b in guide.buttons.values()] == \
        ["✓  Dataset", "2  Mask", "3  Augment", "4  Train", "5  Visualise"]
    assert "Open now: MNIST digits (5,000), 5,000 images in 10 classes" in guide.text.text()
    qtbot.mouseClick(guide.buttons["Mask"], Qt.MouseButton.LeftButton)
    assert current_title(window) == "Mask" and "threshold" in guide.text.text()
    qtbot.mouseClick(guide.buttons["Augment"], Qt.MouseButton.LeftButton)
    assert current_title(window) == "Augment" and guide.done() == {"Dataset", "Mask", "Augment"}
    window.tabs.setCurrentIndex(0)  # the tabs themselves move the guide along too
    assert "MNIST" in guide.text.text()
    window.state.run_saved(Path("run"))  # training a run ticks Train
    assert "Train" in guide.done() and guide.buttons["Train"].text() == "✓  Train"
    guide.never_box.setChecked(True)
    assert not guide.isVisible()
    stop(qtbot, window)
    window = start(qtbot, settings)  # the second start
    assert not window.guide.isVisible()
    assert window.guide.done() == {"Dataset", "Mask", "Augment", "Train"}  # progress is kept
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert isinstance(help_menu, QMenu)
    next(a for a in help_menu.actions() if a.text() == "Getting started").trigger()
    assert window.guide.isVisible()
    stop(qtbot, window)


def test_closing_the_guide_keeps_it_closed_and_leaving_it_open_keeps_it_open(qtbot, settings,
                                                                               data_dir) -> None:
    window = start(qtbot, settings)
    assert window.guide.isVisible()
    stop(qtbot, window)  # left open: it opens again
    window = start(qtbot, settings)
    assert window.guide.isVisible()
    window.guide.close()  # the panel's own close button
    stop(qtbot, window)
    window = start(qtbot, settings)
    assert not window.guide.isVisible()
    stop(qtbot, window)


def test_an_existing_user_and_a_finished_guide_get_no_guide(qtbot, settings, data_dir) -> None:
    settings.setValue("dataset/last", "builtin:mnist")  # settings of an earlier version
    window = start(qtbot, settings)
    assert not window.guide.isVisible()
    stop(qtbot, window)
    settings.clear()
    settings.setValue("guide/done", [title for title, _text in STEPS])
    window = start(qtbot, QSettings(settings.fileName(), QSettings.Format.IniFormat))
    assert not window.guide.isVisible()
    stop(qtbot, window)


def test_the_first_look_needs_no_dataset_efficientnet_lite0s_goldfish(qtbot, settings, data_dir) -> None:
    """Before any step: EfficientNet-Lite0 (offline) chosen in the Visualise tab with its goldfish
    class and the clean preset, ready for Start; the text says nothing of digits or photos."""
    window = start(qtbot, settings)
    guide = window.guide
    assert guide.first_look_button.text() == "Try first: a goldfish"
    qtbot.mouseClick(guide.first_look_button, Qt.MouseButton.LeftButton)
    tab = window.tabs.currentWidget()
    assert current_title(window) == "Visualise" and "EfficientNet-Lite0" in guide.text.text()
    assert not any(word in guide.text.text() for word in ("digit", "photo", "mask"))
    settings_ = window.state.visualize
    assert (settings_.model, settings_.kind, settings_.class_index, settings_.preset) == \
        ("efficientnet-lite0", "class", 1, "clean")
    qtbot.waitUntil(lambda: tab.session() is not None and tab.session().loaded.kind == "efficientnet-lite0",
                    timeout=WAIT_MS)
    assert tab.controls.class_combo.currentText() == "1: goldfish" and tab.controls.start_button.isEnabled()
    stop(qtbot, window)
