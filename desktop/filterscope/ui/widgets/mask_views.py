"""The Mask tab's pictures: the original, the mask and the result side by side, or the original
alone with what the mask removes tinted red."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from filterscope.core.masking.colordist import MaskResult
from filterscope.ui.widgets.image_view import ImageViewWidget

CAPTIONS = ("Original (click to pick a colour when the eyedropper is on)", "Mask", "Result")


def overlay(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The image with removed pixels tinted red, to see at once what the mask eats."""
    out = rgb.copy()
    removed = ~mask
    out[removed] = (0.35 * rgb[removed] + np.array([166, 0, 0])).astype(np.uint8)
    return out


def result_rgb(result: MaskResult) -> np.ndarray:
    """The masked image as RGB (a gray result as three equal channels, alpha dropped)."""
    image = result.image
    if image.ndim == 2:
        return np.dstack([image] * 3)
    return np.ascontiguousarray(image[..., :3])


class MaskViewsWidget(QWidget):
    """Three captioned image views; ``views[0]`` is the original (and the eyedropper's)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views = [ImageViewWidget() for _ in CAPTIONS]
        self.captions = [QLabel(text) for text in CAPTIONS]
        layout = QHBoxLayout(self)
        for caption, view in zip(self.captions, self.views):
            column = QVBoxLayout()
            caption.setWordWrap(True)
            column.addWidget(caption)
            column.addWidget(view, 1)
            layout.addLayout(column, 1)

    def show_result(self, image: np.ndarray, result: MaskResult, *, overlaid: bool,
                    final: bool) -> None:
        """Show ``result`` of masking ``image``, overlaid on the original or side by side.

        Args:
            image: The image masked (a preview's downscaled copy, or the full image).
            result: Its mask and masked image.
            overlaid: The original alone, with the removed pixels tinted red.
            final: ``image`` is the full-resolution image (side by side it replaces an overlay;
                a preview's smaller copy would reset the user's zoom).
        """
        if overlaid:
            self.views[0].set_image(overlay(image, result.mask))
        elif final:
            self.views[0].set_image(image)  # undo an overlay; same size keeps the zoom
        self.views[1].set_image(np.dstack([result.mask.astype(np.uint8) * 255] * 3))
        self.views[2].set_image(result_rgb(result))
        for view, caption in zip(self.views[1:], self.captions[1:]):
            view.setVisible(not overlaid)
            caption.setVisible(not overlaid)

    def clear(self) -> None:
        """Show no image (another dataset's first image is still loading, or unreadable)."""
        for view in self.views:
            view.set_image(None)
