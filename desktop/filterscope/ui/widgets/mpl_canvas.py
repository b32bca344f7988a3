"""An embedded matplotlib figure (never pyplot: the app owns its figures) whose text follows
the application's text size, so View ▸ Larger text enlarges the charts for a projector too."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import matplotlib
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QEvent, QSize
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QSizePolicy, QWidget

MPL_BASE_POINTS = 10.0  # matplotlib's default text size, matched to the system's default font
# Presentation mode: lines, markers and axes bold enough to survive a projector (text grows
# with the font already).
PRESENTING_RC = {"lines.linewidth": 3.0, "lines.markersize": 9.0, "axes.linewidth": 1.6,
                 "grid.linewidth": 1.4, "xtick.major.width": 1.6, "ytick.major.width": 1.6,
                 "xtick.major.size": 6.0, "ytick.major.size": 6.0, "patch.linewidth": 1.6}


# A chart over steps or epochs keeps at least this many lines of text high: title, tick labels,
# axis label and a legend take about five, and its lines keep three of their own at any text
# size (at 250 % on a projector's 720 px the Train tab has no more to give).
CHART_LINES = 8

class MplCanvasWidget(FigureCanvasQTAgg):
    """A Figure in a Qt widget; callers draw on ``figure`` inside ``with canvas.styled():`` and
    call ``draw_idle()``. ``redraw`` is called again when the widget's text size changes."""

    _presenting = False  # one switch for every canvas: presentation mode is application-wide

    def __init__(self, parent: QWidget | None = None, *, width: float = 4, height: float = 3,
                 redraw: Callable[[], None] | None = None, min_lines: int = 0) -> None:
        """Args:
            min_lines: At least this many lines of the widget's text high (0: 160 pixels), so a
                chart with its labels and legend keeps room for its axes when the text grows.
        """
        super().__init__(Figure(figsize=(width, height), layout="constrained"))
        self.setParent(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # The size asked for is the figure's first; matplotlib's canvas asks for its current
        # size, so a chart grown by large text kept asking for that room after it.
        self._hint = super().sizeHint()
        self._min_lines = min_lines
        self._fit_height()
        self._redraw_fn = redraw
        self._drawn_when_shown = False  # a draw asked for while hidden, done when shown

    def draw_idle(self) -> None:
        """Draw soon if on screen; a hidden canvas (another tab's) draws when it is shown or
        painted: drawing the charts nobody sees took a third of the start-up."""
        if self.isVisible():
            super().draw_idle()
        else:
            self._drawn_when_shown = True

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._drawn_when_shown:
            self._drawn_when_shown = False
            super().draw_idle()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._drawn_when_shown:  # grabbed while hidden: the figure as it is now
            self._drawn_when_shown = False
            self.draw()
        super().paintEvent(event)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._hint)

    def _fit_height(self) -> None:
        self.setMinimumHeight(max(160, self._min_lines * self.fontMetrics().height()))

    def text_points(self) -> float:
        """matplotlib's base text size for this widget's font (10 at the system's default)."""
        system = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont).pointSizeF()
        points = self.font().pointSizeF()
        return MPL_BASE_POINTS * (points / system if points > 0 and system > 0 else 1.0)

    def styled(self) -> AbstractContextManager:
        """A context in which new titles, labels and legends take the widget's text size (tick
        labels are made at draw time: give them ``axes.tick_params(labelsize=tick_points())``), and
        new lines take presentation mode's widths."""
        extra = PRESENTING_RC if MplCanvasWidget._presenting else {}
        return matplotlib.rc_context({"font.size": self.text_points(), **extra})

    @classmethod
    def set_presenting(cls, on: bool) -> None:
        """Bolder lines and markers in every canvas (each redraws when the font changes next,
        which presentation mode always does)."""
        cls._presenting = on

    def tick_points(self) -> float:
        """Tick label size to go with :meth:`text_points`."""
        return 0.9 * self.text_points()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_height()
            if self._redraw_fn is not None:
                self._redraw_fn()
