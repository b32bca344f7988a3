"""Predict new images with the chosen model: one image (a file dialog or drag-and-drop) as a
top-k bar chart with its calibrated confidence and decision, or a folder (sub-folders too) as a
job writing a CSV and its audit sidecar, then a sortable table of every image
(:class:`~filterscope.ui.widgets.prediction_grid.PredictionGridWidget`). "Why?" shows Grad-CAM
of the image's two most probable classes beside the chart (another image or model clears it).

The core refuses a CSV inside the folder predicted, refuses an existing one unless told to
overwrite it, and writes nothing when cancelled; this widget only asks where (and whether to
replace a file that is there), starts the job and shows the answer.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.base.formats import percent
from filterscope.core.data.images import IMAGE_SUFFIXES
from filterscope.core.results.audit import sidecar_path
from filterscope.core.results.decisions import NEEDS_REVIEW
from filterscope.core.results.predict import Prediction, predict
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.results.tta import VIEWS
from filterscope.ui.binding import bind
from filterscope.ui.widgets.flow_layout import FlowLayout
from filterscope.ui.widgets.job_panel import JobPanelWidget
from filterscope.ui.widgets.mpl_canvas import MplCanvasWidget
from filterscope.ui.widgets.prediction_grid import REVIEW_LABEL, REVIEW_TEXT, PredictionGridWidget
from filterscope.ui.widgets.why_view import WhyViewWidget
from filterscope.workers import JobRunner

ERROR_STYLE = "color: #b00020"
MAX_NAMED = 8  # unreadable files named in the summary (the CSV has them all)


class PredictPanelWidget(QWidget):
    """Buttons, a drop target, the bar chart and the summary of a folder."""

    def __init__(self, settings: EvaluateSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setAcceptDrops(True)
        self._source: Path | None = None
        self._which = "best"
        self._shown: Prediction | None = None
        self.runner = JobRunner(self, on_result=self._on_predicted, on_failure=self._on_failed,
                                on_running=self._update_buttons)
        self.image_button = QPushButton("Predict an image…")
        self.folder_button = QPushButton("Predict a folder to CSV…")
        self.why_button = QPushButton("Why?")
        self.why_button.setToolTip("Grad-CAM: where in the image the model found the evidence for "
                                   "its two most probable classes")
        self.why = WhyViewWidget()
        self.top_k = QSpinBox(prefix="top ")
        bind(self.top_k, settings, "top_k")
        self.hint = QLabel("Or drop an image here.")
        self.chart = MplCanvasWidget(width=5, height=3, redraw=self._draw)
        self.summary = QLabel("Choose a run to predict with.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.job_panel = JobPanelWidget(self.runner)
        self.grid = PredictionGridWidget()
        self.grid.sig_failed.connect(self._on_grid_failed)
        buttons = FlowLayout()  # wraps at large text rather than widening the tab
        for widget in (self.image_button, self.folder_button, self.top_k, self.why_button, self.hint):
            buttons.addWidget(widget)
        split = QSplitter(Qt.Orientation.Horizontal)  # the bars, and the explanation beside them
        split.addWidget(self.chart)
        split.addWidget(self.why)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(1, 2)  # three pictures want more room than the bars
        self.pages = QStackedWidget()  # one image's chart, or a folder's table
        self.pages.addWidget(split)
        self.pages.addWidget(self.grid)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.job_panel)
        self.image_button.clicked.connect(self._on_image_clicked)
        self.folder_button.clicked.connect(self._on_folder_clicked)
        self.why_button.clicked.connect(self.explain_shown)
        self._update_buttons()

    def set_model(self, source: Path | None, which: str) -> None:
        """Predict with this run (its ``best`` or ``last`` model) or ``.keras`` file.

        Another model forgets the previous one's chart, answer or failure, and cancels its
        prediction still under way."""
        if (source, which) != (self._source, self._which):
            self.runner.cancel()
            self.job_panel.clear()
            self._shown = None
            self.why.clear()
            self._draw()
            self._show_grid(None)
            self.summary.setStyleSheet("")
            self.summary.setText("Choose a run to predict with." if source is None else
                                 f"Predict with {html.escape(source.name)} ({which} model): "
                                 "an image, or a folder to a CSV file.")
        self._source, self._which = source, which
        self._update_buttons()

    def predict_image(self, path: str | Path) -> None:
        """Predict one image and draw its top-k classes."""
        if self._source is not None:
            self._forget_shown()
            self.summary.setStyleSheet("")
            self.summary.setText(f"Predicting {Path(path).name}…")
            self.runner.start(predict, self._source, path, which=self._which, top_k=self.settings.top_k,
                              tta=self.settings.tta)

    def predict_folder(self, folder: str | Path, csv_path: str | Path) -> None:
        """Predict every image under ``folder`` and write ``csv_path`` (and its audit sidecar),
        asking first when ``csv_path`` exists; the previous folder's table goes."""
        if self._source is None:
            return
        overwrite = Path(csv_path).exists()
        if overwrite and QMessageBox.question(
                self, "Replace the predictions?",
                f"{csv_path} exists. Replace it (and its audit record "
                f"{sidecar_path(csv_path).name}) with this prediction?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No) != QMessageBox.StandardButton.Yes:
            self.summary.setStyleSheet("")
            self.summary.setText(f"Not predicted: {html.escape(str(csv_path))} was kept as it is.")
            return
        self._forget_shown()
        self.summary.setStyleSheet("")
        self.summary.setText(f"Predicting the images in {html.escape(str(folder))}…")
        self.runner.start(predict, self._source, folder, out=csv_path, which=self._which,
                          top_k=self.settings.top_k, tta=self.settings.tta, overwrite=overwrite)

    def bars(self) -> list[tuple[str, float]]:
        """The (class, calibrated probability) bars drawn, most probable first."""
        return [] if self._shown is None else self._shown.top(0, calibrated=True)

    @Slot()
    def explain_shown(self) -> None:
        """Grad-CAM of the image predicted, for its two most probable classes (a job; a second
        click replaces it)."""
        if self._source is not None and self._shown is not None:
            self.why.explain(self._source, self._which, self._shown.paths[0], None,
                             ["predicted", "2nd most probable"], shown=self._shown.calibrated()[0])

    def _forget_shown(self) -> None:
        """Another image or folder: the last image's chart and explanation, and the last
        folder's table, go."""
        self._shown = None
        self.why.clear()
        self._draw()
        self._show_grid(None)
        self._update_buttons()

    def _show_grid(self, result: Prediction | None) -> None:
        """A folder's table (None: back to the chart, the table emptied)."""
        self.grid.set_prediction(result)
        self.pages.setCurrentIndex(0 if result is None else 1)

    @Slot()
    def _update_buttons(self) -> None:
        ready = self._source is not None and not self.runner.is_running()
        self.image_button.setEnabled(ready)
        self.folder_button.setEnabled(ready)
        self.why_button.setEnabled(ready and self._shown is not None)

    @Slot()
    def _on_image_clicked(self) -> None:
        pattern = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, "Predict an image", "", f"Images ({pattern})")
        if path:
            self.predict_image(path)

    @Slot()
    def _on_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Predict the images of a folder")
        if not folder:
            return
        default = str(Path.home() / f"{Path(folder).name}-predictions.csv")
        csv_path, _ = QFileDialog.getSaveFileName(  # predict_folder asks about replacing, once
            self, "Save the predictions as", default, "CSV (*.csv)",
            options=QFileDialog.Option.DontConfirmOverwrite)
        if csv_path:
            self.predict_folder(folder, csv_path if csv_path.lower().endswith(".csv") else f"{csv_path}.csv")

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        urls = event.mimeData().urls()
        if len(urls) == 1 and urls[0].isLocalFile() and self._source is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.predict_image(event.mimeData().urls()[0].toLocalFile())

    @Slot(object)
    def _on_predicted(self, result: Prediction) -> None:
        if result.out is None:  # one image
            self._shown = result if not result.errors else None
            self._update_buttons()
            name = result.paths[0].name
            if result.errors:
                self._fail(f"{result.paths[0]}: {result.errors[0]}")
            else:
                best, shown = result.top(0)[0], result.top(0, calibrated=True)[0]
                self.summary.setText(f"{html.escape(name)}: <b>{html.escape(shown[0])}</b> "
                                     f"({percent(shown[1])}; the model's own {percent(best[1])})" + _averaged(result)
                                     + "<br>" + _decision(result)
                                     + "".join(f"<br>{html.escape(n)}" for n in result.notes))
            self._draw()
            return
        self._show_grid(result)
        counts = ", ".join(f"{c}: {n:,}" for c, n in result.counts().items())
        review = result.decision_counts()[NEEDS_REVIEW]
        text = (f"Wrote {html.escape(str(result.out))} (audit record: "
                f"{html.escape(sidecar_path(result.out).name)}): {len(result.paths) - len(result.errors):,} "
                f"image(s) predicted ({html.escape(counts)}){_averaged(result)}"
                + (f"; <b>{review:,} need review</b>" if review else ""))
        if result.errors:
            named = [f"{result.paths[i].name} ({why})" for i, why in sorted(result.errors.items())]
            more = f" and {len(named) - MAX_NAMED:,} more" if len(named) > MAX_NAMED else ""
            text += (f"; {len(named):,} could not be read: "
                     f"{html.escape(', '.join(named[:MAX_NAMED]))}{more} (rows with the reason)")
        self.summary.setText(text + "".join(f"<br>{html.escape(n)}" for n in result.notes))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._fail(message)

    @Slot(str)
    def _on_grid_failed(self, message: str) -> None:
        self._fail(f"The thumbnails could not be made: {message}")

    def _fail(self, message: str) -> None:
        self.summary.setStyleSheet(ERROR_STYLE)
        self.summary.setText(html.escape(message))

    def _draw(self) -> None:
        figure = self.chart.figure
        figure.clear()
        bars = self.bars()
        if bars:
            with self.chart.styled():
                axes = figure.add_subplot()
                names = [c for c, _ in bars][::-1]
                axes.barh(names, [p for _, p in bars][::-1], color="#3b7dd8")
                axes.set_xlim(0, 1)
                axes.set_xlabel("calibrated probability")
                axes.set_title(self._shown.paths[0].name)
                axes.tick_params(labelsize=self.chart.tick_points())
        self.chart.draw_idle()


def _decision(result: Prediction) -> str:
    """One image's calibrated confidence and decision, "needs review" in its warning colour."""
    row = result.rows()[0]
    rule = (f" (below the threshold {percent(result.threshold)})"
            if result.threshold is not None and row["calibrated_confidence"] < result.threshold else "")
    decision = (f'<b style="color: {REVIEW_TEXT.name()}">{REVIEW_LABEL}</b>{rule}'
                if row["decision"] == NEEDS_REVIEW else f"<b>{html.escape(row['decision'])}</b>")
    return f"calibrated confidence {percent(row['calibrated_confidence'])}; decision: {decision}"


def _averaged(result: Prediction) -> str:
    """What a prediction with test-time augmentation adds to its summary."""
    return f", averaged over {len(VIEWS)} views (test-time augmentation)" if result.tta else ""
