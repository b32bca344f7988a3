"""The Visualise tab's network page: an image of the dataset through every layer of the model
(:class:`~filterscope.ui.widgets.network_view.NetworkViewWidget`), computed in a worker; a
clicked convolution, ReLU or pooling tile becomes the Filters-tab step that works it out."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from filterscope.core.data.datasets import Dataset
from filterscope.core.data.thumbnails import LoadedImage, load_item
from filterscope.core.filters.model_step import ModelStep
from filterscope.core.visualize.layers import VisualizeError
from filterscope.core.visualize.network import NetworkView, network_view
from filterscope.core.visualize.network_step import tile_step
from filterscope.core.visualize.session import VisualSession
from filterscope.ui.widgets.item_picker import ItemPickerWidget
from filterscope.ui.widgets.network_view import NetworkViewWidget
from filterscope.workers import JobRunner

HINT = ("Every layer's output for this image, left to right. Click a tile of a convolution, a "
        "ReLU or a max pooling to see the Filters tab work it out with the model's own numbers.")


class NetworkPageWidget(QWidget):
    """A picker for the dataset's images and the network view of the chosen one."""

    sig_step = Signal(object)
    """A clicked tile's :class:`~filterscope.core.filters.model_step.ModelStep`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dataset: Dataset | None = None
        self._image: LoadedImage | None = None
        self._computed: tuple | None = None  # (session, image item) the view shown is of
        self._pending: VisualSession | None = None  # to compute once the image is read
        self.image_runner = JobRunner(self, on_result=self._on_image_loaded, on_failure=self.show_message)
        self.network_runner = JobRunner(self, on_result=self._on_network_finished, on_failure=self.show_message)
        self.picker = ItemPickerWidget()
        self.view = NetworkViewWidget()
        self.note = QLabel("Choose an image of the current dataset.")
        self.note.setWordWrap(True)
        picker = QHBoxLayout()
        picker.addWidget(self.picker)
        picker.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(picker)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)
        self.view.sig_tile_clicked.connect(self._on_view_tile_clicked)

    def set_dataset(self, dataset: Dataset) -> None:
        """Offer the images of ``dataset`` (the previous one's view goes)."""
        self._dataset, self._image, self._computed = dataset, None, None
        self.show_message("Choose an image of the current dataset.")
        self.picker.set_dataset(dataset)

    def forget(self) -> None:
        """Another model: its view is to be computed again."""
        self.network_runner.cancel()
        self._computed = None

    def refresh(self, session: VisualSession) -> None:
        """Show the chosen image through ``session``'s model: read the image, then run the
        model (jobs), unless the view shown is of these already."""
        item = self.picker.current_item()
        if self._dataset is None or item is None:
            self.show_message("Open a dataset in the Dataset tab to look at its images.")
        elif self._image is None or self._image.item != item:
            self._pending = session
            self.image_runner.start(load_item, self._dataset, item)
        elif self._computed != (session, item):
            self._computed = (session, item)
            self.note.setText("Running the image through the model…")
            self.network_runner.start(network_view, session, self._image.rgb)

    def show_message(self, text: str) -> None:
        """Say why nothing is shown."""
        self.view.clear()
        self.note.setText(text)

    def _on_image_loaded(self, image: LoadedImage) -> None:
        self._image = image
        if self._pending is not None:
            self.refresh(self._pending)

    def _on_network_finished(self, view: NetworkView) -> None:
        self.view.show_view(view)
        self.note.setText(HINT)

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
