"""The Visualise tab's network page: an image of the dataset through every layer of the model
(:class:`~filterscope.ui.widgets.network_view.NetworkViewWidget`), computed in a worker; a
clicked convolution, ReLU or pooling tile becomes the Filters-tab step that works it out."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from filterscope.core.data.datasets import Dataset
from filterscope.core.data.thumbnails import LoadedImage, load_file, load_item
from filterscope.core.filters.model_step import ModelStep
from filterscope.core.visualize.layers import VisualizeError
from filterscope.core.visualize.network import NetworkView, network_view
from filterscope.core.visualize.network_step import tile_step
from filterscope.core.visualize.session import VisualSession
from filterscope.ui.state import ImageToLookAt
from filterscope.ui.widgets.item_picker import ItemPickerWidget
from filterscope.ui.widgets.network_view import NetworkViewWidget
from filterscope.workers import JobRunner

IMAGE_FILES = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif)"
HINT = ("Every layer's output for this image, left to right. Click a tile of a convolution, a "
        "ReLU or a max pooling to see the Filters tab work it out with the model's own numbers.")


class NetworkPageWidget(QWidget):
    """A picker for the dataset's images (or an image file) and the network view of the chosen
    one."""

    sig_step = Signal(object)
    """A clicked tile's :class:`~filterscope.core.filters.model_step.ModelStep`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._file: Path | None = None  # an image file chosen instead of the dataset's
        self._given: ImageToLookAt | None = None  # an image handed over (a live frame) instead
        self._image: tuple[tuple, LoadedImage] | None = None  # (which, image) read
        self._computed: tuple | None = None  # (session, which image) the view shown is of
        self._pending: tuple | None = None  # (session, which image) to compute once read
        self._session: VisualSession | None = None  # the model last shown
        self.image_runner = JobRunner(self, on_result=self._on_image_loaded, on_failure=self.show_message)
        self.network_runner = JobRunner(self, on_result=self._on_network_finished, on_failure=self.show_message)
        self.picker = ItemPickerWidget()
        self.open_button = QPushButton("Open image…")
        self.view = NetworkViewWidget()
        self.note = QLabel("Choose an image of the current dataset, or open an image file.")
        self.note.setWordWrap(True)
        picker = QHBoxLayout()
        picker.addWidget(self.picker)
        picker.addWidget(self.open_button)
        picker.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(picker)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)
        self.view.sig_tile_clicked.connect(self._on_view_tile_clicked)
        self.picker.sig_item_changed.connect(self._on_picker_item_changed)  # before the tab's refresh
        self.open_button.clicked.connect(self._on_open_clicked)

    def set_dataset(self, dataset: Dataset) -> None:
        """Offer the images of ``dataset`` (the previous one's view goes)."""
        self._dataset, self._file, self._given, self._image, self._computed = dataset, None, None, None, None
        self.show_message("Choose an image of the current dataset, or open an image file.")
        self.picker.set_dataset(dataset)

    def set_file(self, path: str | Path) -> None:
        """Look at an image file instead of the dataset's images (shown at the next refresh;
        the picker shows no image of the dataset chosen)."""
        self._file, self._given = Path(path), None
        self.picker.clear_choice()

    def set_image(self, image: ImageToLookAt) -> None:
        """Look at an image given whole (a live frame) instead (as :meth:`set_file`)."""
        self._file, self._given = None, image
        self.picker.clear_choice()

    def forget(self) -> None:
        """Another model: its view is to be computed again."""
        self.network_runner.cancel()
        self._session, self._computed = None, None

    def refresh(self, session: VisualSession) -> None:
        """Show the chosen image through ``session``'s model: read the image, then run the
        model (jobs), unless the view shown is of these already."""
        self._session, which = session, self._which()
        if which is None:
            self.show_message("Open a dataset in the Dataset tab, or an image file, to look at an image.")
        elif self._image is None or self._image[0] != which:
            self._pending = (session, which)
            if which[0] == "given":
                self._image, self._pending = (which, LoadedImage(None, self._given.rgb)), None
                self.refresh(session)
            elif which[0] == "file":
                self.image_runner.start(load_file, self._file)
            else:
                self.image_runner.start(load_item, self._dataset, which[1])
        elif self._computed != (session, which):
            self._computed = (session, which)
            self.note.setText("Running the image through the model…")
            self.network_runner.start(network_view, session, self._image[1].rgb)

    def show_message(self, text: str) -> None:
        """Say why nothing is shown."""
        self.view.clear()
        self.note.setText(text)

    def _which(self) -> tuple | None:
        """The image to show: ("given", id), ("file", path) or ("item", index), or None."""
        if self._given is not None:
            return ("given", id(self._given))
        if self._file is not None:
            return ("file", self._file)
        item = self.picker.current_item()
        return None if self._dataset is None or item is None else ("item", item)

    def _on_picker_item_changed(self, _item: int) -> None:
        self._file, self._given = None, None

    def _on_open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image to look at", "", IMAGE_FILES)
        if path:
            self.set_file(path)
            if self._session is not None:
                self.refresh(self._session)

    def _on_image_loaded(self, image: LoadedImage) -> None:
        if self._pending is not None:
            session, which = self._pending
            self._image, self._pending = (which, image), None
            self.refresh(session)

    def _on_network_finished(self, view: NetworkView) -> None:
        self.view.show_view(view)
        which = self._computed[1] if self._computed else None
        name = self._given.name if which and which[0] == "given" and self._given is not None else \
            which[1].name if which and which[0] == "file" else \
            self._dataset.keys[which[1]] if which and self._dataset is not None else "the image"
        self.note.setText(f"{name}: {HINT}")

    def _on_view_tile_clicked(self, index: int, row: int, col: int, channel: int) -> None:
        step = clicked_step(self.view, self.note, HINT, (index, row, col, channel))
        if step is not None:
            self.sig_step.emit(step)


def clicked_step(view: NetworkViewWidget, note: QLabel, hint: str, tile: tuple[int, int, int, int]) -> ModelStep | None:
    """The step behind a clicked ``tile`` (layer, row, column, channel) of ``view``; None, with
    the reason in ``note``, when the Filters tab cannot work it out."""
    shown = view.view()
    if shown is None:
        return None
    try:
        step = tile_step(shown, *tile)
    except VisualizeError as exc:
        note.setText(f"{exc}.")
        return None
    note.setText(hint)
    return step
