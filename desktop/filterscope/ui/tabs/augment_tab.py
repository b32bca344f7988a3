"""Augmentation tab: compose an imgaug chain, see it on your images at once, hand it to training.

Every edit restarts a preview job (throttled, latest request wins), so the window never waits
for imgaug. The code view shows the chain as imgaug code a learner can paste.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, Signal, Slot
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import qthrottled

from filterscope.core.augment.chain import CHAIN_PRESETS, ChainError, ChainSpec, builtin_chain, load_chain
from filterscope.core.augment.preview import preview
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.thumbnails import load_items
from filterscope.core.training.data_spec import DataSpec, PipelineError
from filterscope.core.training.model_input import (
    image_size_for,
    input_shape,
    preprocessing,
)
from filterscope.ui.binding import bind, control_for, setting_of
from filterscope.ui.presets import ask_open, load_preset_file, save_preset
from filterscope.ui.state import AppState
from filterscope.ui.widgets.chain_editor import ChainEditorWidget
from filterscope.ui.widgets.code_view import CodeViewWidget
from filterscope.ui.widgets.fitting import pages_at_large_text, stacked_direction
from filterscope.ui.widgets.item_picker import ItemPickerWidget
from filterscope.ui.widgets.model_view import ModelViewWidget
from filterscope.ui.widgets.job_panel import status_failure
from filterscope.ui.widgets.preview_grid import PreviewGridWidget
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from filterscope.workers import JobRunner

MODEL_VIEW_IMAGES = 4  # the model's batch shown: one image four times, or four random ones


class AugmentTab(QWidget):
    """Chain editor, live preview grid, the model's view and the equivalent code."""

    title = "Augment"
    sig_status = Signal(str)
    """A line for the main window's status bar."""
    sig_previewed = Signal()
    """A preview finished and is on screen."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._images: list[np.ndarray] = []
        self._indices: list[int] = []
        self.runner = JobRunner(self, on_result=self._on_preview_finished,
                                on_failure=status_failure(self.sig_status, "Preview failed"))
        self.items_runner = JobRunner(self, on_result=self._on_images_loaded,
                                      on_failure=status_failure(self.sig_status, "The images could not be loaded"))
        self.preset_combo = QComboBox()
        for name in CHAIN_PRESETS:
            self.preset_combo.addItem(builtin_chain(name).name, name)
        self.preset_combo.setPlaceholderText("Custom chain")
        # Long preset names would set the column's width; the open list still shows them whole.
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(18)
        self.load_button = QPushButton("Load…")
        self.save_button = QPushButton("Save…")
        self.editor = ChainEditorWidget(state.augment)
        settings = state.augment
        self.count_spin = QSpinBox()
        self.seed_spin = control_for(setting_of(settings, "seed"))
        self.reroll_button = QPushButton("Re-roll")
        self.random_box = QCheckBox()
        for widget, name in ((self.count_spin, "versions"), (self.seed_spin, "seed"),
                             (self.random_box, "random_images")):
            bind(widget, settings, name)
        self.picker = ItemPickerWidget()
        self.use_box = QCheckBox("Use this chain when training")
        bind(self.use_box, state.train, "use_chain")
        self.previews = PreviewGridWidget()
        self.model_view = ModelViewWidget()
        self.code = CodeViewWidget("The same chain as imgaug code:")
        self._build_layout()
        self._refresh = qthrottled(self._start_preview, timeout=50, parent=self)
        self.preset_combo.activated.connect(self._on_preset_activated)
        self.load_button.clicked.connect(self._on_load_clicked)
        self.code.sig_status.connect(self.sig_status)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.editor.sig_status.connect(self.sig_status)
        state.sig_chain_changed.connect(self._on_chain_changed)
        settings.events.versions.connect(self._on_training_changed)
        settings.events.seed.connect(self._on_training_changed)
        settings.events.random_images.connect(self._load_images)
        self.reroll_button.clicked.connect(settings.reroll)
        self.picker.sig_item_changed.connect(self._load_images)
        state.sig_dataset_changed.connect(self._on_state_dataset_changed)
        state.sig_mask_changed.connect(self._refresh)
        for name in ("use_mask", "longest_side", "image_size", "model"):
            getattr(state.train.events, name).connect(self._on_training_changed)
        self._on_chain_changed(self.chain())

    def _build_layout(self) -> None:
        presets = QHBoxLayout()
        for widget in (QLabel("Preset"), self.preset_combo, self.load_button, self.save_button):
            presets.addWidget(widget)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addLayout(presets)
        left_layout.addWidget(self.editor, 1)
        left_layout.addWidget(self.use_box)
        source = QVBoxLayout()  # three rows: one is wider than a projector's window at large text
        rows = ((self.picker,), (self.random_box, self.reroll_button),
                (QLabel("Versions"), self.count_spin, QLabel("Seed"), self.seed_spin))
        for widgets in rows:
            row = QHBoxLayout()
            for widget in widgets:
                row.addWidget(widget)
            row.addStretch(1)
            source.addLayout(row)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addLayout(source)
        right_layout.addWidget(self.previews, 3)
        right_layout.addWidget(self.model_view, 1)
        right_layout.addWidget(self.code, 1)
        self.extras = QTabWidget()  # at large text: what the model sees and the code, as pages
        self.extras.hide()
        right_layout.addWidget(self.extras, 1)
        self.right_layout = right_layout
        self.drawer = SideDrawerWidget(left, right)
        layout = QVBoxLayout(self)
        layout.addWidget(self.drawer)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._reflow(stacked_direction(self) == QBoxLayout.Direction.TopToBottom)

    def _reflow(self, large: bool) -> None:
        """At large text what the model sees and the code become pages under the preview: in
        rows of their own they left the preview a sliver of a projector's 720 px."""
        pages_at_large_text(self.extras, ((self.model_view, "What the model sees",
                                           lambda w: self.right_layout.insertWidget(2, w, 1)),
                                          (self.code, "imgaug code",
                                           lambda w: self.right_layout.insertWidget(3, w, 1))), large)
        self.extras.setVisible(large)

    def chain(self) -> ChainSpec:
        """The chain being edited (the Augment settings')."""
        return self._state.augment.chain

    def set_chain(self, chain: ChainSpec) -> None:
        """Show and use ``chain`` as it is (a preset, a file, a project's)."""
        self._state.set_chain(chain)

    @Slot(object)
    def _on_chain_changed(self, chain: ChainSpec) -> None:
        names = [builtin_chain(name).name for name in CHAIN_PRESETS]
        self.preset_combo.setCurrentIndex(names.index(chain.name) if chain.name in names else -1)
        self._show_code()
        self._refresh()

    def _show_code(self) -> None:
        from filterscope.core.augment.build import to_python

        self.code.setPlainText(to_python(self.chain()))

    @Slot(int)
    def _on_preset_activated(self, _index: int) -> None:
        self.set_chain(builtin_chain(self.preset_combo.currentData()))

    @Slot()
    def _on_load_clicked(self) -> None:
        path = ask_open(self, "Augmentation chain")
        if path:
            self.load_chain_file(path)

    def load_chain_file(self, path: Path) -> bool:
        """Load a chain file; on any problem say what and keep the current chain."""
        chain = load_preset_file(self, "Augmentation chain", load_chain, ChainError, path)
        if chain is None:
            return False
        self.set_chain(chain)
        return True

    @Slot()
    def _on_save_clicked(self) -> None:
        save_preset(self, "Augmentation chain", self.chain().to_json(), "chain.json")

    @Slot()
    def _on_training_changed(self) -> None:
        """The previews follow the Train tab's size, mask switch and model (its scaling), the
        number of versions and the seed."""
        self._refresh()

    @Slot(object)
    def _on_state_dataset_changed(self, dataset: Dataset) -> None:
        self.set_images([])  # the previous dataset's images go, even if the new ones are unreadable
        self.picker.set_dataset(dataset)

    @Slot()
    def _load_images(self) -> None:
        dataset = self._state.dataset
        if dataset is None or not len(dataset):
            return
        if self._state.augment.random_images:
            rng = np.random.default_rng(self._state.augment.seed)
            indices = rng.choice(len(dataset), size=min(16, len(dataset)), replace=False).tolist()
        else:
            item = self.picker.current_item()
            if item is None:
                return
            indices = [item]
        self._indices = indices
        self.items_runner.start(load_items, dataset, indices)

    @Slot(object)
    def _on_images_loaded(self, images: list) -> None:
        self.set_images(images)
        if not images:
            self.sig_status.emit("Augment: the chosen image could not be read (see the Dataset tab)")

    def set_images(self, images: list[np.ndarray]) -> None:
        """Preview on these RGB images (one to vary, or several)."""
        self._images = images
        self._refresh()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._refresh()

    def _start_preview(self) -> None:
        # Hidden tabs do no work: imgaug is imported the first time the tab is looked at, and
        # TensorFlow (for the model's view) in the background after it.
        if not self._images:  # nothing to preview: no other images' pictures either
            self.previews.clear()
            self.model_view.clear()
        if not (self._images and self.isVisible()):
            return
        state, dataset = self._state, self._state.dataset
        mask, mode = state.training_mask(), preprocessing(state.train.model)
        gray = dataset is not None and input_shape(dataset, masked=mask is not None, mode=mode)[2] == 1
        self.runner.start(preview, self._images, self.chain(), state.augment.versions,
                          state.augment.seed, gray=gray)
        if dataset is None or not self._indices:
            return
        items = [self._indices[i % len(self._indices)] for i in range(MODEL_VIEW_IMAGES)]
        train = state.train
        try:
            data = DataSpec(dataset.source, seed=state.augment.seed,
                            image_size=train.image_size or image_size_for(dataset, train.longest_side),
                            mask=None if mask is None else mask.to_json(), chain=self.chain().to_json())
        except PipelineError as exc:
            self.model_view.clear(str(exc))
            return
        self.model_view.show_batch(dataset, data, items, mode)

    @Slot(object)
    def _on_preview_finished(self, shown: list) -> None:
        self.previews.show_images(shown)
        self.sig_previewed.emit()
