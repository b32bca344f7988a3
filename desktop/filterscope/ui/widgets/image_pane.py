"""One dataset image at full resolution: read in the background, zoomable, its pixel values on
request, and a line saying what it is (file, class, size, colour or grayscale)."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from filterscope.core.data.datasets import Dataset
from filterscope.core.data.thumbnails import LoadedImage, load_item
from filterscope.ui.widgets.image_view import ImageViewWidget
from filterscope.workers import JobRunner


class ImagePaneWidget(QWidget):
    """The image picked in a dataset (see :meth:`show_item`), with Fit and the pixel-values switch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self.runner = JobRunner(self, on_result=self._on_runner_finished, on_failure=self._on_runner_failed)
        self.viewer = ImageViewWidget()
        self.values_box = QCheckBox("Show pixel values (grayscale, zoomed in)")
        self.fit_button = QPushButton("Fit")
        self.info = QLabel()
        self.info.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.viewer, 1)
        controls = QHBoxLayout()
        controls.addWidget(self.values_box)
        controls.addStretch(1)
        controls.addWidget(self.fit_button)
        layout.addLayout(controls)
        layout.addWidget(self.info)
        self.values_box.toggled.connect(self.viewer.set_show_values)
        self.fit_button.clicked.connect(self.viewer.fit)

    def show_item(self, dataset: Dataset, item: int) -> None:
        """Read item ``item`` of ``dataset`` (a job) and show it in place of the current image."""
        self._dataset = dataset
        self.runner.start(load_item, dataset, item)

    def clear(self) -> None:
        """Show no image (another dataset was opened); an image still being read is dropped."""
        self.runner.cancel()
        self.viewer.set_image(None)
        self.info.clear()

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.viewer.set_image(None)
        self.info.setText(f"Cannot show this image: {message}")

    @Slot(object)
    def _on_runner_finished(self, loaded: LoadedImage) -> None:
        item, rgb, dataset = loaded.item, loaded.rgb, self._dataset
        self.viewer.set_image(rgb)
        height, width = rgb.shape[:2]
        kind = "grayscale" if self.viewer.is_grayscale() else "colour"
        self.info.setText(f"{dataset.keys[item]} — class {dataset.classes[dataset.labels[item]]}"
                          f" — {width}×{height} px, {kind}")
