"""Live tab: a camera or a video file, each frame predicted by a run's model or an ImageNet
model as it comes, with Grad-CAM over it and a layer's feature maps when asked.

The loop is a core job (:func:`~filterscope.core.live.loop.run_live`) in a JobRunner; Stop
cancels it. It drops frames rather than queueing them, and this tab paints only the latest frame
it reported (latest wins), so slow painting never queues either. What changes while it runs
(Grad-CAM, the layer, Freeze, Step) goes to the loop through its
:class:`~filterscope.core.live.loop.LiveControl`. A source that is missing, busy or unplugged
mid-run is said in the status line, and the tab stays usable.

Capture and train (:class:`~filterscope.ui.widgets.capture_panel.CapturePanelWidget`, in the
settings' column): the loop's frame tap is the panel's hook, which saves each frame the worker
reads while a class's button is held; a capture trained into a run is announced to the app
(``AppState.run_saved``) and this tab switches to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.live.control import LiveControl
from filterscope.core.live.record import OutputError, dataset_folder, save_frame
from filterscope.core.live.video import SourceError
from filterscope.core.training.runs import SavedRuns
from filterscope.core.transfer.imagenet import imagenet_models
from filterscope.ui.binding import bind
from filterscope.ui.saved_runs import SavedRunsLister
from filterscope.ui.state import AppState
from filterscope.ui.widgets.fitting import SidePanelWidget
from filterscope.ui.widgets.live_source import LiveSourceWidget
from filterscope.ui.widgets.live_view import LiveViewWidget
from filterscope.ui.widgets.capture_panel import CapturePanelWidget
from filterscope.ui.widgets.model_picker import ModelPickerWidget
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from filterscope.ui.widgets.tf_status import TensorFlowStatusWidget
from filterscope.workers import JobRunner

if TYPE_CHECKING:  # the loop and the model are imported when first used: Keras's side, not start-up's
    from filterscope.core.live.loop import LiveFrame, LiveSummary
    from filterscope.core.live.model import LiveModel


class LiveTab(QWidget):
    """Source, model and what to show on the left; the frame, its top classes and the controls
    at the right."""

    title = "Live"
    sig_status = Signal(str)
    """A line for the main window's status bar."""
    sig_show_tab = Signal(str)
    """The tab of this title is to be shown (the Visualise tab, for the frame's network view)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.settings = state.live
        self.control = LiveControl(self.settings.options())
        """The running loop's options, pause and frame tap (a capture panel sets the tap)."""
        self._model: LiveModel | None = None
        self._latest: LiveFrame | None = None  # the newest frame reported, painted once
        self._painted: LiveFrame | None = None  # the frame shown (what Save frame writes)
        self._automatic = False  # the picker's next choice is the tab's default, not the user's
        self._source = ("", "")  # the model loaded or loading: (source, ImageNet weights)
        self.tf_status = TensorFlowStatusWidget(hide_when_loaded=True)
        self.picker = ModelPickerWidget()
        bind(self.picker.size_spin, self.settings, "size")
        self.source = LiveSourceWidget(self.settings)
        self.gradcam_check, self.maps_check, self.layer_combo = QCheckBox(), QCheckBox(), QComboBox()
        self.layer_binding = bind(self.layer_combo, self.settings, "layer")
        bind(self.gradcam_check, self.settings, "gradcam")
        bind(self.maps_check, self.settings, "maps")
        self.view = LiveViewWidget()
        self.capture = CapturePanelWidget(state, state.capture)
        self.control.set_tap(self.capture.frame_hook())  # saves a frame only while a class is held
        self.runs = SavedRunsLister(self, state, self._on_model_failed)
        self.runs.sig_listed.connect(self._on_runs_listed)
        self.runs_runner = self.runs.runner  # every tab's runs job by one name (the Train tab's too)
        self.load_runner = JobRunner(self, on_result=self._on_model_opened, on_failure=self._on_model_failed)
        self.runner = JobRunner(self, on_partial=self._on_frame, on_result=self._on_finished,
                                on_failure=self._on_failed, on_cancelled=self._on_stopped,
                                on_running=self._update_buttons)
        self._build_layout()
        self._connect()
        self._update_buttons()

    def _build_layout(self) -> None:
        model_box, source_box, show_box = QGroupBox("Model"), QGroupBox("Source"), QGroupBox("Show")
        capture_box = QGroupBox("Capture and train")
        QVBoxLayout(capture_box).addWidget(self.capture)
        QVBoxLayout(model_box).addWidget(self.picker)
        QVBoxLayout(source_box).addWidget(self.source)
        show = QFormLayout(show_box)
        show.addRow(self.gradcam_check)
        show.addRow(self.maps_check)
        show.addRow("Layer", self.layer_combo)
        left = QWidget()
        self.side_layout = QVBoxLayout(left)
        for widget in (self.tf_status, source_box, model_box, show_box, capture_box):
            self.side_layout.addWidget(widget)
        self.side_layout.addStretch(1)
        self.drawer = SideDrawerWidget(SidePanelWidget(left), self.view)
        QVBoxLayout(self).addWidget(self.drawer, 1)

    def _connect(self) -> None:
        self.picker.sig_chosen.connect(self._on_picker_chosen)
        self.tf_status.sig_loaded.connect(self.sig_status)
        self.view.start_button.clicked.connect(self.start)
        self.view.stop_button.clicked.connect(self.runner.cancel)
        self.view.freeze_button.toggled.connect(self._on_freeze_toggled)
        self.view.step_button.clicked.connect(self.control.step)
        self.view.save_button.clicked.connect(self._on_save_clicked)
        self.view.network_button.clicked.connect(self._on_network_clicked)
        for name in ("gradcam", "maps", "layer"):
            getattr(self.settings.events, name).connect(self._on_options_changed)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.tf_status.ensure_loaded()  # TensorFlow loads while the user looks at the controls
        self.runs.list_if_stale()

    def shortcut_buttons(self) -> dict[str, QWidget]:
        """The buttons the main window's Start and Stop shortcuts press."""
        return {"start": self.view.start_button, "stop": self.view.stop_button}

    # --- the model ---------------------------------------------------------------------------

    @Slot(object, object)
    def _on_runs_listed(self, found: SavedRuns, fresh: Path | None) -> None:
        self.picker.set_runs(found.runs, self._state.runs_dir)
        wanted = (self.settings.model, self.settings.weights) if self.settings.model else None
        if fresh is not None and self.picker.select(fresh):
            self.picker.choose(fresh)  # the run just trained is what the user wants to try
        elif wanted is not None and self.picker.select(*wanted):
            if self._model is None:
                self.picker.choose(*wanted)
        elif self._model is None and not self.load_runner.is_running():
            self._automatic = True  # the tab's own default: not a setting the user changed
            self.picker.choose(*self._current_model(found))

    def _current_model(self, found: SavedRuns) -> tuple[str | Path, str]:
        """The model the other tabs look at (the Results tab's run, the Visualise tab's model),
        else the newest run, else the first ImageNet model (it works offline)."""
        state = self._state
        for source, weights in ((state.evaluate.run, ""), (state.visualize.model, state.visualize.weights)):
            if source and self.picker.select(source, weights):
                return source, weights
        if found.runs:
            return found.runs[-1].run_dir, ""
        return imagenet_models()[0], "imagenet"

    @Slot(str, str, int)
    def _on_picker_chosen(self, source: str, weights: str, size: int) -> None:
        from filterscope.core.live.model import open_live_model

        if not self._automatic:
            self.settings.update({"model": str(source), "weights": weights})
        self._automatic, self._source = False, (str(source), weights)
        self.picker.show_loading()
        self.load_runner.start(open_live_model, source, weights=weights, size=size)

    @Slot(object)
    def _on_model_opened(self, model: LiveModel) -> None:
        running = self.runner.is_running()
        self.runner.cancel()  # the loop holds the old model; it starts again with the new one
        self._model = model
        self.picker.show_loaded(model.session.loaded, len(model.classes))
        notes = "".join(f" {note[0].upper()}{note[1:]}." for note in model.notes)
        self.view.set_status(f"{model.name} loaded: press Start.{notes}")
        layers = model.maps_layers()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for name in layers:
            self.layer_combo.addItem(name, name)
        self.layer_combo.blockSignals(False)
        if layers and self.settings.layer not in layers:
            self.settings.layer = layers[0]
        self.layer_binding.show_value()
        self.sig_status.emit(f"Live: {model.name} loaded")
        self._update_buttons()
        if running:
            self.start()

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        kept = None if self._model is None else self._model.session.loaded
        self.picker.show_failed(message, kept)
        self.sig_status.emit(f"Model not loaded: {message}")

    # --- the loop ----------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Read the chosen source and predict its frames (a loop already running starts again)."""
        from filterscope.core.live.loop import run_live

        if self._model is None:
            return
        try:
            source = self.settings.source()
        except SourceError as exc:
            self.view.set_status(str(exc), error=True)
            return
        self.view.freeze_button.setChecked(False)
        self.control.freeze(False)
        self.control.set_options(**vars(self.settings.options()))
        self.view.set_status(f"Reading {source} with {self._model.name}…")
        self.runner.start(run_live, source, self._model, realtime=self.settings.realtime,
                          control=self.control, on_frame=self.control.tap)

    def _on_options_changed(self) -> None:
        self.control.set_options(**vars(self.settings.options()))

    @Slot(object)
    def _on_frame(self, frame: LiveFrame) -> None:
        """Keep only the newest frame; paint it once the events queued before it are handled."""
        if self._latest is None:
            QTimer.singleShot(0, self._paint)
        self._latest = frame

    @Slot()
    def _paint(self) -> None:
        frame, self._latest = self._latest, None
        if frame is not None:
            self._painted = frame
            self.view.show_frame(frame)
            self._update_buttons()

    @Slot(object)
    def _on_finished(self, summary: LiveSummary) -> None:
        self._paint()
        self.view.set_status(f"{summary.source} ended: {summary.processed:,} frames at {summary.fps:.1f} "
                             f"per second, {summary.dropped:,} dropped to keep up")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.view.set_status(message, error=True)
        self.sig_status.emit(f"Live: {message}")

    @Slot()
    def _on_stopped(self) -> None:
        self._latest = None  # a frame of the stopped loop is not painted after Stop
        if self._painted is not None:
            self.view.set_status(f"Stopped at frame {self._painted.index:,}.")

    @Slot(bool)
    def _on_freeze_toggled(self, frozen: bool) -> None:
        self.control.freeze(frozen)
        self._update_buttons()

    @Slot()
    def _update_buttons(self, *_args: object) -> None:
        running = self.runner.is_running()
        self.view.start_button.setEnabled(self._model is not None)
        self.view.stop_button.setEnabled(running)
        self.view.freeze_button.setEnabled(running)
        self.view.step_button.setEnabled(running and self.view.freeze_button.isChecked())
        self.view.save_button.setEnabled(self._painted is not None)
        self.view.network_button.setEnabled(self._painted is not None and self._model is not None)

    @Slot()
    def _on_network_clicked(self) -> None:
        """The frame shown goes through every layer of this tab's model in the Visualise tab."""
        frame = self._painted
        if frame is None or self._model is None:
            return
        self.runner.cancel()  # the frame stays as it is; the room looks at the network instead
        self._state.visualize.update({"model": self._source[0], "weights": self._source[1]})
        self._state.look_at(frame.rgb, f"live frame {frame.index + 1}")
        self.sig_show_tab.emit("Visualise")

    # --- saving a frame ----------------------------------------------------------------------

    @Slot()
    def _on_save_clicked(self) -> None:
        """Save the frame shown (as read, without Grad-CAM) as a PNG in the chosen folder."""
        frame = self._painted
        if frame is None:
            return
        folder = self.settings.save_folder or QFileDialog.getExistingDirectory(self, "Save frames in")
        if not folder:
            return
        dataset = self._state.dataset
        datasets = [None if dataset is None else dataset.root,
                    None if self._model is None else dataset_folder(self._model)]
        try:
            path = save_frame(frame.rgb, folder, f"frame-{frame.index:06d}", datasets)
        except OutputError as exc:
            self.view.set_status(str(exc), error=True)
            return
        self.settings.save_folder = str(folder)
        self.view.set_status(f"Saved {path}")
        self.sig_status.emit(f"Saved {path}")
