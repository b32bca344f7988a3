"""Saving the Visualise tab's painted picture as a PNG where the user chooses, and saying how it
went (never into the model's dataset folder: :func:`~filterscope.core.visualize.export.save_picture`
refuses)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QWidget

from filterscope.core.visualize.export import save_picture
from filterscope.core.visualize.model_source import LoadedModel


class PictureSaver:
    """Asks for a file name (suggesting one for what was painted, in the last folder used) and
    writes the picture there."""

    def __init__(self) -> None:
        self.name = "picture.png"  # the next suggestion, set when a picture is painted
        self.folder = Path.home()

    def ask_and_save(self, parent: QWidget, picture: np.ndarray, loaded: LoadedModel) -> str | None:
        """Save ``picture`` (painted on ``loaded``) where the user says.

        Returns:
            What happened, for the caption and the status bar; None when the user cancelled.
        """
        path, _ = QFileDialog.getSaveFileName(parent, "Save the picture", str(self.folder / self.name),
                                              "PNG image (*.png)")
        if not path:
            return None
        path = path if path.lower().endswith(".png") else f"{path}.png"
        try:
            written = save_picture(path, picture, loaded)
        except ValueError as exc:  # inside the model's dataset folder
            return f"Not saved: {exc}"
        except OSError as exc:
            return f"Not saved: {path}: {exc.strerror or exc}"
        self.folder = Path(path).parent
        return f"Saved {path} ({written['size'][1]} × {written['size'][0]} px)"
