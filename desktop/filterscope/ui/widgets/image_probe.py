"""An image of the dataset seen through the model: the chosen layer's feature maps, and
Grad-CAM overlays for the classes the model thinks most likely."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from filterscope.core.base.formats import percent
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.thumbnails import LoadedImage, load_item
from filterscope.core.visualize.jobs import TOP_CAMS, ImageProbe, probe_image
from filterscope.core.visualize.layers import LayerInfo
from filterscope.core.visualize.session import VisualSession
from filterscope.ui.widgets.image_view import ImageViewWidget, to_qimage
from filterscope.ui.widgets.item_picker import ItemPickerWidget
from filterscope.ui.widgets.fitting import SidePanelWidget
from filterscope.workers import JobRunner

SIDE = 170  # screen pixels of the image and of each overlay


def pixmap(rgb: np.ndarray, side: int = SIDE) -> QPixmap:
    """An RGB picture scaled to ``side``: small images keep square pixels, photos are smoothed."""
    mode = Qt.TransformationMode.FastTransformation if max(rgb.shape[:2]) < side // 2 \
        else Qt.TransformationMode.SmoothTransformation
    return QPixmap.fromImage(to_qimage(rgb)).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, mode)


class ImageProbeWidget(QWidget):
    """A picker for the dataset's images, the maps of the layer, and Grad-CAM overlays, with
    the jobs that read the image and probe the model (:meth:`refresh`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._image: LoadedImage | None = None
        self._probed: tuple | None = None  # (session, layer, image) the maps shown are of
        self._pending: tuple | None = None  # (session, layer) to probe once the image is read
        self.image_runner = JobRunner(self, on_result=self._on_image_loaded, on_failure=self.show_message)
        self.probe_runner = JobRunner(self, on_result=self._on_probe_finished, on_failure=self.show_message)
        self.picker = ItemPickerWidget()
        self.maps_title = QLabel("Feature maps")
        self.maps_title.setWordWrap(True)
        self.maps_view = ImageViewWidget()
        self.fed = QLabel()
        self.fed.setFixedSize(SIDE, SIDE)
        self.cams: list[tuple[QLabel, QLabel]] = [(QLabel(), QLabel()) for _ in range(TOP_CAMS)]
        self.note = QLabel("Choose an image of the current dataset.")
        self.note.setWordWrap(True)
        self._shown = 0
        maps = QWidget()
        maps_layout = QVBoxLayout(maps)
        maps_layout.setContentsMargins(0, 0, 0, 0)
        maps_layout.addWidget(self.maps_title)
        maps_layout.addWidget(self.maps_view, 1)
        cams = QWidget()
        grid = QGridLayout(cams)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("What the model sees"), 0, 0)
        grid.addWidget(self.fed, 1, 0)
        cams_title = QLabel("Grad-CAM: where the evidence for each class lies")
        cams_title.setWordWrap(True)
        grid.addWidget(cams_title, 2, 0, 1, 2)
        for row, (picture, caption) in enumerate(self.cams):
            picture.setFixedSize(SIDE, SIDE)
            caption.setWordWrap(True)
            caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(picture, 3 + row, 0)
            grid.addWidget(caption, 3 + row, 1)
        grid.setRowStretch(3 + TOP_CAMS, 1)
        grid.setColumnStretch(1, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(maps)
        splitter.addWidget(SidePanelWidget(cams))  # four overlays: taller than a projector
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([3000, 2000])
        picker = QHBoxLayout()
        picker.addWidget(self.picker)
        picker.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(picker)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.note)

    def set_dataset(self, dataset: Dataset) -> None:
        """Offer the images of ``dataset`` (the previous one's maps go)."""
        self._dataset, self._image, self._probed = dataset, None, None
        self.show_message("Choose an image of the current dataset.")
        self.picker.set_dataset(dataset)

    def forget(self) -> None:
        """Another model: its maps are to be computed again."""
        self.probe_runner.cancel()
        self._probed = None

    def refresh(self, session: VisualSession, layer: LayerInfo) -> None:
        """Show the chosen image through ``layer`` of ``session``'s model: read the image, then
        probe the model (jobs), unless the maps shown are of these already."""
        item = self.picker.current_item()
        if self._dataset is None or item is None:
            self.show_message("Open a dataset in the Dataset tab to look at its images.")
        elif self._image is None or self._image.item != item:
            self.image_runner.start(load_item, self._dataset, item)
            self._pending = (session, layer)
        elif not layer.maps:
            self.show_message(f"{layer.name} ({layer.kind}) has no feature maps: choose a layer whose "
                              "output is height × width × channels.")
        elif self._probed != (session, layer.name, self._image.item):
            self._probed = (session, layer.name, self._image.item)
            self.probe_runner.start(probe_image, session, self._image.rgb, layer.name)

    def _on_image_loaded(self, image: LoadedImage) -> None:
        self._image = image
        if self._pending is not None:
            self.refresh(*self._pending)

    def _on_probe_finished(self, probe: ImageProbe) -> None:
        item = None if self._image is None else self._image.item
        name = self._dataset.keys[item] if self._dataset is not None and item is not None else "the image"
        self.show_probe(probe, name)

    def show_probe(self, probe: ImageProbe, image_name: str) -> None:
        """Show the maps and the Grad-CAMs of one image."""
        maps = probe.maps
        total = maps.maps.shape[-1]
        count = f"all {total}" if probe.shown == total else f"the first {probe.shown} of {total}"
        scale = "blue negative, red positive" if maps.signed else "dark low, yellow high"
        self.maps_title.setText(f"Feature maps of {maps.layer} for {image_name}: {count} "
                                f"({' × '.join(map(str, maps.maps.shape[:2]))} each; {scale})")
        self.maps_view.set_image(probe.maps_picture)
        self.fed.setPixmap(pixmap(maps.image.fed))
        for (picture, caption), n in zip(self.cams, range(TOP_CAMS)):
            if n < len(probe.cams):
                cam = probe.cams[n]
                picture.setPixmap(pixmap(probe.overlays[n]))
                caption.setText(f"{n + 1}. <b>{html.escape(cam.class_name)}</b><br>"
                                f"probability {percent(cam.probability)}<br>layer {cam.layer}")
            else:
                picture.clear()
                caption.clear()
        self._shown = len(probe.cams)
        self.note.setText(probe.note or "")

    def show_message(self, text: str) -> None:
        """Say why nothing is shown: the maps and overlays of another image, layer or model go."""
        self.maps_title.setText("Feature maps")
        self.maps_view.set_image(None)
        self.fed.clear()
        for picture, caption in self.cams:
            picture.clear()
            caption.clear()
        self._shown = 0
        self.note.setText(text)

    def cams_shown(self) -> int:
        """Grad-CAM overlays on screen."""
        return self._shown
