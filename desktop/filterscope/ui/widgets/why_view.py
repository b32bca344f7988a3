"""Why this prediction: the photo as the model saw it, and Grad-CAM of two classes beside it (the
predicted and the true one in an evaluation's gallery; the two most probable on the Predict page).

The heatmaps are a job (:func:`~filterscope.core.visualize.explain.explain_run_image`, the
photo fed by the run's rule); another click replaces it, Cancel stops it, and :meth:`clear`
takes everything of the last photo off the screen. The model, with its traced Grad-CAM, is kept
for the next photo of the same run.
"""

from __future__ import annotations

from collections.abc import Sequence

import html
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from filterscope.core.base.formats import percent
from filterscope.core.visualize.explain import Explanation, explain_run_image
from filterscope.core.visualize.session import VisualSession
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.ui.widgets.mpl_canvas import MplCanvasWidget
from filterscope.workers import JobRunner

ERROR_STYLE = "color: #b00020"
HEAT_ALPHA = 0.45


class WhyViewWidget(QWidget):
    """The photo and its heatmaps in one row, a line saying what they show, and the job's panel.
    Hidden until something is explained."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shown: Explanation | None = None
        self._roles: list[str] = []
        self._probabilities: list[float] | None = None
        self._session: tuple[tuple[Path, str], VisualSession] | None = None
        self.runner = JobRunner(self, on_result=self._on_explained, on_failure=self._on_failed)
        self.chart = MplCanvasWidget(width=6, height=2.4, redraw=self._draw)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide_button = QPushButton("Hide")
        self.job_panel = JobPanelWidget(self.runner)
        line = QHBoxLayout()
        line.addWidget(self.message, 1)
        line.addWidget(self.hide_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.chart, 1)
        layout.addLayout(line)
        layout.addWidget(self.job_panel)
        self.hide_button.clicked.connect(self.clear)
        self.hide()

    def explain(self, source: Path, which: str, path: str | Path, classes: list[int] | None,
                roles: list[str], data: str | None = None, shown: Sequence[float] | None = None) -> None:
        """Grad-CAM of ``path`` for ``classes`` (None: the two most probable) with the model
        ``which`` of run (or file) ``source``; ``roles`` name each heatmap ("predicted", "true");
        ``data`` is the evaluated set's source, for the images of a built-in dataset held in memory;
        ``shown`` the probability of each class as the page beside shows it (calibrated), so the
        titles say the same numbers (None: the model's own)."""
        self._shown, self._roles = None, list(roles)
        self._probabilities = None if shown is None else [float(p) for p in shown]
        self._draw()
        self.message.setStyleSheet("")
        self.message.setText(f"Why? Grad-CAM of {html.escape(Path(path).name)}…")
        self.show()
        key = (Path(source), which)
        session = self._session[1] if self._session is not None and self._session[0] == key else None
        self.runner.start(explain_run_image, source, path, classes, data=data, which=which,
                          session=session)

    @Slot()
    def clear(self) -> None:
        """Stop the job and take the explanation off the screen."""
        self.runner.cancel()
        self.job_panel.clear()
        self._shown = None
        self.message.clear()
        self._draw()
        self.hide()

    def explanation(self) -> Explanation | None:
        """The explanation shown, or None."""
        return self._shown

    def titles(self) -> list[str]:
        """The title of each picture drawn: the photo's, then each heatmap's."""
        return [axes.get_title() for axes in self.chart.figure.axes]

    def _title(self, role: str, cam) -> str:
        probability = cam.probability if self._probabilities is None else self._probabilities[cam.class_index]
        return f"{role}:\n{cam.class_name} ({percent(probability)})"  # two lines: narrow panels

    @Slot(object)
    def _on_explained(self, result: Explanation) -> None:
        self._shown = result
        self._session = (result.source, result.session)
        cam = result.cams[0]
        self.message.setText(f"Red: where the evidence for each class lies ({html.escape(cam.layer)}, "
                             f"the last convolution); the photo as the model saw it at the left.")
        self._draw()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._shown = None
        self._draw()
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(html.escape(message))

    def _draw(self) -> None:
        figure = self.chart.figure
        figure.clear()
        shown = self._shown
        if shown is not None:
            with self.chart.styled():
                panels = [(shown.cams[0].image.seen, shown.path.name)]
                panels += [(cam.overlay(HEAT_ALPHA), self._title(role, cam))
                           for role, cam in zip(self._roles, shown.cams)]
                for k, (picture, title) in enumerate(panels):
                    axes = figure.add_subplot(1, len(panels), k + 1)
                    axes.imshow(picture)
                    axes.set_title(title, fontsize=self.chart.tick_points())
                    axes.set_axis_off()
        self.chart.draw_idle()
