"""Capture and train in a minute: name classes, hold a button to capture the live view's frames
into a new capture folder, and train a model on them.

The panel captures nothing itself: a live loop hands it frames. :meth:`CapturePanelWidget.frame_hook`
is a plain callable for the loop's worker (it saves the frame when a class's button is held,
off the GUI thread, and never raises); :meth:`CapturePanelWidget.add_frame` is the same for a
supplier in the GUI thread. Counts per class follow on a timer while a button is held. Train
runs the capture-and-train job (``core.live.capture_train``) through a JobRunner into the app's
runs folder and emits ``sig_trained(run_dir)`` when the run is saved, so the live view can switch
to it, and announces the run to the app (``AppState.run_saved``) as the Train tab does.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.base.formats import percent
from filterscope.core.live.capture import CaptureError, CaptureFolder, check_class_name, new_capture_path
from filterscope.core.live.capture_train import CaptureSettings, train_capture
from filterscope.core.live.held import HeldCapture
from filterscope.ui.binding import bind, control_for, setting_of
from filterscope.ui.state import AppState
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.workers import JobRunner

POLL_MS = 150  # counts shown while a button is held: about as often as frames come


class CapturePanelWidget(QWidget):
    """Classes with a hold-to-capture button and a count each, the capture settings and Train."""

    sig_trained = Signal(object)
    """A capture-and-train run was saved; carries its run folder (Path)."""

    def __init__(self, state: AppState, settings: CaptureSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.settings = settings or CaptureSettings()
        self.folder: CaptureFolder | None = None
        self._held = HeldCapture()
        self.folder_label = QLabel("Frames go to a new folder in the app's data folder, or choose one")
        self.folder_label.setWordWrap(True)
        self.folder_button = QPushButton("Capture folder…")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("New class name")
        self.add_button = QPushButton("Add class")
        self.class_grid = QGridLayout()
        self.hold_buttons: dict[str, QPushButton] = {}
        self.count_labels: dict[str, QLabel] = {}
        self.remove_buttons: dict[str, QPushButton] = {}
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train a model on the captured frames (a fifth of each class "
                                     "held out to validate); the live view then uses it")
        self.runner = JobRunner(self, on_failure=self._on_runner_failed, on_result=self._on_runner_finished,
                                on_running=self._on_runner_running)
        self.job_panel = JobPanelWidget(self.runner)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._lay_out()
        self.folder_button.clicked.connect(self._on_folder_button_clicked)
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.name_edit.returnPressed.connect(self._on_add_button_clicked)
        self.train_button.clicked.connect(self._on_train_button_clicked)
        self._show_classes()

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.folder_label, 1)
        top.addWidget(self.folder_button)
        adding = QHBoxLayout()
        adding.addWidget(self.name_edit, 1)
        adding.addWidget(self.add_button)
        form = QFormLayout()
        self.controls: dict[str, QWidget] = {}
        for name in ("every", "model", "epochs"):
            spec = setting_of(self.settings, name)
            self.controls[name] = control_for(spec)
            bind(self.controls[name], self.settings, name, self._on_binding_error)
            form.addRow(spec.label, self.controls[name])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(adding)
        layout.addLayout(self.class_grid)
        layout.addLayout(form)
        layout.addWidget(self.train_button)
        layout.addWidget(self.job_panel)
        layout.addWidget(self.message)

    # What a live loop calls.

    def frame_hook(self) -> Callable[[Any], Path | None]:
        """A callable for a live loop's worker thread: given each frame (a ``Frame`` or an RGB
        array), it saves it while a class's button is held. It never raises."""
        return self._held.offer

    @Slot(object)
    def add_frame(self, rgb: Any) -> Path | None:
        """Save ``rgb`` when a class's button is held (for a frame supplier in the GUI thread)."""
        return self._held.offer(rgb)

    def held_class(self) -> str | None:
        """The class whose button is held, or None."""
        return self._held.held

    # The folder and its classes.

    def open_folder(self, root: str | Path) -> bool:
        """Capture into ``root`` (created when new); False, with the reason shown, when it is
        refused (a dataset, a file)."""
        try:
            folder = CaptureFolder.open(root)
        except (CaptureError, OSError) as exc:
            self.message.setText(str(exc))
            return False
        self._held.release()
        self.folder = folder
        # The folder's name, its path in the tooltip: a long path has no space to wrap at and
        # would widen the whole panel.
        self.folder_label.setText(f"Capture folder: {folder.root.name}")
        self.folder_label.setToolTip(str(folder.root))
        self.message.clear()
        self._show_classes()
        return True

    def add_class(self, name: str) -> bool:
        """Add class ``name`` (into a new folder in the app's data folder when none was chosen);
        False, with the reason shown, for a name a folder cannot have."""
        try:
            check_class_name(name)
        except CaptureError as exc:
            self.message.setText(str(exc))
            return False
        if self.folder is None and not self.open_folder(new_capture_path()):
            return False
        try:
            self.folder.add_class(name)
        except (CaptureError, OSError) as exc:
            self.message.setText(str(exc))
            return False
        self.message.clear()
        self._show_classes()
        return True

    def _show_classes(self) -> None:
        """One row per class: its name, count, hold button and remove button."""
        while self.class_grid.count():
            old = self.class_grid.takeAt(0).widget()
            old.setParent(None)  # gone at once: deleteLater alone leaves it drawn until the loop runs
            old.deleteLater()
        for rows in (self.hold_buttons, self.count_labels, self.remove_buttons):
            rows.clear()
        counts = {} if self.folder is None else self.folder.counts()
        for row, (name, count) in enumerate(counts.items()):
            hold = QPushButton("Hold to capture")
            hold.setToolTip(f"Hold down to save the live view's frames as {name}")
            hold.pressed.connect(functools.partial(self._on_hold_pressed, name))
            hold.released.connect(self._on_hold_released)
            remove = QPushButton("Remove")
            remove.setToolTip("Remove this class (only while it has no frames)")
            remove.clicked.connect(functools.partial(self._on_remove_clicked, name))
            label = QLabel(name)
            label.setWordWrap(True)
            self.hold_buttons[name], self.count_labels[name], self.remove_buttons[name] = \
                hold, QLabel(), remove
            for column, widget in enumerate((label, self.count_labels[name], hold, remove)):
                self.class_grid.addWidget(widget, row, column)
        self.class_grid.setColumnStretch(0, 1)
        self._show_counts()
        self._enable()

    def _show_counts(self) -> None:
        counts = {} if self.folder is None else self.folder.counts()
        for name, label in self.count_labels.items():
            label.setText(f"{counts.get(name, 0)} frames")
            self.remove_buttons[name].setEnabled(counts.get(name, 0) == 0 and not self.runner.is_running())
        error = self._held.take_error()
        if error:
            self.message.setText(error)

    def _enable(self) -> None:
        training = self.runner.is_running()
        self.add_button.setEnabled(not training)
        self.folder_button.setEnabled(not training)
        for button in self.hold_buttons.values():
            button.setEnabled(not training)
        self.train_button.setEnabled(len(self.hold_buttons) >= 2 and not training)

    # Slots.

    @Slot()
    def _on_folder_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A new or empty folder for the captured frames")
        if folder:
            self.open_folder(folder)

    @Slot()
    def _on_add_button_clicked(self) -> None:
        if self.add_class(self.name_edit.text()):
            self.name_edit.clear()

    def _on_hold_pressed(self, name: str) -> None:
        if self.folder is not None:
            self._held.hold(self.folder, name, self.settings.every)
            self._timer.start()

    @Slot()
    def _on_hold_released(self) -> None:
        self._held.release()
        self._timer.stop()
        self._show_counts()

    def _on_remove_clicked(self, name: str) -> None:
        try:
            self.folder.remove_class(name)
        except (CaptureError, OSError) as exc:
            self.message.setText(str(exc))
            return
        self._show_classes()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._show_counts()

    @Slot()
    def _on_train_button_clicked(self) -> None:
        if self.folder is None:
            return
        self._held.release()
        self.message.clear()
        # A copy: the job reads its settings in the worker while the controls stay editable.
        self.runner.start(train_capture, self.folder.root, self._state.runs_dir, self.settings.copy())

    def _on_binding_error(self, path: str, message: str) -> None:
        self.message.setText(message)

    def _on_runner_running(self, running: bool) -> None:
        self._enable()
        self._show_counts()

    def _on_runner_failed(self, message: str) -> None:
        self.message.setText(f"Training failed: {message}")

    def _on_runner_finished(self, result: Any) -> None:
        best = result.history[result.best_epoch - 1] if result.best_epoch else {}
        accuracy = best.get("val_accuracy")
        shown = "" if accuracy is None else f", {percent(accuracy)} of the held-out frames right"
        self.message.setText(f"Trained {result.run_dir.name} ({result.epochs_run} epochs{shown})")
        self._state.run_saved(result.run_dir)  # listed by the Results and Visualise tabs, as the Train tab's
        self.sig_trained.emit(result.run_dir)
