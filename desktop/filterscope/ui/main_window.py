"""The main window: the tabs from the registry, a status bar, persisted geometry and font size."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QSettings, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTabWidget, QWidget

from filterscope.core.data.datasets import Dataset
from filterscope.ui.state import AppState
from filterscope.workers import JobRunner

TabFactory = Callable[[AppState], QWidget]
MIN_FONT, MAX_FONT = 8, 32


class MainWindow(QMainWindow):
    """Hosts one tab per registered factory; tabs talk only through the shared AppState."""

    def __init__(self, tabs: list[TabFactory], settings: QSettings) -> None:
        super().__init__()
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
        self.setCentralWidget(self.tabs)
        self.dataset_label = QLabel("No dataset")
        self.statusBar().addPermanentWidget(self.dataset_label)
        self.state.sig_dataset_changed.connect(self._on_state_dataset_changed)
        self._build_menu()
        self.resize(1280, 800)
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._set_font_size(int(settings.value("ui/font_size", QApplication.font().pointSize())))

    def _build_menu(self) -> None:
        view = self.menuBar().addMenu("&View")
        for text, shortcut, step in (("Larger text", QKeySequence.StandardKey.ZoomIn, 2),
                                     ("Smaller text", QKeySequence.StandardKey.ZoomOut, -2)):
            action = QAction(text, self, shortcut=shortcut)
            action.triggered.connect(lambda _=False, s=step: self._set_font_size(self.font_size() + s))
            view.addAction(action)
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

    def font_size(self) -> int:
        """The application's text size in points."""
        return QApplication.font().pointSize()

    def _set_font_size(self, points: int) -> None:
        """Bigger text for projectors; remembered across sessions."""
        font = QApplication.font()
        font.setPointSize(min(max(points, MIN_FONT), MAX_FONT))
        QApplication.setFont(font)
        self.settings.setValue("ui/font_size", font.pointSize())

    @Slot(str)
    def _on_tab_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    @Slot(object)
    def _on_state_dataset_changed(self, dataset: Dataset) -> None:
        kind = " (synthetic)" if dataset.synthetic else ""
        self.dataset_label.setText(f"{dataset.name}{kind}: {len(dataset):,} images, "
                                   f"{len(dataset.classes)} classes")
        self.settings.setValue("dataset/last", dataset.source)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.settings.setValue("window/geometry", self.saveGeometry())
        for runner in self.findChildren(JobRunner):
            runner.shutdown()
        super().closeEvent(event)
