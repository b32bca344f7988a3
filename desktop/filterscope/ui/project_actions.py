"""File ▸ New, Open, Open Recent, Save and Save As for projects; the window title; autosave and
recovery.

The project shown is gathered from the window whenever something that could change it
changes; it is modified ('*' in the title) when it differs from what was last opened or saved.
Autosave runs every few minutes and when the window closes: into the project's own file when
it has one, else into a file in the app's data folder that the next start offers to recover.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from filterscope.core.data.source import DEFAULT_SOURCE
from filterscope.core.project.project import Project
from filterscope.core.project.store import (
    BACKGROUND_FILES,
    listed_files,
    load_project,
    new_autosave_path,
    save_project,
    save_project_job,
)
from filterscope.core.project.versions import ProjectError
from filterscope.ui.project_dialogs import ProjectDialogs
from filterscope.ui.project_state import ProjectBridge
from filterscope.workers import JobRunner

if TYPE_CHECKING:
    from filterscope.ui.main_window import MainWindow

MAX_RECENT = 8
AUTOSAVE_MINUTES = 3
RECENT_KEY, AUTOSAVE_KEY, MINUTES_KEY = "project/recent", "project/autosave", "project/autosave_minutes"


class ProjectActions(QObject):
    """The project menu's actions on ``window`` (through ``bridge`` to its tabs); ``dialogs``
    asks the user (tests replace it)."""

    def __init__(self, window: MainWindow, bridge: ProjectBridge, settings: QSettings,
                 menu: QMenu) -> None:
        super().__init__(window)
        self.window, self.settings = window, settings
        self.bridge, state = bridge, bridge.state
        self.dialogs = ProjectDialogs(window)
        self.path: Path | None = None
        self._runs: tuple[Path, ...] = ()
        self._saved: Project | None = None  # as last opened or saved; None: modified
        self._pending: tuple[Project, bool] | None = None  # opening: (project, clean once shown)
        self._fresh = True  # until the first dataset opens, an untitled project is unchanged
        self._autosave_file: Path | None = None
        # What a new project looks like: the tabs' own settings, before anything is opened.
        self._blank = Project(DEFAULT_SOURCE, None, self.bridge.mask_tab.params, runs_dir=state.runs_dir,
                              **{key: model.copy() for key, model in state.project_settings().items()})
        self._add_actions(menu)
        self._check_timer = QTimer(self, singleShot=True, interval=0)  # one check per burst
        self._check_timer.timeout.connect(self.refresh_title)
        for signal in self.bridge.change_signals():
            signal.connect(self._check_timer.start)
        for events in self.bridge.model_events():
            events.connect(self._on_model_changed)
        state.sig_run_saved.connect(self._on_state_run_saved)
        state.sig_choosing_default.connect(self._on_state_choosing_default)
        self._clean_before_default = False
        state.sig_dataset_changed.connect(self._on_state_dataset_changed)
        self.bridge.dataset_tab.runner.sig_failed.connect(self._on_dataset_failed)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(int(float(settings.value(MINUTES_KEY, AUTOSAVE_MINUTES)) * 60_000))
        self.autosave_timer.timeout.connect(self._on_autosave_timer)
        # A large project (a split of tens of thousands of files) is autosaved in a worker.
        self.save_runner = JobRunner(self, on_result=self._on_background_saved,
                                     on_failure=lambda message: self._status(f"Autosave failed: {message}"))
        self._saving: tuple[Project, bool] | None = None  # (project, into its own file) being saved
        self.autosave_timer.start()
        QTimer.singleShot(0, self.offer_recovery)
        self.refresh_title()

    @Slot()
    def _on_model_changed(self) -> None:
        self._check_timer.start()

    def _add_actions(self, menu: QMenu) -> None:
        first = menu.actions()[0] if menu.actions() else None
        for text, key, slot in (("New Project", QKeySequence.StandardKey.New, self.new_project),
                                ("Open Project…", QKeySequence.StandardKey.Open, self._on_open_triggered)):
            action = QAction(text, self, shortcut=key)
            action.triggered.connect(slot)
            menu.insertAction(first, action)
        self.recent_menu = QMenu("Open Recent", menu)
        self.recent_menu.aboutToShow.connect(self.fill_recent)
        menu.insertMenu(first, self.recent_menu)
        for text, key, slot in (("Save Project", QKeySequence.StandardKey.Save, self.save),
                                ("Save Project As…", QKeySequence.StandardKey.SaveAs, self.save_as)):
            action = QAction(text, self, shortcut=key)
            action.triggered.connect(slot)
            menu.insertAction(first, action)
        menu.insertSeparator(first)

    # --- state -----------------------------------------------------------------------------

    def project(self) -> Project | None:
        """The project the window shows now (None while no dataset is open)."""
        if self._pending is not None:
            return self._pending[0]
        return self.bridge.gather(self._runs)

    def is_modified(self) -> bool:
        """True when the project shown differs from its file (or an untitled one was changed)."""
        if self._fresh or self._pending is not None:
            return False
        return self._saved is None or self.project().work() != self._saved.work()

    def name(self) -> str:
        """The project's name: its file's, or Untitled."""
        return self.path.stem if self.path else "Untitled"

    @Slot()
    def refresh_title(self) -> None:
        """The title names the project; Qt puts a '*' for [*] while it is modified."""
        self.window.setWindowTitle(f"{self.name()}[*] — Filterscope")
        self.window.setWindowModified(self.is_modified())

    def _mark_clean(self) -> None:
        self._saved = self.bridge.gather(self._runs)
        self.refresh_title()

    @Slot(bool)
    def _on_state_choosing_default(self, starting: bool) -> None:
        """What a tab chooses by itself joins the project as saved, if it was unchanged."""
        if starting:
            self._clean_before_default = self._saved is not None and not self.is_modified()
        elif self._clean_before_default:
            self._mark_clean()

    def _status(self, message: str) -> None:
        self.window.show_status(message)

    # --- new, open, save -------------------------------------------------------------------

    @Slot()
    def new_project(self) -> bool:
        """An untitled project with the app's defaults, on the built-in digits."""
        if not self.may_discard():
            return False
        self.path, self._runs = None, ()
        self._restore(self._blank, clean=True)
        return True

    @Slot()
    def _on_open_triggered(self) -> None:
        path = self.dialogs.open_path()
        if path is not None:
            self.open_project(path)

    def open_project(self, path: Path) -> bool:
        """Open a project file; a dataset that has moved is asked for. False when not opened
        (bad file, dataset not found, or unsaved changes kept)."""
        if not self.may_discard():
            return False
        try:
            project = load_project(path)
        except ProjectError as exc:
            self.dialogs.error(str(exc))
            return False
        missing = project.missing_dataset()
        if missing is not None:
            folder = self.dialogs.dataset_folder(missing)
            if folder is None:
                self._status(f"{path.name} was not opened: its dataset is not at {missing}")
                return False
            project = project.relocated(folder)
        self.path, self._runs = Path(path).absolute(), project.runs
        self._add_recent(self.path)
        self._restore(project, clean=missing is None)  # a new dataset place is a change to save
        gone = [run.name for run in project.runs if not run.is_dir()]
        self._status(f"Opened {self.name()}" + (f"; {len(gone)} of its runs are missing: "
                                                 f"{', '.join(gone[:3])}" if gone else ""))
        return True

    def _restore(self, project: Project, *, clean: bool) -> None:
        self._fresh = False
        self._pending = (project, clean)
        if self.bridge.needs_dataset(project):
            self.bridge.open_dataset(project)  # the rest follows when it is open (or fails)
        else:
            self._finish_restore()

    def _finish_restore(self) -> None:
        project, clean = self._pending
        self._pending = None
        self.bridge.apply(project)
        if clean:
            self._mark_clean()
        else:
            self._saved = None
            self.refresh_title()

    @Slot(object)
    def _on_state_dataset_changed(self, _dataset: object) -> None:
        if self._pending is not None:
            self._finish_restore()
        elif self._fresh:  # the dataset the app starts on belongs to the untitled project
            self._fresh = False
            self._mark_clean()

    @Slot(str)
    def _on_dataset_failed(self, message: str) -> None:
        if self._pending is not None:
            self._status(f"The project's dataset did not open ({message}); its other settings did")
            self._finish_restore()

    @Slot()
    def save(self) -> bool:
        """Save to the project's file (asking for one when it has none)."""
        return self._write(self.path) if self.path else self.save_as()

    @Slot()
    def save_as(self) -> bool:
        """Save to a file the user chooses; it becomes the project's file."""
        path = self.dialogs.save_path(str(self.path or f"{self.name()}"))
        return path is not None and self._write(path)

    def _write(self, path: Path, *, quiet: bool = False) -> bool:
        project = self.project()
        if project is None:
            self._status("Nothing to save yet: the dataset is still opening")
            return False
        try:
            save_project(path, project)
        except ProjectError as exc:
            if quiet:  # autosave: a message, never a dialog popping up by itself
                self._status(f"Autosave failed: {exc}")
            else:
                self.dialogs.error(str(exc))
            return False
        self._saved_as(path, project)
        return True

    def _saved_as(self, path: Path, project: Project) -> None:
        """``project`` is what the file at ``path`` now holds."""
        self.path = Path(path).absolute()
        self._add_recent(self.path)
        self._drop_autosave()
        self._saved = project
        self.refresh_title()
        self._status(f"Saved {self.path}")

    def may_discard(self) -> bool:
        """True when the project shown may be replaced (saved, or its changes given up)."""
        if not self.is_modified():
            return True
        answer = self.dialogs.save_changes(self.name())
        return answer == "discard" or (answer == "save" and self.save())

    @Slot(object)
    def _on_state_run_saved(self, run_dir: Path) -> None:
        if Path(run_dir) not in self._runs:
            self._runs += (Path(run_dir),)

    # --- recent projects -------------------------------------------------------------------

    def recent(self) -> list[str]:
        """The recent project files, newest first."""
        return [str(p) for p in self.settings.value(RECENT_KEY, [], type=list)]

    def _add_recent(self, path: Path) -> None:
        paths = [str(path)] + [p for p in self.recent() if p != str(path)]
        self.settings.setValue(RECENT_KEY, paths[:MAX_RECENT])

    @Slot()
    def fill_recent(self) -> None:
        """Open Recent's entries; a file that is gone is shown greyed, marked missing."""
        self.recent_menu.clear()
        for i, text in enumerate(self.recent()):
            path = Path(text)
            action = self.recent_menu.addAction(f"&{i + 1} {path.name}" +
                                                ("" if path.is_file() else " (missing)"))
            action.setToolTip(text)
            action.setEnabled(path.is_file())
            action.triggered.connect(lambda _=False, p=path: self.open_project(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("No recent projects").setEnabled(False)
            return
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear list", lambda: self.settings.setValue(RECENT_KEY, []))

    # --- autosave and recovery -------------------------------------------------------------

    @Slot()
    def autosave(self, *, background: bool = False) -> None:
        """Save a modified project: into its file, or, untitled, into the app's data folder.
        With ``background``, a large project (see ``store.BACKGROUND_FILES``) is written by a
        worker; closing the window saves in the foreground, so nothing is lost."""
        project = self.project()
        if not self.is_modified() or project is None:
            return
        own = self.path is not None
        if not own:
            self._autosave_file = self._autosave_file or new_autosave_path()
        if background and listed_files(project) > BACKGROUND_FILES:
            self._saving = (project, own)
            self.save_runner.start(save_project_job, self.path if own else self._autosave_file, project)
            return
        if own:
            self._write(self.path, quiet=True)
            return
        try:
            save_project(self._autosave_file, project)
        except ProjectError as exc:
            self._status(f"Autosave failed: {exc}")
            return
        self.settings.setValue(AUTOSAVE_KEY, str(self._autosave_file))

    @Slot()
    def _on_autosave_timer(self) -> None:
        self.autosave(background=True)

    def _on_background_saved(self, path: Path) -> None:
        project, own = self._saving
        if own:
            self._saved_as(path, project)
        else:
            self.settings.setValue(AUTOSAVE_KEY, str(path))

    def on_close(self) -> None:
        """The window closes: keep unsaved changes (see :meth:`autosave`), in the foreground."""
        self.autosave_timer.stop()
        self.save_runner.cancel()
        self.autosave()

    def _drop_autosave(self) -> None:
        if self._autosave_file is not None:
            self._autosave_file.unlink(missing_ok=True)
            self._autosave_file = None
            self.settings.remove(AUTOSAVE_KEY)

    @Slot()
    def offer_recovery(self) -> None:
        """At start: offer the unsaved project an earlier session kept, once."""
        text = self.settings.value(AUTOSAVE_KEY)
        if not text:
            return
        self.settings.remove(AUTOSAVE_KEY)
        path = Path(str(text))
        if not path.is_file():
            return
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
        try:
            project = load_project(path) if self.dialogs.recover(path, when) else None
        except ProjectError as exc:
            self.dialogs.error(str(exc))
            project = None
        if project is None:
            path.unlink(missing_ok=True)
            return
        self._autosave_file, self.path, self._runs = path, None, project.runs
        self.settings.setValue(AUTOSAVE_KEY, str(path))
        self._restore(project, clean=False)
