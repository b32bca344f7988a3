"""A row of validation images, a few per class, each with the model's prediction under it in
green (right) or red (wrong): the model at work, for a class to see. The predictions are a job
of the strip's own."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from filterscope.core.base.formats import percent
from filterscope.core.results.examples import THUMB_SIDE, Example, class_examples
from filterscope.core.training.runs import RunResult
from filterscope.ui.widgets.image_view import to_qimage
from filterscope.workers import JobRunner

RIGHT, WRONG, UNREAD = "#1b7f3b", "#b00020", "#666666"


def caption(example: Example) -> tuple[str, str]:
    """The text under an example and its colour."""
    if example.predicted is None:
        return f"{example.true}\nunreadable", UNREAD
    verdict = "✓" if example.correct else "✗"
    return (f"{example.true}\n{verdict} {example.predicted} {percent(example.probability, 0)}",
            RIGHT if example.correct else WRONG)


class PredictionStripWidget(QScrollArea):
    """Shows the examples of :func:`~filterscope.core.results.examples.class_examples`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._inner = QWidget()
        self._row = QHBoxLayout(self._inner)
        self._row.setContentsMargins(2, 2, 2, 2)
        self._row.addStretch(1)
        self.setWidget(self._inner)
        self.setWidgetResizable(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tiles: list[QLabel] = []  # the captions, in order
        self.runner = JobRunner(self, on_result=self.set_examples, on_failure=self._on_failed)
        self.setVisible(False)

    def show_run(self, result: RunResult) -> None:
        """Predict a few validation images of each class with the run's best model, if it has
        one and was validated (a job; the strip is empty meanwhile)."""
        self.clear()
        if result.run_dir is not None and (result.run_dir / "best.keras").is_file() \
                and any(row.get("val_accuracy") is not None for row in result.history):
            self.runner.start(class_examples, result.run_dir)

    def set_examples(self, examples: list[Example]) -> None:
        """Replace the tiles (hidden when there are none)."""
        self.clear()
        for example in examples:
            tile = QWidget()
            column = QVBoxLayout(tile)
            column.setContentsMargins(2, 2, 2, 2)
            picture = QLabel()
            picture.setPixmap(QPixmap.fromImage(to_qimage(example.thumbnail)))
            picture.setToolTip(example.error or example.name)
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text, colour = caption(example)
            label = QLabel(text)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)  # long class names wrap under the picture, not beside it
            label.setFixedWidth(max(example.thumbnail.shape[1], THUMB_SIDE) + 24)
            label.setStyleSheet(f"color: {colour}; font-weight: bold")
            column.addWidget(picture)
            column.addWidget(label)
            self._row.insertWidget(self._row.count() - 1, tile)
            self.tiles.append(label)
        self._fit_height()
        self.setVisible(bool(examples))

    def _fit_height(self) -> None:
        """As tall as the tallest tile and the scroll bar: captions are never cut."""
        self.setMinimumHeight(self._inner.sizeHint().height()
                              + self.horizontalScrollBar().sizeHint().height() + 2 * self.frameWidth())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # larger text or presentation mode, on or off
            QTimer.singleShot(0, self, self._fit_height)  # once the captions have the new font too

    def clear(self) -> None:
        """Remove every tile (and stop predicting)."""
        self.runner.cancel()
        while self._row.count() > 1:
            self._row.takeAt(0).widget().deleteLater()
        self.tiles = []
        self.setVisible(False)

    def _on_failed(self, message: str) -> None:
        self.clear()
        note = QLabel(f"The example predictions could not be made: {message}")
        note.setWordWrap(True)
        self._row.insertWidget(0, note, 1)
        self.setMinimumHeight(0)
        self.setVisible(True)
