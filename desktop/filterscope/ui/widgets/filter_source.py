"""Where the Filters tab's pixels come from: a built-in MNIST digit (the first seven to start), or
any image file, cropped to at most 64 × 64 pixels. A larger image is shown whole, downscaled for
display only, with the crop outlined: a click moves the crop there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from filterscope.core.data.datasets import Dataset
from filterscope.core.data.images import to_rgb
from filterscope.core.data.mnist import load_mnist5k
from filterscope.core.data.thumbnails import LoadedImage, load_file
from filterscope.core.filters.source import MAX_CROP, CropBox, crop_box, display_copy, first_of_class
from filterscope.ui.widgets.item_picker import ItemPickerWidget
from filterscope.ui.widgets.matrix_view import Highlight, MatrixPanel, MatrixViewWidget
from filterscope.workers import JobRunner

OVERVIEW_SIDE = 160  # longest side of the downscaled copy a large image is shown as
FILE_CROP = 32  # a photo's default crop: a window's numbers stay readable


class FilterSourceWidget(QWidget):
    """Picks a digit or opens a file, and emits the crop the filters run on."""

    sig_image_changed = Signal(object)
    """The cropped image, (H, W, 3) uint8 RGB."""
    sig_status = Signal(str)
    """A line for the status bar (a file that cannot be read, and why)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full: np.ndarray | None = None
        self._centre: tuple[int, int] | None = None
        self._scale = 1.0
        self._digits: Dataset | None = None
        self._pending = Path()
        self._failed = False  # the last status named a file that could not be read
        self.digits_runner = JobRunner(self, on_result=self._on_digits_loaded, on_failure=self._on_digits_failed)
        self.file_runner = JobRunner(self, on_result=self._on_file_loaded, on_failure=self._on_file_failed)
        self.picker = ItemPickerWidget()
        self.open_button = QPushButton("Open image…")
        self.source_label = QLabel("Loading the built-in digits…")
        self.source_label.setWordWrap(True)
        self.crop_spin = QSpinBox(minimum=3, maximum=MAX_CROP, value=28, suffix=" px")
        self.crop_spin.setToolTip("The filters run on a square crop of at most this many pixels a side")
        self.overview = MatrixViewWidget()
        self.overview.setToolTip("Click to move the crop")
        self.overview.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(QLabel("Digit"))
        row.addWidget(self.picker)
        row.addStretch(1)
        crop = QHBoxLayout()
        crop.addWidget(self.open_button)
        crop.addWidget(QLabel("Crop"))
        crop.addWidget(self.crop_spin)
        crop.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addLayout(crop)
        layout.addWidget(self.source_label)
        layout.addWidget(self.overview)
        self.picker.sig_item_changed.connect(self._on_picker_item_changed)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.crop_spin.valueChanged.connect(self._emit_crop)
        self.overview.sig_cell_clicked.connect(self._on_overview_clicked)

    def load_digits(self) -> None:
        """Read the built-in digits in the background (the first seven is shown when done)."""
        if self._digits is None and not self.digits_runner.is_running():
            self.digits_runner.start(load_mnist5k)

    def open_file(self, path: str | Path) -> None:
        """Read an image file in the background; a bad file is named with the reason."""
        self._pending = Path(path)
        self.file_runner.start(load_file, self._pending)

    def set_image(self, rgb: np.ndarray, name: str, crop: int) -> None:
        """Use ``rgb`` (H, W, 3) uint8, cropped to ``crop`` pixels about its centre."""
        self._full, self._centre = rgb, None
        self.crop_spin.blockSignals(True)
        self.crop_spin.setValue(crop)
        self.crop_spin.blockSignals(False)
        self.source_label.setText(f"{name}: {rgb.shape[0]} × {rgb.shape[1]} pixels")
        if self._failed:  # the status bar must not keep naming the bad file beside this image
            self._failed = False
            self.sig_status.emit(f"Filtering {self.source_label.text()}")
        self._emit_crop()

    def box(self) -> CropBox | None:
        """Where the crop lies in the full image."""
        if self._full is None:
            return None
        return crop_box(self._full.shape, self.crop_spin.value(), self._centre)

    def move_crop(self, row: int, col: int) -> None:
        """Centre the crop on the full image's pixel (row, col)."""
        self._centre = (row, col)
        self._emit_crop()

    # --- slots --------------------------------------------------------------------------------

    @Slot(object)
    def _on_digits_loaded(self, digits: Dataset) -> None:
        self._digits = digits
        seven = first_of_class(digits.labels)
        self.picker.blockSignals(True)
        self.picker.set_dataset(digits)
        self.picker.class_combo.setCurrentIndex(int(digits.labels[seven]))
        self.picker.blockSignals(False)
        if self._full is None:  # a file opened meanwhile stays
            self._on_picker_item_changed(seven)

    @Slot(str)
    def _on_digits_failed(self, message: str) -> None:
        self.source_label.setText(f"The built-in digits are not available ({message}); open an "
                                  "image instead.")

    @Slot(int)
    def _on_picker_item_changed(self, index: int) -> None:
        if self._digits is not None:
            label = self._digits.classes[int(self._digits.labels[index])]
            self.set_image(to_rgb(self._digits.pixels[index]), f"Built-in MNIST digit {index} "
                           f"(a {label})", 28)

    @Slot()
    def _on_open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Image to filter", "", "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif)")
        if path:
            self.open_file(path)

    @Slot(object)
    def _on_file_loaded(self, loaded: LoadedImage) -> None:
        self.set_image(loaded.rgb, self._pending.name, FILE_CROP)

    @Slot(str)
    def _on_file_failed(self, message: str) -> None:
        self._failed = True
        self.sig_status.emit(f"Cannot filter this image: {message}")
        self.source_label.setText(f"Cannot filter this image: {message}. The image before stays.")

    @Slot(int, int, int)
    def _on_overview_clicked(self, _panel: int, row: int, col: int) -> None:
        self.move_crop(int(row / self._scale), int(col / self._scale))

    def _emit_crop(self) -> None:
        box = self.box()
        if box is None:
            return
        full = self._full
        big = box.height < full.shape[0] or box.width < full.shape[1]
        self.overview.setVisible(big)
        if big:
            shown, self._scale = display_copy(full, OVERVIEW_SIDE)
            s = self._scale
            mark = Highlight(0, int(box.top * s), int(box.left * s), max(1, round(box.height * s)),
                             max(1, round(box.width * s)), "#ffd000")
            self.overview.set_panels([MatrixPanel(shown[..., 0], shown, "Whole image")], [mark])
        self.sig_image_changed.emit(box.slice(full).copy())
