"""The Filters tab's pictures: the input (with its padding), the output maps, ReLU and max pooling,
and the step being worked out (window, kernel, products, and the arithmetic as a sentence).

Signed values use one diverging colour map for every map of the layer (blue negative, white zero,
red positive), so the negative responses the chapter points out show, and two filters compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import QBoxLayout, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from filterscope.core.filters.explain import conv_equation, pool_equation, relu_equation
from filterscope.core.filters.kernels import CHANNEL_NAMES, format_number
from filterscope.core.filters.layer import FilterLayer
from filterscope.core.visualize.render import signed_colours
from filterscope.ui.widgets.fitting import stacked_direction
from filterscope.ui.widgets.matrix_view import Highlight, MatrixPanel, MatrixViewWidget

WINDOW = "#ff8c00"  # the window and the value being computed
WINNER = "#00a000"  # the largest value of a pool
# The step's digits, as a share of the text's size: the class reads them aloud. A colour step
# has six grids (three windows, three products) to fit in the same room: smaller digits. At
# large text a colour step shows one channel's window, kernel and products (the user picks
# which), the size of a gray one's, and its sentence gives every channel's part of the sum.
STEP_DIGITS, COLOUR_STEP_DIGITS = 0.7, 0.3
HINT = ("Press Step to slide the window one position at a time, or click a cell of an output map "
        "to see how it was computed.")


def wrap(label: QLabel) -> None:
    """Word-wrap ``label`` to whatever width the layout gives it: a wrapped label otherwise asks
    for the width of its longest sentence, and the nine products would push the maps off the
    window."""
    label.setWordWrap(True)
    label.setMinimumWidth(1)
    policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)  # as tall as its wrapped lines: never cut off at the bottom
    label.setSizePolicy(policy)


def gray_colours(values: np.ndarray) -> np.ndarray:
    """Pixel values 0..255 as gray cells."""
    gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def channel_colours(values: np.ndarray, channel: int) -> np.ndarray:
    """One channel's values 0..255 in its own hue (R red, G green, B blue)."""
    colours = np.zeros((*values.shape, 3), np.uint8)
    colours[..., channel] = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return colours


@dataclass(frozen=True)
class InputDisplay:
    """How the input's values are drawn: pixels 0 to 255 (a hand-made lesson), or a model's
    values on their own scale, one channel at a time when there are neither one nor three.

    Attributes:
        scale: The value drawn white (255 for pixels).
        channel: The input channel drawn, or None for all (gray, or R, G and B).
        output: The output map's caption when it is not the lesson's own filter (a model's
            channel), or "".
    """

    scale: float = 255.0
    channel: int | None = None
    output: str = ""

    @property
    def decimals(self) -> int:
        """Decimals printed in the input's cells: none for pixels."""
        return 0 if self.scale == 255.0 else 2

    def colours(self, values: np.ndarray, channel: int | None = None) -> np.ndarray:
        """(H, W) values as cells: gray (or in ``channel``'s hue), signed when some are negative."""
        if (values < 0).any():
            return signed_colours(values, self.scale)
        scaled = values * (255.0 / self.scale)
        return gray_colours(scaled) if channel is None else channel_colours(scaled, channel)


PIXELS = InputDisplay()


class FilterViewsWidget(QWidget):
    """Shows a :class:`FilterLayer` at a stage, filter and position of the step-through."""

    sig_output_clicked = Signal(str, int, int)
    """Stage (``convolution`` or ``pooling``), filter and position of a clicked output cell."""
    sig_arranged = Signal()
    """Laid out anew for the text size: redraw (a colour step splits by channel at large text)."""

    def __init__(self, controls: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layer: FilterLayer | None = None
        self._display = PIXELS
        self.input_view = MatrixViewWidget()
        self.output_view = MatrixViewWidget()
        self.detail_view = MatrixViewWidget(readable=STEP_DIGITS)
        self.equation_label = QLabel(HINT)
        self.equation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.after_view = MatrixViewWidget()
        self.legend_label = QLabel()
        for label in (self.equation_label, self.legend_label):
            wrap(label)
        self._controls = controls
        self._text = QVBoxLayout()
        self._text.addWidget(self.equation_label)
        self._text.addWidget(self.legend_label)
        self._text.addStretch(1)
        self._large: bool | None = None
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self._arrange()
        self.output_view.sig_cell_clicked.connect(self._on_output_clicked)
        self.after_view.sig_cell_clicked.connect(self._on_after_clicked)

    def _arrange(self) -> None:
        """Lay the views out for the text size. The maps side by side; under them the step (its
        cells, its sum and the colour key), then the controls. At large text (a projector's 720
        px hold about a dozen lines) the step sits beside the maps and its sentence under them
        all, each row as tall as its text and cells need, no more."""
        large = stacked_direction(self) == QBoxLayout.Direction.TopToBottom
        if large == self._large:
            return
        self._large = large
        grid = self.grid
        for widget in (self.input_view, self.output_view, self.after_view, self.detail_view,
                       self._controls):
            grid.removeWidget(widget)
        grid.removeItem(self._text)
        for column, view in enumerate((self.input_view, self.output_view, self.after_view)):
            grid.addWidget(view, 0, column)
        if large:
            grid.addWidget(self.detail_view, 0, 3)
            grid.addLayout(self._text, 1, 0, 1, 4)
        else:
            grid.addWidget(self.detail_view, 1, 0)
            grid.addLayout(self._text, 1, 1, 1, 2)
        grid.addWidget(self._controls, 2, 0, 1, 4 if large else 3)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 0 if large else 2)  # normal text: room for the step to print its numbers
        for column in range(4):
            grid.setColumnStretch(column, 1 if column < 3 or large else 0)
        self._fit_detail()
        self.sig_arranged.emit()

    def _fit_detail(self) -> None:
        colour = len(self.detail_view.panels()) == 6
        self.detail_view.set_readable(COLOUR_STEP_DIGITS if colour else STEP_DIGITS)
        # A colour step's six panels: the three windows over their three products, so each
        # caption has a third of the width; at large text in one row, beside the maps.
        self.detail_view.set_columns(3 if colour and not self._large else None)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._arrange()

    def one_channel_step(self, layer: FilterLayer, display: InputDisplay = PIXELS) -> bool:
        """Whether a step of ``layer`` drawn as ``display`` shows one input channel of R, G and
        B at a time (at large text), the one :meth:`show_layer` is given."""
        return bool(self._large) and layer.image.shape[2] == 3 and display.channel is None

    def show_layer(self, layer: FilterLayer, stage: str, filter_index: int,
                   position: int | None, display: InputDisplay = PIXELS, channel: int = 0) -> None:
        """Draw every view for ``layer`` with the step ``position`` of ``stage`` (None: all),
        its input drawn as ``display`` says; a colour step drawn one channel at a time (see
        :meth:`one_channel_step`) draws ``channel`` (0-based)."""
        self._layer, self._display = layer, display
        vmax = float(np.abs(layer.output).max()) if layer.output.size else 1.0
        filled = position + 1 if position is not None else None
        conv_shown = filled if stage == "convolution" else None
        after_shown = {"convolution": (0, 0), "relu": (filled, 0), "pooling": (None, filled)}[stage]
        if position is None:
            after_shown = (None, None)
        self._show_input(layer, display)
        self.legend_label.setText(f"Blue negative, white 0, red positive, on one scale for every map "
                                  f"(±{format_number(vmax, 1)}). Gray: not computed yet.")
        out_panels = [MatrixPanel(layer.output[..., f], signed_colours(layer.output[..., f], vmax),
                                  display.output or f"Output channel {f + 1}", shown=conv_shown)
                      for f in range(layer.filters)]
        f = filter_index
        after = [MatrixPanel(layer.rectified[..., f], signed_colours(layer.rectified[..., f], vmax),
                             f"ReLU, channel {f + 1}" if layer.filters > 1 else "ReLU", shown=after_shown[0]),
                 MatrixPanel(layer.pooled[..., f], signed_colours(layer.pooled[..., f], vmax),
                             "Max pool", shown=after_shown[1])]
        marks_in, marks_out, marks_after = [], [], []
        if position is not None:
            split = channel if self.one_channel_step(layer, display) else None
            detail, text = self._detail(layer, stage, f, position, vmax, marks_in, marks_out,
                                        marks_after, split)
        else:
            detail, text = [], HINT
        self.input_view.set_panels(self.input_view.panels()[:1], marks_in)
        self.output_view.set_panels(out_panels, marks_out)
        self.after_view.set_panels(after, marks_after)
        self.detail_view.set_panels(detail, [])
        self._fit_detail()
        self.equation_label.setText(text)

    def equation(self) -> str:
        """The arithmetic of the current step, as shown."""
        return self.equation_label.text()

    def _show_input(self, layer: FilterLayer, display: InputDisplay) -> None:
        padded, inside = layer.padded, layer.inside()
        height, width, channels = layer.image.shape
        caption = f"Input {height} × {width} × {channels}"
        if display.channel is not None:
            values = padded[..., display.channel]
            colours = display.colours(values)
            caption += f", channel {display.channel + 1} shown"
        elif channels == 3:
            values = padded.mean(axis=2)
            colours = np.clip(np.rint(padded * (255.0 / display.scale)), 0, 255).astype(np.uint8)
        else:
            values = padded[..., 0]
            colours = display.colours(values)
        panel = MatrixPanel(values, colours, caption + (", padded with zeros" if (~inside).any() else ""),
                            padding=~inside, decimals=display.decimals,
                            numbers=channels != 3 or display.channel is not None)
        self.input_view.set_panels([panel])

    def _detail(self, layer, stage, f, position, vmax, marks_in, marks_out, marks_after, split):
        if stage == "convolution":
            step = layer.conv_step(position, f)
            marks_in.append(Highlight(0, step.top, step.left, layer.k, layer.k, WINDOW))
            marks_out.append(Highlight(f, step.row, step.col, colour=WINDOW))
            kernel = layer.kernels[..., f]
            return self._conv_panels(step, kernel, self._display, split), conv_equation(step, kernel)
        out_w = layer.output.shape[1]
        if stage == "relu":
            row, col = divmod(position, out_w)
            value = float(layer.output[row, col, f])
            marks_out.append(Highlight(f, row, col, colour=WINDOW))
            marks_after.append(Highlight(0, row, col, colour=WINDOW))
            cells = [np.array([[value]]), np.array([[max(value, 0.0)]])]
            panels = [MatrixPanel(v, signed_colours(v, vmax), t, decimals=2)
                      for v, t in zip(cells, ("Output", "ReLU"))]
            return panels, relu_equation(value, row, col)
        step = layer.pool_step(position, f)
        marks_after.append(Highlight(0, step.top, step.left, 2, 2, WINDOW))
        marks_after.append(Highlight(0, *step.winner, colour=WINNER))
        marks_after.append(Highlight(1, step.row, step.col, colour=WINDOW))
        best = np.array([[step.value]])
        panels = [MatrixPanel(step.window, signed_colours(step.window, vmax), "Pool", decimals=2),
                  MatrixPanel(best, signed_colours(best, vmax), "Max", decimals=2)]
        return panels, pool_equation(step)

    @staticmethod
    def _conv_panels(step, kernel: np.ndarray, display: InputDisplay, split: int | None) -> list[MatrixPanel]:
        """The window, kernel and products of one channel (a gray image, a model's channel
        drawn, or ``split`` of R, G and B), or R, G and B's windows and products."""
        channels = step.window.shape[2]
        scale = float(np.abs(step.products).max()) or 1.0
        decimals = display.decimals
        product_decimals = 1 if display == PIXELS else 2
        if split is not None:
            name = CHANNEL_NAMES[split]
            return [MatrixPanel(step.window[..., split], display.colours(step.window[..., split], split),
                                f"Window {name}", decimals=decimals),
                    MatrixPanel(kernel[..., split], signed_colours(kernel[..., split]), f"× Kernel {name}",
                                decimals=2),
                    MatrixPanel(step.products[..., split], signed_colours(step.products[..., split], scale),
                                f"= Products {name}", decimals=product_decimals)]
        if channels == 1 or display.channel is not None:
            c = display.channel or 0
            of = "" if channels == 1 else f", channel {c + 1} of {channels}"
            return [MatrixPanel(step.window[..., c], display.colours(step.window[..., c]), f"Window{of}",
                                decimals=decimals),
                    MatrixPanel(kernel[..., c], signed_colours(kernel[..., c]), "× Kernel",
                                decimals=2),
                    MatrixPanel(step.products[..., c], signed_colours(step.products[..., c], scale),
                                "= Products", decimals=product_decimals)]
        windows = [MatrixPanel(step.window[..., c], display.colours(step.window[..., c], c),
                               f"Window {name}", decimals=decimals) for c, name in enumerate(CHANNEL_NAMES)]
        # Each channel's products, named by what made them: short words, so six captions fit
        # beside the maps at a projector's large text.
        products = [MatrixPanel(step.products[..., c], signed_colours(step.products[..., c], scale),
                                f"{name} × kernel", decimals=product_decimals)
                    for c, name in enumerate(CHANNEL_NAMES)]
        return windows + products

    @Slot(int, int, int)
    def _on_output_clicked(self, panel: int, row: int, col: int) -> None:
        if self._layer is not None:
            self.sig_output_clicked.emit("convolution", panel, row * self._layer.output.shape[1] + col)

    @Slot(int, int, int)
    def _on_after_clicked(self, panel: int, row: int, col: int) -> None:
        if self._layer is None:
            return
        if panel == 0:
            self.sig_output_clicked.emit("relu", -1, row * self._layer.output.shape[1] + col)
        else:
            self.sig_output_clicked.emit("pooling", -1, row * self._layer.pooled.shape[1] + col)

