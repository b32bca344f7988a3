"""The saved runs of the runs folder, listed for a tab that offers them (Visualise, Results,
Live): listed in a worker when the tab is shown and the list is stale (another folder, a run
saved), at once when it is on screen, with the run just trained named so the tab can choose it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from filterscope.core.training.runs import SavedRuns, saved_runs
from filterscope.ui.state import AppState
from filterscope.workers import JobRunner


class SavedRunsLister(QObject):
    """Lists the runs folder for ``tab`` (a child of it: it goes with the tab).

    Args:
        tab: The tab the runs are listed for; its visibility says when to list.
        state: The app's state (its runs folder and its runs saved).
        on_failure: Called with the message when the folder cannot be read.
    """

    sig_listed = Signal(object, object)
    """The runs found (:class:`SavedRuns`) and the run just trained (a Path, or None)."""

    def __init__(self, tab: QWidget, state: AppState, on_failure: Callable[[str], None]) -> None:
        super().__init__(tab)
        self._state = state
        self._stale, self._just_trained = True, None
        self.runner = JobRunner(tab, on_result=self._on_result, on_failure=on_failure)
        state.sig_runs_dir_changed.connect(self._on_runs_dir_changed)
        state.sig_run_saved.connect(self._on_run_saved)

    def list_if_stale(self) -> bool:
        """List the runs if the list is stale (call it when the tab is shown); True if so."""
        stale = self._stale
        if stale:
            self._list()
        return stale

    def refresh(self) -> None:
        """The list is stale: listed now if the tab is on screen, else when it is shown."""
        self._stale = True
        if self.parent().isVisible():  # the tab (no reference of ours: it goes with it)
            self._list()

    def _list(self) -> None:
        self._stale = False
        self.runner.start(saved_runs, self._state.runs_dir)

    @Slot(object)
    def _on_result(self, found: SavedRuns) -> None:
        fresh, self._just_trained = self._just_trained, None
        self.sig_listed.emit(found, fresh)

    @Slot(object)
    def _on_runs_dir_changed(self, _folder: Path) -> None:
        self.refresh()

    @Slot(object)
    def _on_run_saved(self, run_dir: Path) -> None:
        self._just_trained = run_dir
        self.refresh()
