"""The main window: the tabs from the registry, a status bar, the menus and their shortcuts,
presentation mode and full screen, and the settings they persist (geometry, text size)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTabWidget, QWidget

from filterscope.core.data.datasets import Dataset
from filterscope.ui.guide import GuideDock
from filterscope.ui.presentation import DEFAULT_SCALE, SCALES, Presentation, apply_font
from filterscope.ui.project_actions import ProjectActions
from filterscope.ui.project_state import ProjectBridge
from filterscope.ui.shortcuts import ShortcutsDialog, add_go_menu, native, press, shortcuts_text
from filterscope.ui.state import AppState
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from filterscope.workers import JobRunner

TabFactory = Callable[[AppState], QWidget]
MIN_FONT, MAX_FONT = 8, 32


class MainWindow(QMainWindow):
    """Hosts one tab per registered factory; tabs talk only through the shared AppState."""

    def __init__(self, tabs: list[TabFactory], settings: QSettings) -> None:
        super().__init__()
        first_start = not settings.allKeys()  # before this window writes any
        self.setWindowTitle("Filterscope")
        self.state = AppState(self)
        self.settings = settings
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for factory in tabs:
            tab = factory(self.state)
            self.tabs.addTab(tab, tab.title)
            if hasattr(tab, "sig_status"):
                tab.sig_status.connect(self._on_tab_status)
            if hasattr(tab, "sig_show_tab"):
                tab.sig_show_tab.connect(self.show_tab)
            for drawer in tab.findChildren(SideDrawerWidget):  # settings shown or hidden
                drawer.remember(settings, f"ui/settings_shown/{tab.title}")
        self.setCentralWidget(self.tabs)
        self.dataset_label = QLabel("No dataset")
        self.statusBar().addPermanentWidget(self.dataset_label)
        self.statusBar().messageChanged.connect(self._on_status_bar_message_changed)
        self.state.sig_dataset_changed.connect(self._on_state_dataset_changed)
        self.presentation = Presentation()
        self._font_points = QApplication.font().pointSize()  # Larger text's size, before presenting
        self._build_menu()
        self.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, self.guide)
        if self.guide.show_at_start(first_start):
            self.guide.open_guide()
        else:
            self.guide.close_guide()
        self.resize(1280, 800)
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        scale = int(settings.value("ui/presentation_scale", DEFAULT_SCALE))
        self.set_presentation_scale(scale if scale in SCALES else DEFAULT_SCALE)
        self.present_action.setChecked(settings.value("ui/presentation", False, type=bool))
        self._set_font_size(int(settings.value("ui/font_size", self._font_points)))

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        bridge = ProjectBridge.find(self, self.state)
        self.projects = None if bridge is None else ProjectActions(self, bridge, self.settings, file_menu)
        view = self.menuBar().addMenu("&View")
        for text, shortcut, step in (("Larger text", QKeySequence.StandardKey.ZoomIn, 2),
                                     ("Smaller text", QKeySequence.StandardKey.ZoomOut, -2)):
            action = QAction(text, self, shortcut=shortcut)
            action.triggered.connect(lambda _=False, s=step: self._set_font_size(self.font_size() + s))
            view.addAction(action)
        view.addSeparator()
        self.present_action = QAction("Presentation mode", self, checkable=True, shortcut="F5")
        self.present_action.toggled.connect(self.set_presenting)
        view.addAction(self.present_action)
        scale_menu = view.addMenu("Presentation scale")
        self.scale_actions = QActionGroup(self)
        for percent in SCALES:
            action = QAction(f"{percent} %", self, checkable=True)
            action.setData(percent)
            action.triggered.connect(lambda _=False, p=percent: self.set_presentation_scale(p))
            self.scale_actions.addAction(action)
            scale_menu.addAction(action)
        self.full_action = QAction("Full screen (this tab only)", self, checkable=True, shortcut="F11")
        self.full_action.toggled.connect(self.set_full_screen)
        view.addAction(self.full_action)
        go_menu = self.menuBar().addMenu("&Go")
        self.button_actions = add_go_menu(self, self.tabs, go_menu)
        escape = QAction(self, shortcut="Esc")
        escape.triggered.connect(self._on_escape_triggered)
        self.addAction(escape)  # not in a menu: it leaves full screen or stops, as fits
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("Keyboard shortcuts", self.show_shortcuts)
        self.guide = GuideDock(self.tabs, self.state, self.settings, self)
        help_menu.addAction("Getting started", self.guide.open_guide)
        for menu in (file_menu, view, go_menu):  # their shortcuts work with the menu bar hidden too
            self.addActions(menu.actions())

    def font_size(self) -> int:
        """The text size chosen with Larger/Smaller text, in points (before presentation mode)."""
        return self._font_points

    def _set_font_size(self, points: int) -> None:
        """Bigger text for projectors; remembered across sessions."""
        self._font_points = min(max(points, MIN_FONT), MAX_FONT)
        self.settings.setValue("ui/font_size", self._font_points)
        self._apply_font()

    def _apply_font(self) -> None:
        font = QApplication.font()
        font.setPointSizeF(self._font_points * self.presentation.factor())
        apply_font(font)

    @Slot(bool)
    def set_presenting(self, on: bool) -> None:
        """Presentation mode on or off (the View menu's check follows); remembered."""
        self.present_action.setChecked(on)
        was_on = self.presentation.is_on()
        if on and not was_on:
            self.presentation.remember_layout(self)
        self.presentation.set_on(on)
        self._apply_font()
        if was_on and not on:
            self.presentation.restore_layout(self)
        self.settings.setValue("ui/presentation", on)

    def set_presentation_scale(self, percent: int) -> None:
        """Presentation mode's text and control size, in per cent (one of SCALES); remembered."""
        self.presentation.set_scale(percent)
        for action in self.scale_actions.actions():
            action.setChecked(action.data() == percent)
        self.settings.setValue("ui/presentation_scale", percent)
        self._apply_font()

    @Slot(bool)
    def set_full_screen(self, on: bool) -> None:
        """The current tab alone on the whole screen: no menus, tab bar or status bar (F11 or
        Esc leaves; the shortcuts keep working)."""
        self.full_action.setChecked(on)
        for bar in (self.menuBar(), self.tabs.tabBar(), self.statusBar()):
            bar.setVisible(not on)
        if on:
            self.showFullScreen()
        else:
            self.showNormal()

    @Slot()
    def _on_escape_triggered(self) -> None:
        if self.isFullScreen() or self.full_action.isChecked():
            self.set_full_screen(False)
        else:
            press(self.tabs, "stop")

    @Slot()
    def show_shortcuts(self) -> None:
        """Help > Keyboard shortcuts."""
        view_keys = [(native(action.shortcut().toString()), action.text())
                     for action in (self.present_action, self.full_action)]
        view_keys += [(native("Ctrl++") + " / " + native("Ctrl+-"), "Larger / smaller text")]
        ShortcutsDialog(shortcuts_text(self.tabs, view_keys), self).exec()

    @Slot(str)
    def show_tab(self, title: str) -> None:
        """Show the tab called ``title`` (a tab asks, as the Visualise tab does for a clicked
        network tile)."""
        for index in range(self.tabs.count()):
            if self.tabs.tabText(index) == title:
                self.tabs.setCurrentIndex(index)
                return

    @Slot(str)
    def _on_tab_status(self, message: str) -> None:
        self.show_status(message)

    def show_status(self, message: str) -> None:
        """Show ``message`` in the status bar for 8 s, whole where it can be: beside the
        dataset's name when it fits there, else in the whole bar (the name gives way until it
        goes), else cut in the middle with "…" (a path keeps its start and its file name) and
        whole in the bar's tooltip. The bar itself cuts a message mid-word at the name."""
        bar, label = self.statusBar(), self.dataset_label
        metrics = bar.fontMetrics()
        room = bar.width() - 18 - (bar.layout().spacing() if bar.layout() else 0)  # the bar's margins
        beside = room - label.sizeHint().width() - 12
        fits = metrics.horizontalAdvance(message) <= beside
        label.setVisible(fits)
        shown = message if fits else metrics.elidedText(message, Qt.TextElideMode.ElideMiddle, room)
        bar.setToolTip(message if shown != message else "")
        bar.showMessage(shown, 8000)

    @Slot(str)
    def _on_status_bar_message_changed(self, message: str) -> None:
        if not message:  # the message has gone: the dataset's name again
            self.dataset_label.show()
            self.statusBar().setToolTip("")

    @Slot(object)
    def _on_state_dataset_changed(self, dataset: Dataset) -> None:
        kind = " (synthetic)" if dataset.synthetic else ""
        self.dataset_label.setText(f"{dataset.name}{kind}: {len(dataset):,} images, "
                                   f"{len(dataset.classes)} classes")
        self.settings.setValue("dataset/last", dataset.source.to_json())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.set_full_screen(False)  # the geometry to remember is the normal window's
        self.settings.setValue("window/geometry", self.saveGeometry())
        if self.projects is not None:
            self.projects.on_close()
        self.guide.remember()
        for runner in self.findChildren(JobRunner):
            runner.shutdown()
        super().closeEvent(event)
