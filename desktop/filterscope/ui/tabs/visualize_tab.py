"""Visualise tab: what a model has learned, painted live by gradient ascent; an image's feature
maps and Grad-CAM; an image (or a digit drawn by hand) through every layer, whose clicked tiles
open the Filters tab on the step that computes them; a convolution's weights.

The model is a run from the runs folder (the run just trained is loaded when the tab is next
shown), a ``.keras`` file (safe mode) or VGG16. Every computation is a core job in a JobRunner,
one runner per kind of job: TensorFlow, the runs list, the model, the ascent, the image, its
maps and Grad-CAMs, the weights (TensorFlow's status line, the image, network, drawing and
weights pages hold their own). The picture repaints from the ascent's partial results; Stop takes effect
within one step, and Start cancels a picture still being painted. A hidden tab starts no work:
TensorFlow loads, runs are listed and the image views are computed when it is shown.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.data.datasets import Dataset
from filterscope.core.filters.model_step import ModelStep
from filterscope.core.training.runs import SavedRuns
from filterscope.core.visualize.ascent import AscentFrame, AscentResult, MosaicTiles, ascend
from filterscope.core.visualize.code import ascent_code
from filterscope.core.visualize.jobs import OpenedModel, open_model
from filterscope.core.visualize.layers import LayerInfo, VisualizeError
from filterscope.core.visualize.session import VisualSession
from filterscope.core.visualize.settings import FILTER
from filterscope.ui.binding import bind
from filterscope.ui.saved_runs import SavedRunsLister
from filterscope.ui.state import AppState, ImageToLookAt
from filterscope.ui.widgets.ascent_controls import AscentControlsWidget
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.ui.widgets.layer_list import LayerListWidget
from filterscope.ui.widgets.model_picker import ModelPickerWidget
from filterscope.ui.widgets.picture_saver import PictureSaver
from filterscope.ui.widgets.fitting import SidePanelWidget
from filterscope.ui.widgets.visual_pages import VisualPagesWidget
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from filterscope.ui.widgets.tf_status import TensorFlowStatusWidget
from filterscope.workers import JobRunner

EVERY = 5  # steps between repaints of the forming picture
BATCH = 16  # pictures of a mosaic optimised together


class VisualizeTab(QWidget):
    """Model and layer on the left; the ascent, the image and the weights on pages at the right."""

    title = "Visualise"
    sig_status = Signal(str)
    """A line for the main window's status bar."""
    sig_show_tab = Signal(str)
    """The tab of this title is to be shown (the Filters tab, on a clicked network tile)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._model: OpenedModel | None = None
        self.saver = PictureSaver()
        self.tf_status = TensorFlowStatusWidget(hide_when_loaded=True)
        self.picker = ModelPickerWidget()
        bind(self.picker.size_spin, state.visualize, "size")
        self.layers = LayerListWidget()
        self.controls = AscentControlsWidget(state.visualize)
        settings = state.visualize  # a project's model (set before this tab), until it is listed
        self._wanted = (settings.model, settings.weights) if settings.model else None
        self.pages = VisualPagesWidget()
        self.ascent, self.probe, self.weights, self.code = (self.pages.ascent, self.pages.probe,
                                                            self.pages.weights, self.pages.code)
        self._make_runners()
        self.job_panel = JobPanelWidget(self.runner, cancelled_text="Stopped")
        self._build_layout()
        self._connect()
        if state.dataset is not None:
            self._on_state_dataset_changed(state.dataset)
        self._update_buttons()

    def _make_runners(self) -> None:
        """One runner per kind of job, each with where its result and its failure are shown."""
        self.runs = SavedRunsLister(self, self._state, self._on_runs_failed)
        self.runs.sig_listed.connect(self._on_runs_listed)
        self.runs_runner = self.runs.runner
        self.load_runner = JobRunner(self, on_result=self._on_model_opened, on_failure=self._on_model_failed)
        self.runner = JobRunner(self, on_partial=self._on_ascent_partial, on_result=self._on_ascent_finished,
                                on_failure=self.ascent.caption.setText, on_cancelled=self.ascent.stopped,
                                on_running=self._update_buttons)  # the gradient ascent

    def _build_layout(self) -> None:
        model_box, picture_box = QGroupBox("Model"), QGroupBox("Gradient ascent")
        QVBoxLayout(model_box).addWidget(self.picker)
        QVBoxLayout(picture_box).addWidget(self.controls)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.tf_status)
        left_layout.addWidget(model_box)
        left_layout.addWidget(QLabel("Layers (convolutions in bold)"))
        left_layout.addWidget(self.layers, 1)
        left_layout.addWidget(picture_box)
        self.drawer = SideDrawerWidget(SidePanelWidget(left), self.pages)
        layout = QVBoxLayout(self)
        layout.addWidget(self.drawer, 1)
        layout.addWidget(self.job_panel)

    def _connect(self) -> None:
        self.picker.sig_chosen.connect(self._on_picker_chosen)
        self.tf_status.sig_loaded.connect(self.sig_status)
        self.layers.sig_layer_changed.connect(self._on_layer_changed)
        self.controls.sig_changed.connect(self._update_buttons)
        self.controls.sig_changed.connect(self._show_code)
        self.code.sig_status.connect(self.sig_status)
        self.controls.start_button.clicked.connect(self.start)
        self.controls.stop_button.clicked.connect(self.runner.cancel)
        self.controls.save_button.clicked.connect(self._on_save_clicked)
        self.probe.picker.sig_item_changed.connect(self._refresh_page)
        self.pages.network.picker.sig_item_changed.connect(self._refresh_page)
        self.pages.network.sig_step.connect(self._on_network_step)
        self.pages.draw.sig_step.connect(self._on_network_step)
        self.pages.currentChanged.connect(self._refresh_page)
        self._state.sig_dataset_changed.connect(self._on_state_dataset_changed)
        self._state.sig_look_at.connect(self._on_state_look_at)
        self._state.visualize.events.model.connect(self._on_settings_model_changed)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.tf_status.ensure_loaded()  # TensorFlow loads while the user looks at the controls
        self.runs.list_if_stale()
        self._refresh_page()

    # --- the model ---------------------------------------------------------------------------

    def session(self) -> VisualSession | None:
        """The model in use, or None."""
        return None if self._model is None else self._model.session

    def _on_settings_model_changed(self) -> None:
        """A project's model is opened as soon as the picker lists it (a user's choice in the
        picker sets the field itself, as it opens the model)."""
        settings = self._state.visualize
        if not settings.updating or not settings.model:
            return
        self._wanted = (settings.model, settings.weights)
        if self.picker.select(*self._wanted):
            self._wanted = None
            self.picker.choose(settings.model, settings.weights)

    @Slot(object, object)
    def _on_runs_listed(self, found: SavedRuns, fresh: Path | None) -> None:
        self.picker.set_runs(found.runs, self._state.runs_dir)
        wanted, self._wanted = self._wanted, None
        if wanted is not None and self.picker.select(*wanted):
            self.picker.choose(*wanted)
        elif fresh is not None and self.picker.select(fresh):
            with self._state.choosing_default():
                self.picker.choose(fresh)  # the run just trained is what the user wants to see
        elif self._model is None and not self.load_runner.is_running() and found.runs:
            with self._state.choosing_default():  # the newest run: not a change to the project
                self.picker.choose(found.runs[-1].run_dir)

    @Slot(str)
    def _on_runs_failed(self, message: str) -> None:
        self._on_model_failed(f"the runs folder could not be read: {message}")

    @Slot(str, str, int)
    def _on_picker_chosen(self, source: str, weights: str, size: int) -> None:
        settings = self._state.visualize
        settings.model, settings.weights = str(source), weights  # one by one: not a project's restore
        self.picker.show_loading()
        self.load_runner.start(open_model, source, weights=weights, size=size)

    @Slot(object)
    def _on_model_opened(self, opened: OpenedModel) -> None:
        loaded = opened.session.loaded
        self.runner.cancel()
        self.pages.show_model(loaded.name)  # before the old session goes: its jobs are cancelled
        old, self._model = self._model, opened
        if old is not None:
            old.session.release()  # its cut models and compiled steps
        self.picker.show_loaded(loaded, None if opened.classes is None else len(opened.classes))
        self.controls.set_classes(opened.classes, opened.classes_note)
        self._update_buttons()  # no picture of the previous model to save
        wanted = self._state.visualize.layer  # the layer chosen before (a project's, the last model's)
        with self._state.choosing_default():  # else the first convolution: not a change
            self.layers.set_layers(opened.layers)
            if wanted:
                self.layers.select(wanted)
        self.sig_status.emit(f"Visualise: {loaded.name} loaded")

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        kept = None if self._model is None else self._model.session.loaded
        self.picker.show_failed(message, kept)
        self.sig_status.emit(f"Model not loaded: {message}")

    @Slot(object)
    def _on_layer_changed(self, layer: LayerInfo) -> None:
        self._state.visualize.layer = layer.name
        self.controls.set_layer(layer)
        self._refresh_page()

    # --- gradient ascent ---------------------------------------------------------------------

    @Slot()
    def _update_buttons(self) -> None:
        self.controls.set_running(self.runner.is_running())
        if self._model is None:
            self.controls.start_button.setEnabled(False)
        self.controls.save_button.setEnabled(self.ascent.picture() is not None)

    def shortcut_buttons(self) -> dict[str, QWidget]:
        """The buttons the main window's Start and Stop shortcuts press: the gradient ascent's."""
        return {"start": self.controls.start_button, "stop": self.controls.stop_button}

    @Slot()
    def start(self) -> None:
        """Paint the picture the controls describe (a picture being painted is stopped)."""
        if self._model is None or self.controls.problem() is not None:
            return
        try:
            settings, target = self._state.visualize.ascent(), self.controls.target()
        except VisualizeError as exc:
            self.ascent.caption.setText(str(exc))
            return
        self.runner.cancel()  # the picture being painted stops before the new one is set up
        first, last = target.indices[0], target.indices[-1]
        what = f"{target.layer} filter" if target.kind == FILTER else "class"
        what += f" {first}" + (f" to {last}" if last != first else "")
        self.saver.name = f"{what.replace(' ', '-')}.png"
        self.ascent.begin(len(target.indices), settings.steps,
                          "mean activation of the filter" if target.kind == FILTER else "class score",
                          f"Painting {what}…")
        self.pages.setCurrentWidget(self.ascent)
        self.runner.start(ascend, self._model.session, target, settings, batch=BATCH, every=EVERY)

    @Slot(object)
    def _on_ascent_partial(self, payload: object) -> None:
        if isinstance(payload, AscentFrame):
            self.ascent.add_frame(payload)
        elif isinstance(payload, MosaicTiles):
            self.ascent.add_tiles(payload)
        self._update_buttons()

    @Slot(object)
    def _on_ascent_finished(self, result: AscentResult) -> None:
        self.ascent.finish(result)
        self._update_buttons()

    @Slot()
    def _on_save_clicked(self) -> None:
        picture = self.ascent.picture()
        if picture is None or self._model is None:
            return
        text = self.saver.ask_and_save(self, picture, self._model.session.loaded)
        if text is not None:
            self.ascent.caption.setText(text)
            self.sig_status.emit(text)

    # --- the image and the weights -----------------------------------------------------------

    @Slot(object)
    def _on_state_dataset_changed(self, dataset: Dataset) -> None:
        self.probe.set_dataset(dataset)
        self.pages.network.set_dataset(dataset)

    @Slot(object)
    def _on_state_look_at(self, image: ImageToLookAt) -> None:
        """An image handed over (the Live tab's frame): the network page shows it."""
        self.pages.network.set_image(image)
        self.pages.setCurrentWidget(self.pages.network)
        self._refresh_page()

    @Slot(object)
    def _on_network_step(self, step: ModelStep) -> None:
        """A clicked tile: the Filters tab opens on the step that computes it."""
        self._state.filters.open_step(step)
        self.sig_show_tab.emit("Filters")

    @Slot()
    def _refresh_page(self) -> None:
        """Compute what the visible page shows, unless it shows it already."""
        if not self.isVisible() or self._model is None or self.layers.current() is None:
            return
        self.pages.refresh(self._model.session, self.layers.current())
        self._show_code()

    @Slot()
    def _show_code(self) -> None:
        """The code of what Start would paint, while the code page is shown."""
        if self.pages.currentWidget() is not self.code or self._model is None:
            return
        problem = self.controls.problem()
        try:
            text = f"# {problem}" if problem else \
                ascent_code(self._model.session, self.controls.target(), self._state.visualize.ascent())
        except VisualizeError as exc:
            text = f"# {exc}"
        self.code.setPlainText(text)
