"""Whether "89 %" means 89 %: an evaluation's reliability diagram (accuracy against confidence
per confidence bin, before and after the run's calibration, with the diagonal of a perfectly
calibrated model) above the sentences :meth:`~filterscope.core.results.judgement.Judgement.lines`
says (one source for the numbers: the CLI and the report print the same ones). An evaluation
saved before calibration existed shows a sentence and no diagram.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from filterscope.core.results.calibration import Reliability
from filterscope.core.results.evaluate import Evaluation
from filterscope.core.results.judgement import Judgement
from filterscope.ui.widgets.fitting import SidePanelWidget
from filterscope.ui.widgets.mpl_canvas import MplCanvasWidget

NO_JUDGEMENT = ("This evaluation was saved before calibration existed: evaluate the run again to "
                "see how reliable its confidence is.")
NOTHING = "Evaluate a run, or open an earlier evaluation, to see how reliable its confidence is."


def judgement_text(evaluation: Evaluation) -> str:
    """The judgement's sentences (:meth:`Judgement.lines`), one a line, capitalised."""
    if evaluation.judgement is None:
        return NO_JUDGEMENT
    return "\n".join(line[:1].upper() + line[1:] for line in evaluation.judgement.lines(evaluation.baseline.name))


class ReliabilityViewWidget(QWidget):
    """The reliability diagram and the calibration sentence."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._judgement: Judgement | None = None
        self.canvas = MplCanvasWidget(width=4, height=3, redraw=self._redraw, min_lines=17)
        self.canvas.setToolTip("Each bar: the images whose confidence falls in that bin, and how many "
                               "of them were right. On the diagonal, a confidence of 80 % is right "
                               "80 % of the time.")
        self.text = QLabel(NOTHING)
        self.text.setWordWrap(True)
        inner = QWidget()  # scrolls when large text leaves too little room (a projector at 1280 x 720)
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.text)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(SidePanelWidget(inner))
        self._redraw()

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        """Show ``evaluation``'s calibration (None: nothing)."""
        self._judgement = None if evaluation is None else evaluation.judgement
        self.text.setText(NOTHING if evaluation is None else judgement_text(evaluation))
        self.canvas.setVisible(self._judgement is not None)
        self._redraw()

    def judgement(self) -> Judgement | None:
        """The judgement drawn, or None."""
        return self._judgement

    def _redraw(self) -> None:
        figure = self.canvas.figure
        figure.clear()
        j = self._judgement
        if j is not None:
            with self.canvas.styled():
                axes = figure.add_subplot(1, 1, 1)
                axes.plot([0, 1], [0, 1], color="0.55", linestyle="--", linewidth=1,
                          label="perfectly calibrated")
                _bars(axes, j.after, "tab:blue", f"calibrated (T = {j.temperature:.2f})", 0.75)
                _points(axes, j.before, "tab:orange", "the model's own")
                axes.set_xlim(0, 1)
                axes.set_ylim(0, 1.02)
                axes.set_xlabel("Confidence")
                axes.set_ylabel("Accuracy")
                axes.tick_params(labelsize=self.canvas.tick_points())
                # under the axes, never over the bars: the column is narrow in presentation mode
                figure.legend(loc="outside lower center", fontsize="small", frameon=False)
        self.canvas.draw_idle()


def _bars(axes, found: Reliability, color: str, label: str, alpha: float) -> None:
    full = found.counts > 0
    widths = np.diff(found.edges)
    axes.bar(found.edges[:-1][full], found.accuracy[full], width=widths[full], align="edge",
             color=color, alpha=alpha, edgecolor="white", label=label)


def _points(axes, found: Reliability, color: str, label: str) -> None:
    full = found.counts > 0
    axes.plot(found.confidence[full], found.accuracy[full], "o-", color=color, label=label)
