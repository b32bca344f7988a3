"""The Augment tab's "What the model sees": a batch of the training pipeline itself (mask if on,
the training size and channels, the chain, the model's pixel scaling), shown as RGB again, with
its shape, value range and the model's input shape.

The batch is ``training.pipeline.preview_batch`` (a job: TensorFlow loads in the background the
first time), so this view cannot disagree with training.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from filterscope.core.data.datasets import Dataset
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.model_input import PREPROCESSING_TEXT, unpreprocess
from filterscope.core.training.pipeline import PreviewBatch, preview_batch
from filterscope.ui.widgets.image_view import to_qimage
from filterscope.workers import JobRunner

SIDE = 110  # px of each picture


def picture(image: np.ndarray, side: int) -> QLabel:
    """An RGB (or gray) uint8 image as a label, scaled to fit ``side`` pixels."""
    label = QLabel()
    pixmap = QPixmap.fromImage(to_qimage(np.ascontiguousarray(image)))
    label.setPixmap(pixmap.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                  Qt.TransformationMode.SmoothTransformation))
    return label


class ModelViewWidget(QGroupBox):
    """Shows the batch :meth:`show_batch` asks the pipeline for."""

    sig_viewed = Signal()
    """A batch is on screen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("What the model sees", parent)
        self._mode = "unit"  # the pixel scaling of the batch being made
        self.runner = JobRunner(self, on_progress=self._on_progress, on_result=self._on_finished,
                                on_failure=self._on_failed)
        self.pipeline = QLabel()
        self.pipeline.setWordWrap(True)
        self.row = QHBoxLayout()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pipeline)
        layout.addLayout(self.row)
        layout.addWidget(self.caption)

    def show_batch(self, dataset: Dataset, data: DataSpec, items: Sequence[int], mode: str) -> None:
        """Ask the pipeline for a batch of ``items`` fed as ``data`` to a model scaling its
        pixels by ``mode`` (a job; the pictures come when it is done)."""
        self._mode = mode
        self.pipeline.setText(f"A batch from the training pipeline (mask if on → resize → augment → "
                              f"{PREPROCESSING_TEXT[mode]})")
        self.runner.start(preview_batch, dataset, data, items, preprocessing=mode)

    def clear(self, message: str = "") -> None:
        """No pictures (another dataset's must not stay), and ``message`` as the caption."""
        while self.row.count():
            self.row.takeAt(0).widget().deleteLater()
        self.caption.setText(message)

    @Slot(float, str)
    def _on_progress(self, _fraction: float, message: str) -> None:
        if not self.row.count():
            self.caption.setText(f"{message}…" if message and not message.endswith("…") else message)

    @Slot(object)
    def _on_finished(self, batch: PreviewBatch) -> None:
        self.clear()
        images = batch.images
        for image in images:  # shown as RGB again: the model's scaling undone
            rgb = np.clip(unpreprocess(image, self._mode), 0, 255).round().astype(np.uint8)
            self.row.addWidget(picture(rgb, SIDE))
        skipped = f"; {len(batch.skipped)} unreadable image(s) left out" if batch.skipped else ""
        self.caption.setText(
            f"batch {images.dtype} {tuple(images.shape)}, values {images.min():.2f} to "
            f"{images.max():.2f}; the model's input is {batch.input_shape}; validation images are "
            f"never augmented{skipped}")
        self.sig_viewed.emit()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.caption.setText(f"What the model sees could not be shown: {message}")
