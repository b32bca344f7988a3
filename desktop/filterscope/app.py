"""Application bootstrap: QApplication, settings, the explicit tab registry, the main window.

Nothing here imports TensorFlow: the window must appear at once, and the tabs that need Keras
import it lazily in the background.
"""

from __future__ import annotations

import sys
from typing import Sequence

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from filterscope import __version__
from filterscope.core.data.source import DEFAULT_SOURCE, Source, SourceError
from filterscope.selftest import FLAG as SELF_TEST_FLAG
from filterscope.ui.main_window import MainWindow, TabFactory
from filterscope.ui.resources import icon
from filterscope.ui.tabs.augment_tab import AugmentTab
from filterscope.ui.tabs.dataset_tab import DatasetTab
from filterscope.ui.tabs.filters_tab import FiltersTab
from filterscope.ui.tabs.live_tab import LiveTab
from filterscope.ui.tabs.mask_tab import MaskTab
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.tabs.train_tab import TrainTab
from filterscope.ui.tabs.visualize_tab import VisualizeTab

# The tab registry: only tabs that work are listed; later tabs are added here in order.
TABS: list[TabFactory] = [DatasetTab, MaskTab, AugmentTab, TrainTab, VisualizeTab, ResultsTab,
                          FiltersTab, LiveTab]


def make_settings() -> QSettings:
    """INI settings in the user's config folder (tests redirect it with QSettings.setPath)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Filterscope", "Filterscope")


def create_window(settings: QSettings | None = None) -> MainWindow:
    """Build the main window and schedule opening the last (or the default) dataset."""
    window = MainWindow(TABS, settings or make_settings())
    try:  # the settings hold what open_source once took: a source, perhaps a bare path
        source = Source.parse(str(window.settings.value("dataset/last", DEFAULT_SOURCE.to_json())), bare=True)
    except SourceError:
        source = DEFAULT_SOURCE
    dataset_tab = window.findChild(DatasetTab)
    QTimer.singleShot(0, lambda: dataset_tab.open_initial(source, DEFAULT_SOURCE))
    return window


def make_app(argv: Sequence[str]) -> QApplication:
    """The QApplication with the app's name, version and icon (``argv`` as Qt takes it)."""
    app = QApplication.instance() or QApplication(list(argv))
    app.setApplicationName("Filterscope")
    app.setOrganizationName("Filterscope")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(icon("filterscope"))
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``filterscope-gui`` script and of ``filterscope`` without a command.

    ``argv`` are the arguments after the program's name: Qt's own (``-style``...), or
    ``--self-test [--self-test-out FILE]``, which checks the app end to end and exits
    (:mod:`filterscope.selftest`).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if SELF_TEST_FLAG in args:
        from filterscope.selftest import main as self_test

        return self_test(args)
    app = make_app(sys.argv[:1] + args)
    window = create_window()
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
