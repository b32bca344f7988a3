"""Keyboard shortcuts for the main actions: switch tabs, start and stop a tab's job, step the
Filters tab, and the Help dialog that lists them (with the View menu's own).

A tab takes part by offering ``shortcut_buttons()``: a dict with any of the keys ``start``,
``stop``, ``next`` and ``previous`` mapped to the buttons those shortcuts press. A shortcut
presses the current tab's button only when the button could be clicked (shown and enabled),
so a shortcut never does what the mouse could not.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
    QMenu,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

# (action, keys, what it does): the keys of one action, the first shown in the menu.
BUTTON_KEYS = {
    "start": (("Ctrl+Return", "Ctrl+Enter"), "Start the tab's job (train, paint, evaluate)"),
    "stop": (("Ctrl+.", "Esc"), "Stop it (Esc leaves full screen first)"),
    "next": (("N",), "Filters: next step (→ in the step-through too)"),
    "previous": (("P",), "Filters: previous step (← in the step-through too)"),
}
TAB_KEYS = (("Ctrl+PgDown", "Next tab"), ("Ctrl+PgUp", "Previous tab"))


def native(keys: str) -> str:
    """A key sequence as this platform writes it (Ctrl is ⌘ on macOS)."""
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)


def tab_button(tab: QWidget, key: str) -> QAbstractButton | None:
    """The tab's button for ``key`` when it could be clicked now, else None."""
    buttons = tab.shortcut_buttons() if hasattr(tab, "shortcut_buttons") else {}
    button = buttons.get(key)
    if button is None or not (button.isVisibleTo(tab) and button.isEnabled()):
        return None
    return button


def add_go_menu(window: QMainWindow, tabs: QTabWidget, menu: QMenu) -> dict[str, QAction]:
    """Fill the Go menu: a tab per Ctrl+digit, next/previous tab, and the tab buttons' actions;
    label the buttons' tooltips with their keys. Returns the button actions by key."""
    for index in range(min(tabs.count(), 9)):
        action = QAction(tabs.tabText(index), window, shortcut=QKeySequence(f"Ctrl+{index + 1}"))
        action.triggered.connect(lambda _=False, i=index: tabs.setCurrentIndex(i))
        menu.addAction(action)
    for keys, text in TAB_KEYS:
        step = 1 if "Down" in keys else -1
        action = QAction(text, window, shortcut=QKeySequence(keys))
        action.triggered.connect(
            lambda _=False, s=step: tabs.setCurrentIndex((tabs.currentIndex() + s) % tabs.count()))
        menu.addAction(action)
    menu.addSeparator()
    actions = {}
    for key, (keys, text) in BUTTON_KEYS.items():
        action = QAction(text.split(" (")[0], window)
        action.setShortcuts([QKeySequence(k) for k in keys if k != "Esc"])
        action.triggered.connect(lambda _=False, k=key: press(tabs, k))
        menu.addAction(action)
        actions[key] = action
    for index in range(tabs.count()):
        label_buttons(tabs.widget(index))
    return actions


def press(tabs: QTabWidget, key: str) -> bool:
    """Click the current tab's ``key`` button if it can be clicked; True if it was."""
    button = tab_button(tabs.currentWidget(), key)
    if button is not None:
        button.click()
    return button is not None


def label_buttons(tab: QWidget) -> None:
    """Add each shortcut to its button's tooltip, where the mouse finds it."""
    if not hasattr(tab, "shortcut_buttons"):
        return
    for key, button in tab.shortcut_buttons().items():
        keys = " or ".join(native(k) for k in BUTTON_KEYS[key][0] if k != "Ctrl+Enter")
        tip = button.toolTip()
        button.setToolTip((f"{tip}\n" if tip else "") + f"{button.text()} ({keys})")


def shortcuts_text(tabs: QTabWidget, view_keys: list[tuple[str, str]]) -> str:
    """Every shortcut as an HTML table, for the Help dialog."""
    rows = [(native(f"Ctrl+{i + 1}"), f"Go to the {tabs.tabText(i)} tab")
            for i in range(min(tabs.count(), 9))]
    rows += [(native(keys), text) for keys, text in TAB_KEYS]
    rows += [(" or ".join(native(k) for k in keys if k != "Ctrl+Enter"), text)
             for keys, text in BUTTON_KEYS.values()]
    rows += view_keys
    cells = "".join(f"<tr><td><b>{keys}</b>&nbsp;&nbsp;</td><td>{text}</td></tr>" for keys, text in rows)
    return f"<table>{cells}</table>"


class ShortcutsDialog(QDialog):
    """Help > Keyboard shortcuts: the list, and a Close button."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QLabel(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
