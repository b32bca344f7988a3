"""Where the Filters tab's pixels come from: a built-in MNIST digit (the first seven to start), or
any image file, cropped to at most 64 × 64 pixels. A larger image is shown whole, downscaled for
display only, with the crop outlined: a click moves the crop there.

The digit, the file, the crop and its centre are the lesson's (:class:`~filterscope.core.
filters.settings.FiltersSettings`): a digit picked sets them, a file sets them once it has been
read, a click sets the centre, and a lesson whose digit, file or crop changes (a project's)
shows it. A centre outside the image is named (the crop is then about the image's centre) and
kept, never moved into the image.
"""

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

from filterscope.core.base.settings import SettingError
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.images import to_rgb
from filterscope.core.data.mnist import load_mnist5k
from filterscope.core.data.thumbnails import LoadedImage, load_file
from filterscope.core.filters.settings import DIGIT_CROP, FILE_CROP, FiltersSettings
from filterscope.core.filters.source import CropBox, crop_box, display_copy, first_of_class
from filterscope.ui.binding import bind
from filterscope.ui.widgets.item_picker import ItemPickerWidget
from filterscope.ui.widgets.matrix_view import Highlight, MatrixPanel, MatrixViewWidget
from filterscope.workers import JobRunner

OVERVIEW_SIDE = 160  # longest side of the downscaled copy a large image is shown as


class FilterSourceWidget(QWidget):
    """Picks a digit or opens a file, and emits the crop the filters run on."""

    sig_image_changed = Signal(object)
    """The cropped image, (H, W, 3) uint8 RGB."""
    sig_status = Signal(str)
    """A line for the status bar (a file that cannot be read, and why)."""

    def __init__(self, settings: FiltersSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._full: np.ndarray | None = None
        self._shown: tuple[str, int | None] | None = None  # the (file, digit) in _full
        self._name = ""  # the image's line in source_label
        self._outside = ""  # the lesson's crop centre that lies outside the image, named
        self._scale = 1.0
        self._emitted: tuple[np.ndarray, CropBox] | None = None  # the last crop sent
        self._digits: Dataset | None = None
        self._pending = Path()
        self._restoring = False  # the file being read is the one the lesson names already
        self._failed = False  # the last status named a file that could not be read
        self.digits_runner = JobRunner(self, on_result=self._on_digits_loaded, on_failure=self._on_digits_failed)
        self.file_runner = JobRunner(self, on_result=self._on_file_loaded, on_failure=self._on_file_failed)
        self.picker = ItemPickerWidget()
        self.open_button = QPushButton("Open image…")
        self.source_label = QLabel("Loading the built-in digits…")
        self.source_label.setWordWrap(True)
        self.crop_spin = QSpinBox()
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
        self.overview.sig_cell_clicked.connect(self._on_overview_clicked)
        bind(self.crop_spin, settings, "crop")
        for name in ("image", "digit", "crop", "crop_centre"):
            getattr(settings.events, name).connect(self._on_settings_changed)

    def load_digits(self) -> None:
        """Read the built-in digits in the background (the lesson's digit, the first seven by
        default, is shown when done)."""
        if self._digits is None and not self.digits_runner.is_running():
            self.digits_runner.start(load_mnist5k)

    def open_file(self, path: str | Path, *, keep_crop: bool = False) -> None:
        """Read an image file in the background; a bad file is named with the reason. Once read
        it is the lesson's image, cropped to a photo's default (or, with ``keep_crop``, to the
        lesson's crop: a project's file opened again)."""
        self._pending, self._restoring = Path(path), keep_crop
        self.file_runner.start(load_file, self._pending)

    def is_current(self) -> bool:
        """True when the crop last sent is of the image the lesson names, at its crop (False
        while that image is read, or when it could not be)."""
        image, digit = self.settings.image, self.settings.digit
        wanted = (image, None) if image else ("", digit)
        return self._shown == wanted and self._emitted is not None and self._emitted[1] == self.box()

    def _show(self, rgb: np.ndarray, name: str, shown: tuple[str, int | None]) -> None:
        """Use ``rgb`` (H, W, 3) uint8, cropped to the lesson's crop about the lesson's centre."""
        self._full, self._shown, self._outside = rgb, shown, ""
        self._name = f"{name}: {rgb.shape[0]} × {rgb.shape[1]} pixels"
        self.source_label.setText(self._name)
        if self._failed:  # the status bar must not keep naming the bad file beside this image
            self._failed = False
            self.sig_status.emit(f"Filtering {self.source_label.text()}")
        self._emit_crop()

    def _show_digit(self) -> None:
        digits = self._digits
        index = first_of_class(digits.labels) if self.settings.digit is None else self.settings.digit
        if index >= len(digits.labels):
            self.sig_status.emit(f"There is no built-in digit {index}: the digits go up to "
                                 f"{len(digits.labels) - 1}.")
            return
        self.picker.select(index)
        label = digits.classes[int(digits.labels[index])]
        self._show(to_rgb(digits.pixels[index]), f"Built-in MNIST digit {index} (a {label})",
                   ("", self.settings.digit))

    def _on_settings_changed(self, *_args: object) -> None:
        """Show what the lesson names: its file (read again) or its digit, at its crop (the
        crop of an image being read waits for it)."""
        image, digit = self.settings.image, self.settings.digit
        if image:
            if self._shown != (image, None):
                if not (self.file_runner.is_running() and self._pending == Path(image)):
                    self.open_file(image, keep_crop=True)
                return
        elif self._shown != ("", digit):
            if self._digits is None:
                self.load_digits()  # shown once read
            else:
                self._show_digit()
            return
        self._emit_crop()

    def box(self) -> CropBox | None:
        """Where the crop lies in the full image: about the lesson's centre, or the image's
        when the lesson's lies outside the image."""
        return None if self._full is None else self._crop()[0]

    def _crop(self) -> tuple[CropBox, str]:
        """The crop, and why it is about the image's centre instead of the lesson's ("")."""
        shape, side = self._full.shape, self.settings.crop
        try:
            return crop_box(shape, side, self.settings.crop_centre), ""
        except SettingError as exc:
            return crop_box(shape, side), f"{exc}: the crop is about the image's centre"

    def move_crop(self, row: int, col: int) -> None:
        """Centre the crop on the full image's pixel (row, col) (the lesson's crop centre)."""
        self.settings.crop_centre = (row, col)

    # --- slots --------------------------------------------------------------------------------

    @Slot(object)
    def _on_digits_loaded(self, digits: Dataset) -> None:
        self._digits = digits
        self.picker.blockSignals(True)
        self.picker.set_dataset(digits)
        self.picker.blockSignals(False)
        if self._full is None or not self.settings.image:  # a file opened meanwhile stays
            self._show_digit()

    @Slot(str)
    def _on_digits_failed(self, message: str) -> None:
        self.source_label.setText(f"The built-in digits are not available ({message}); open an "
                                  "image instead.")

    @Slot(int)
    def _on_picker_item_changed(self, index: int) -> None:
        self.settings.update({"image": "", "digit": index, "crop": DIGIT_CROP, "crop_centre": None})

    @Slot()
    def _on_open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Image to filter", "", "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif)")
        if path:
            self.open_file(path)

    @Slot(object)
    def _on_file_loaded(self, loaded: LoadedImage) -> None:
        if self._restoring:
            path = self.settings.image
            if not path or Path(path) != self._pending:
                return  # the lesson has moved on (a digit picked meanwhile)
        else:
            path = str(self._pending.absolute())
        self._full, self._shown = loaded.rgb, (path, None)  # before the lesson names it
        if not self._restoring:
            self.settings.update({"image": path, "crop": FILE_CROP, "crop_centre": None})
        self._show(loaded.rgb, self._pending.name, (path, None))

    @Slot(str)
    def _on_file_failed(self, message: str) -> None:
        self._failed = True
        self.sig_status.emit(f"Cannot filter this image: {message}")
        self.source_label.setText(f"Cannot filter this image: {message}. The image before stays.")

    @Slot(int, int, int)
    def _on_overview_clicked(self, _panel: int, row: int, col: int) -> None:
        self.move_crop(int(row / self._scale), int(col / self._scale))

    def _emit_crop(self) -> None:
        if self._full is None:
            return
        box, outside = self._crop()
        if outside != self._outside:  # the status bar must not keep naming a centre no longer set
            self._outside = outside
            self.source_label.setText(f"{self._name}\n{outside}" if outside else self._name)
            self.sig_status.emit(outside or f"Filtering {self._name}")
        if self._emitted is not None and self._emitted[0] is self._full and self._emitted[1] == box:
            return  # nothing new to filter
        self._emitted = (self._full, box)
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
