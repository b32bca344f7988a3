"""Filters tab: what one convolution filter computes, the chapter's "Filters on MNIST" made live.

Pick a digit or an image, type a kernel (or pick the chapter's vertical- and horizontal-line
filters, Sobel, blur, sharpen), and see the input, the output map and what ReLU and 2 × 2 max
pooling make of it; step the window through the image one position at a time with its products
and their sum. The numbers are those Keras's Conv2D computes (tests compare them). Everything is
numpy on at most 64 × 64 pixels, so it is computed on the GUI thread; only reading a file, which
can be large, runs in a worker.

A step of a real model (a tile clicked in the Visualise tab's network view) is shown the same
way: the lesson's ``model_step`` replaces the hand-made image and kernels with the model's input
and kernel, and says where they come from, until the user goes back to the hand-made kernels.

The lesson is the AppState's ``filters`` model (:class:`~filterscope.core.filters.settings.
FiltersSettings`): the controls are bound to it, the kernel editors show its weights and set
them, and the tab computes from it, so a project's lesson shows as it was saved.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.filters.code import numpy_code
from filterscope.core.filters.layer import FilterLayer
from filterscope.core.filters.model_step import ModelStep
from filterscope.core.filters.settings import DEFAULT_PRESETS, FILTER_COUNT
from filterscope.core.filters.source import to_input
from filterscope.ui.binding import bind
from filterscope.ui.state import AppState
from filterscope.ui.widgets.code_view import CodeViewWidget
from filterscope.ui.widgets.filter_source import FilterSourceWidget
from filterscope.ui.widgets.filter_views import PIXELS, FilterViewsWidget, InputDisplay
from filterscope.ui.widgets.fitting import SidePanelWidget
from filterscope.ui.widgets.kernel_editor import KernelEditorWidget
from filterscope.ui.widgets.model_step_panel import ModelStepPanelWidget
from filterscope.ui.widgets.side_drawer import SideDrawerWidget
from filterscope.ui.widgets.step_controls import StepControlsWidget


class FiltersTab(QWidget):
    """An image, one or two filters slid over it, and every step of the arithmetic."""

    title = "Filters"
    sig_status = Signal(str)
    """A line for the main window's status bar."""
    sig_rendered = Signal()
    """The views were redrawn (after any change of image, kernel, setting or step)."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self.settings = state.filters
        self._showing = False  # the editors are being shown the lesson's weights
        self._rgb: np.ndarray | None = None
        self.layer: FilterLayer | None = None
        self._build_widgets()
        self._build_layout()
        self._connect()

    def _build_widgets(self) -> None:
        settings = self.settings
        self.source = FilterSourceWidget(settings)
        self.colour_box = QCheckBox()
        self.size_combo = QComboBox()
        self.second_box = QCheckBox()
        self.editors = [KernelEditorWidget(f"Filter {i + 1}", name)
                        for i, name in enumerate(DEFAULT_PRESETS)]
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: rgb(200, 30, 30); font-weight: bold")
        self.stride_spin = QSpinBox()
        self.padding_combo = QComboBox()
        for widget, name in ((self.colour_box, "colour"), (self.size_combo, "size"),
                             (self.second_box, "second"), (self.stride_spin, "stride"),
                             (self.padding_combo, "padding")):
            bind(widget, settings, name)
        self.size_label = QLabel()
        self.stride_label = QLabel()
        self.zero_label = QLabel()
        for label in (self.stride_label, self.zero_label):
            label.setStyleSheet("color: rgb(170, 90, 0); font-weight: bold")
        for label in (self.error_label, self.size_label, self.stride_label, self.zero_label):
            label.setWordWrap(True)
        self.steps = StepControlsWidget(settings)
        self.views = FilterViewsWidget(self.steps)
        self.code = CodeViewWidget("The filters, ReLU and pooling in plain numpy: run it with the "
                                   "image to get the maps shown.")
        self.model_panel = ModelStepPanelWidget(settings)
        self.pages = QTabWidget()
        self.pages.addTab(self.views, "Step through")
        self.pages.addTab(self.code, "NumPy code")

    def _build_layout(self) -> None:
        image = QGroupBox("Image")
        QVBoxLayout(image).addWidget(self.source)
        window = QGroupBox("Window")
        form = QFormLayout(window)
        form.addRow("Kernel size", self.size_combo)
        form.addRow("Stride", self.stride_spin)
        form.addRow("Padding", self.padding_combo)
        form.addRow(self.size_label)
        form.addRow(self.stride_label)
        kernels = QGroupBox("Filters: weights and bias")
        column = QVBoxLayout(kernels)
        for widget in (self.colour_box, self.second_box, *self.editors, self.error_label,
                       self.zero_label):
            column.addWidget(widget)
        model = QGroupBox("From a model")
        QVBoxLayout(model).addWidget(self.model_panel)
        self._lesson_groups, self._model_group = (image, window, kernels), model
        panel = QWidget()
        left = QVBoxLayout(panel)
        for group in (model, image, window, kernels):
            left.addWidget(group)
        left.addStretch(1)
        self.scroll = SidePanelWidget(panel)
        self.drawer = SideDrawerWidget(self.scroll, self.pages)
        self._show_model_mode(None)
        QVBoxLayout(self).addWidget(self.drawer)

    def _connect(self) -> None:
        self.source.sig_image_changed.connect(self._on_source_image_changed)
        self.source.sig_status.connect(self.sig_status)
        self.code.sig_status.connect(self.sig_status)
        for i, editor in enumerate(self.editors):
            editor.sig_changed.connect(lambda i=i: self._on_editor_changed(i))
            editor.sig_error.connect(self._on_editor_error)
        self._show_weights()
        for name in ("colour", "size", "second", "stride", "padding", "kernels", "biases"):
            getattr(self.settings.events, name).connect(self._on_lesson_changed)
        self.steps.sig_changed.connect(self._on_steps_changed)
        self.views.sig_output_clicked.connect(self._on_views_output_clicked)
        self.views.sig_arranged.connect(self._render)
        self.settings.events.model_step.connect(self._on_model_step_changed)
        self.settings.events.channel.connect(self._render)
        self.model_panel.sig_back.connect(self.settings.close_step)
        # The arrows step only in the step-through, where no table or slider wants them.
        self.views.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for key, button in ((Qt.Key.Key_Right, self.steps.step_button),
                            (Qt.Key.Key_Left, self.steps.back_button)):
            QShortcut(QKeySequence(key), self.views, button.click,
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def shortcut_buttons(self) -> dict[str, QWidget]:
        """The buttons the main window's Next and Previous step shortcuts press."""
        return {"next": self.steps.step_button, "previous": self.steps.back_button}

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.source.load_digits()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().hideEvent(event)
        self.steps.play_button.setChecked(False)  # no stepping behind another tab

    # --- the lesson ---------------------------------------------------------------------------

    def _show_weights(self) -> None:
        """Show the lesson's weights in the editors that do not show them already (an editor
        keeps a cell being typed while its weights stay)."""
        settings = self.settings
        self._showing = True
        try:
            for i, editor in enumerate(self.editors):
                kernel, bias = settings.kernel_array(i), settings.biases[i]
                if editor.kernel().shape != kernel.shape or not np.array_equal(editor.kernel(), kernel) \
                        or editor.bias() != bias:
                    editor.set_kernel(kernel, bias)
        finally:
            self._showing = False
        self.editors[1].setVisible(settings.second)

    def _on_editor_changed(self, index: int) -> None:
        if not self._showing:
            editor = self.editors[index]
            self.settings.set_filter(index, editor.kernel(), editor.bias())

    def _on_lesson_changed(self, *_args: object) -> None:
        self._show_weights()
        self.recompute()

    def _show_model_mode(self, step: ModelStep | None) -> None:
        """A model's step in place of the hand-made lesson's controls, or those back."""
        self._model_group.setVisible(step is not None)
        for group in self._lesson_groups:
            group.setVisible(step is None)
        if step is not None:
            self.model_panel.show_step(step)

    def _on_model_step_changed(self, step: ModelStep | None) -> None:
        self._show_model_mode(step)
        self.recompute()

    @Slot(str)
    def _on_editor_error(self, message: str) -> None:
        self.error_label.setText(f"{message} The last good kernel is used." if message else "")

    @Slot(object)
    def _on_source_image_changed(self, rgb: np.ndarray) -> None:
        self._rgb = rgb
        self.recompute()

    # --- computing and drawing ----------------------------------------------------------------

    @Slot()
    def recompute(self) -> None:
        """Run the lesson's filters over the image and redraw."""
        settings = self.settings
        if settings.model_step is not None:
            self.layer = settings.model_step.layer
        elif self._rgb is None:
            return
        else:
            kernels, bias = settings.layer_weights()
            self.layer = FilterLayer(to_input(self._rgb, settings.colour), kernels, bias, settings.stride,
                                     settings.padding)
        self.size_label.setText(self.layer.size_sentence())
        step = settings.model_step
        self.code.setPlainText(numpy_code(self.layer, None if step is None else step.notes[0]))
        self.stride_label.setText(self.layer.stride_note())
        self.zero_label.setText("\n".join(self.layer.zero_notes()))
        self.steps.set_filters(self.layer.filters)
        self._render()

    @Slot()
    def _on_steps_changed(self) -> None:
        self._render()

    def _render(self) -> None:
        layer = self.layer
        if layer is None:
            return
        step = self.settings.model_step
        # A project's position waits for its image; then one past the end moves to the last.
        self.steps.set_count(layer.step_count(self.settings.stage),
                             keep=step is None and not self.source.is_current())
        if step is None:
            display = PIXELS
        else:
            channel = step.drawn_channel(self.settings.channel)
            display = InputDisplay(step.display_scale(channel), channel, step.output)
        # A colour step at large text shows one of R, G and B: the lesson's channel (a project's
        # past the three shows B, and its picker says it cannot show the value).
        split = self.views.one_channel_step(layer, display)
        self.steps.channel_combo.setVisible(split)
        self.views.show_layer(layer, self.settings.stage, min(self.settings.filter_index, layer.filters - 1),
                              self.steps.position(), display, min(self.settings.channel, 3) - 1)
        self.sig_rendered.emit()

    @Slot(str, int, int)
    def _on_views_output_clicked(self, stage: str, filter_index: int, position: int) -> None:
        index = filter_index if 0 <= filter_index < FILTER_COUNT else self.settings.filter_index
        self.settings.update({"stage": stage, "filter_index": index, "position": position})
