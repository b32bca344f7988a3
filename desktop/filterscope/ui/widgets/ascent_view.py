"""A picture forming by gradient ascent: repainted from every partial result, with the
objective's value plotted as it rises."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from filterscope.core.visualize.ascent import AscentFrame, AscentResult, MosaicTiles
from filterscope.core.visualize.render import mosaic
from filterscope.core.visualize.settings import FILTER
from filterscope.ui.widgets.image_view import ImageViewWidget
from filterscope.ui.widgets.mpl_canvas import CHART_LINES, MplCanvasWidget

REDRAW_MS = 150  # the plot redraws at most this often: drawing must not slow the ascent down
WAITING = 128  # gray of a mosaic tile whose picture has not started yet
MAX_LINES = 64  # objective lines drawn for a mosaic


class ObjectivePlotWidget(MplCanvasWidget):
    """The objective of each picture against the step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        # Lines of text high, as the training curves: at 160 px a projector's large text left
        # the plot a sliver between its labels.
        super().__init__(parent, width=5, height=2.2, redraw=self._redraw, min_lines=CHART_LINES)
        self.axes = self.figure.subplots()
        self._history = np.zeros((0, 0), np.float32)
        self._what = "objective"
        self._timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        self._redraw()

    def set_history(self, history: np.ndarray, what: str | None = None) -> None:
        """(steps + 1, N) objective values, NaN where not reached yet; redrawn soon."""
        self._history = history
        self._what = what or self._what
        if not self._timer.isActive():
            self._timer.start()

    def lines_drawn(self) -> int:
        """How many objective lines are on the chart."""
        return len(self.axes.lines)

    def _redraw(self) -> None:
        with self.styled():
            axes = self.axes
            axes.clear()
            axes.set_title(f"Objective: {self._what}", fontsize="medium")
            axes.set_xlabel("step")
            axes.grid(alpha=0.3)
            axes.tick_params(labelsize=self.tick_points())
            columns = self._history.shape[1] if self._history.ndim == 2 else 0
            for column in range(min(columns, MAX_LINES)):
                values = self._history[:, column]
                reached = np.flatnonzero(np.isfinite(values))
                if len(reached):
                    axes.plot(np.arange(reached[-1] + 1), values[:reached[-1] + 1],
                              lw=1.5 if columns == 1 else 0.8, alpha=1.0 if columns == 1 else 0.6)
        self.draw_idle()


class AscentViewWidget(QWidget):
    """The picture (or mosaic) being painted, its objective, and a caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ImageViewWidget()
        self.plot = ObjectivePlotWidget()
        self.caption = QLabel("Choose a model and a layer, then Start.")
        self.caption.setWordWrap(True)
        self._tiles: np.ndarray | None = None
        self._history = np.zeros((0, 0), np.float32)
        self._frames = 0
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(self.plot)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([3000, 1000])  # in proportion: the picture first, the plot below it
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.caption)

    def begin(self, count: int, steps: int, what: str, caption: str) -> None:
        """A new picture of ``count`` tiles over ``steps`` steps starts; ``what`` names the
        objective on the plot."""
        self._tiles = None
        self._history = np.full((steps + 1, count), np.nan, np.float32)
        self._frames = 0
        self.plot.set_history(self._history, what)
        self.caption.setText(caption)

    def clear(self, caption: str) -> None:
        """No picture and no objective (another model is in use): ``caption`` says what to do."""
        self._tiles, self._frames = None, 0
        self._history = np.zeros((0, 0), np.float32)
        self.view.set_image(None)
        self.plot.set_history(self._history, "objective")
        self.caption.setText(caption)

    def add_frame(self, frame: AscentFrame) -> None:
        """The pictures of a batch as they are now."""
        self._place(frame.positions, frame.images)
        self._history[:frame.step, frame.positions] = frame.history
        self._frames += 1
        self._show()

    def add_tiles(self, tiles: MosaicTiles) -> None:
        """A finished batch."""
        self._place(tiles.positions, tiles.images)
        self._history[:len(tiles.history), tiles.positions] = tiles.history
        self._show()

    def finish(self, result: AscentResult) -> None:
        """The finished pictures, and what the objective did."""
        self._tiles = result.images.copy()
        self._history = result.history.copy()
        self._show()
        start, end = result.objective_start, result.objective_end
        if len(result.labels) == 1:
            text = f"{result.labels[0]}: objective {start[0]:.4g} → {end[0]:.4g}"
        else:
            target = result.target
            which = f"{target.layer} filters" if target.kind == FILTER else "classes"
            text = (f"{which} {target.indices[0]} to {target.indices[-1]}: objective "
                    f"{np.nanmean(start):.4g} → {np.nanmean(end):.4g} on average")
        text += f" ({result.settings.steps} steps, lr {result.lr:g}, {result.seconds:.1f} s)."
        notes = ([result.diverged] if result.diverged else []) + result.notes
        self.caption.setText(text + "".join(f" {note}." for note in notes))

    def stopped(self) -> None:
        """Say where the picture stopped (what is shown stays and can be saved)."""
        reached = np.flatnonzero(np.isfinite(self._history).any(axis=1)) if self._history.size else []
        self.caption.setText(f"Stopped after {len(reached)} steps; the picture is as it was then.")

    def picture(self) -> np.ndarray | None:
        """The picture shown (one tile, or the mosaic), or None before any frame."""
        if self._tiles is None:
            return None
        return self._tiles[0] if len(self._tiles) == 1 else mosaic(self._tiles)

    def frames_shown(self) -> int:
        """Partial pictures shown since the last begin()."""
        return self._frames

    def _place(self, positions: list[int], images: np.ndarray) -> None:
        if self._tiles is None or self._tiles.shape[1:] != images.shape[1:]:
            self._tiles = np.full((self._history.shape[1], *images.shape[1:]), WAITING, np.uint8)
        self._tiles[positions] = images

    def _show(self) -> None:
        self.view.set_image(self.picture())
        self.plot.set_history(self._history)
