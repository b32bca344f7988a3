"""Mask tab: tune the chapter's colour-distance background mask live, then apply it safely.

Every control change re-renders a downscaled preview on the GUI thread (throttled; distance maps
are cached, so a threshold move is one comparison) and then the full-resolution image in a
worker, latest request wins.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import qthrottled

from filterscope.core.base.formats import percent
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.thumbnails import LoadedImage, class_examples, downscale, load_file, load_item
from filterscope.core.masking.batch import mask_dataset
from filterscope.core.masking.code import mask_code
from filterscope.core.masking.colordist import (
    MaskParams,
    MaskResult,
    MaskSession,
    RenderedMask,
    picked_colour,
    render_job,
)
from filterscope.ui.binding import bind
from filterscope.ui.state import AppState
from filterscope.ui.widgets.code_view import CodeViewWidget
from filterscope.ui.widgets.example_strip import ExampleStripWidget
from filterscope.ui.widgets.item_picker import ItemPickerWidget
from filterscope.ui.widgets.job_panel import JobPanelWidget, status_failure
from filterscope.ui.widgets.mask_controls import MaskControlsWidget
from filterscope.ui.widgets.mask_presets import MaskPresetsWidget
from filterscope.ui.widgets.mask_views import MaskViewsWidget
from filterscope.ui.widgets.fitting import SidePanelWidget
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from filterscope.workers import JobRunner

PREVIEW_SIDE = 480  # longest side of the GUI-thread preview; larger images render in a worker


class MaskTab(QWidget):
    """Live colordist tuning on the current dataset's images, with presets and batch apply."""

    title = "Mask"
    sig_status = Signal(str)
    """A line for the main window's status bar."""
    sig_rendered = Signal(float)
    """The kept fraction of the image shown, after every render (preview or full)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._image: np.ndarray | None = None
        self._preview: MaskSession | None = None
        self._full: MaskSession | None = None
        self.image_runner = JobRunner(self, on_result=self._on_image_loaded, on_failure=self._on_image_failed)
        self.full_runner = JobRunner(self, on_result=self._on_full_rendered, on_failure=status_failure(
            self.sig_status, "The full-resolution mask could not be rendered"))
        self.examples_runner = JobRunner(self, on_result=self._on_examples_loaded, on_failure=status_failure(
            self.sig_status, "The class examples could not be loaded"))
        self.batch_runner = JobRunner(self, on_result=self._on_batch_finished,  # and its job panel
                                      on_failure=status_failure(self.sig_status, "Masked copies not written"))
        self._build_widgets()
        self._build_layout()
        self._refresh = qthrottled(self._render_preview, timeout=30, parent=self)
        self._refresh_strip = qthrottled(self._render_strip, timeout=120, parent=self)
        self._connect()
        self.code.setPlainText(mask_code(self.params))
        state.set_mask(self.params)

    def _build_widgets(self) -> None:
        self.picker = ItemPickerWidget()
        self.open_button = QPushButton("Open image…")
        self.view_combo = QComboBox()
        bind(self.view_combo, self._state.masking, "view")
        self.images = MaskViewsWidget()
        self.views = self.images.views
        self.controls = MaskControlsWidget(self._state.masking)
        self.kept_label = QLabel()
        self.kept_label.setStyleSheet("font-size: 16pt; font-weight: bold")
        self.presets = MaskPresetsWidget(self._state.masking)
        self.apply_button = QPushButton("Apply to dataset…")
        self.use_box = QCheckBox("Use this mask when training")
        bind(self.use_box, self._state.train, "use_mask")
        self.strip = ExampleStripWidget()
        self.code = CodeViewWidget("These settings as numpy and OpenCV code: run it on the image to get "
                                   "the Result and the Mask shown.")
        self.pages = QTabWidget()
        self.job_panel = JobPanelWidget(self.batch_runner)

    def _build_layout(self) -> None:
        picker = QHBoxLayout()
        for widget in (self.picker, self.open_button, QLabel("View"), self.view_combo):
            picker.addWidget(widget)
        picker.addStretch(1)
        self.pages.addTab(self.images, "Images")
        self.pages.addTab(self.code, "NumPy + OpenCV code")
        left = QVBoxLayout()
        left.addLayout(picker)
        left.addWidget(self.pages, 1)
        left.addWidget(QLabel("One example per class, masked with these settings:"))
        left.addWidget(self.strip)
        right = QVBoxLayout()
        right.addWidget(self.controls, 1)
        right.addWidget(self.kept_label)
        right.addWidget(self.presets)
        right.addWidget(self.use_box)
        right.addWidget(self.apply_button)
        panel, view = QWidget(), QWidget()
        panel.setLayout(right)
        view.setLayout(left)
        self.drawer = SideDrawerWidget(SidePanelWidget(panel), view, right=True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.drawer, 1)
        layout.addWidget(self.job_panel)

    def _connect(self) -> None:
        self._state.sig_dataset_changed.connect(self._on_state_dataset_changed)
        self.picker.sig_item_changed.connect(self.show_item)
        self.open_button.clicked.connect(self._on_open_clicked)
        self._state.masking.events.view.connect(self._refresh)
        self._state.masking.events.params.connect(self._on_params_changed)
        self.controls.sig_status.connect(self.sig_status)
        self.code.sig_status.connect(self.sig_status)
        self.controls.pick_button.toggled.connect(self.views[0].set_picking)
        self.views[0].sig_pixel_clicked.connect(self._on_view_pixel_clicked)
        self.presets.sig_status.connect(self.sig_status)
        self.apply_button.clicked.connect(self._on_apply_clicked)
        self.strip.sig_example_clicked.connect(self.show_item)

    # --- parameters ------------------------------------------------------------------------

    @property
    def params(self) -> MaskParams:
        """The current mask settings."""
        return self._state.masking.params

    def set_params(self, params: MaskParams) -> None:
        """Show and use ``params`` as they are (a preset, a project's mask)."""
        self._state.masking.use(params)

    @Slot(object)
    def _on_params_changed(self, params: MaskParams) -> None:
        self.code.setPlainText(mask_code(params))
        self._refresh()
        self._refresh_strip()
        self._state.set_mask(params)

    @Slot(int, int)
    def _on_view_pixel_clicked(self, x: int, y: int) -> None:
        if self._image is None:
            return
        rgb = picked_colour(self._image, x, y)
        self.controls.add_target(rgb)
        self.sig_status.emit(f"Added target colour {rgb} from pixel ({x}, {y})")

    # --- presets, apply, training ----------------------------------------------------------

    def load_preset(self, path: Path) -> bool:
        """Load a preset file; on any problem say what and keep the current settings."""
        return self.presets.load(path)

    @Slot()
    def _on_apply_clicked(self) -> None:
        dataset = self._state.dataset
        if dataset is None or dataset.root is None:
            self.sig_status.emit("Applying a mask needs a folder dataset")
            return
        folder = QFileDialog.getExistingDirectory(self, "New folder for the masked copies")
        if folder:
            self.apply_to(dataset, Path(folder))

    def apply_to(self, dataset: Dataset, out_dir: Path) -> None:
        """Write masked copies of the dataset into ``out_dir`` in the background."""
        self.batch_runner.start(mask_dataset, dataset, out_dir, self.params)

    @Slot(object)
    def _on_batch_finished(self, result: object) -> None:
        summary = result.to_json() if hasattr(result, "to_json") else dict(result)
        self.sig_status.emit(f"Masked copies written: {summary.get('written', 0)}, "
                             f"skipped {summary.get('skipped', 0)}, "
                             f"failed {len(summary.get('failed', []))}")

    # --- images ----------------------------------------------------------------------------

    @Slot(object)
    def _on_state_dataset_changed(self, dataset: Dataset) -> None:
        self.full_runner.cancel()  # nothing of the previous dataset's image stays on screen
        self._image = self._preview = self._full = None
        self.images.clear()
        self.kept_label.clear()
        self.strip.set_examples([])
        self.examples_runner.start(class_examples, dataset, 96)
        self.picker.set_dataset(dataset)

    @Slot(int)
    def show_item(self, index: int) -> None:
        """Load dataset item ``index`` (off the GUI thread) and tune on it."""
        self.image_runner.start(load_item, self._state.dataset, index)

    @Slot()
    def _on_open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image to tune on", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp)")
        if path:
            self.image_runner.start(load_file, Path(path))

    @Slot(object)
    def _on_image_loaded(self, loaded: LoadedImage) -> None:
        self.set_image(loaded.rgb)

    @Slot(str)
    def _on_image_failed(self, message: str) -> None:
        self.sig_status.emit(f"Cannot tune on this image: {message}")

    def set_image(self, rgb: np.ndarray) -> None:
        """Tune on ``rgb``: a downscaled copy renders live, the full image in a worker."""
        self.full_runner.cancel()
        self._image = rgb
        self._preview = MaskSession(downscale(rgb, PREVIEW_SIDE))
        self._full = MaskSession(rgb) if max(rgb.shape[:2]) > PREVIEW_SIDE else None
        self.views[0].set_image(rgb)
        self._refresh()

    # --- rendering -------------------------------------------------------------------------

    def _render_preview(self) -> None:
        if self._preview is None:
            return
        self._show(self._preview, self._preview.render(self.params))
        if self._full is not None:
            self.full_runner.start(render_job, self._full, self.params)

    @Slot(object)
    def _on_full_rendered(self, rendered: RenderedMask) -> None:
        if rendered.params == self.params and self._full is not None:
            self._show(self._full, rendered.result)

    def _show(self, session: MaskSession, result: MaskResult) -> None:
        self.images.show_result(session.img, result, overlaid=self._state.masking.view == "overlay",
                                final=session is self._full or self._full is None)
        self.kept_label.setText(f"Kept: {percent(result.kept)} of pixels")
        self.sig_rendered.emit(result.kept)

    def _render_strip(self) -> None:
        self.strip.apply(self.params)

    @Slot(object)
    def _on_examples_loaded(self, examples: list) -> None:
        self.strip.set_examples(examples)
        self._render_strip()

