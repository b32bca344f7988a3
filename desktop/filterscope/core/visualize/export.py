"""Writing a picture to a PNG file: enlarged when small, atomically, and never into the dataset
the model was trained on (the CLI's ``--out`` and the tab's Save PNG both come here)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from filterscope.core.base.fileio import atomic_write_bytes, refuse_inside
from filterscope.core.data.source import ManifestSource
from filterscope.core.visualize.model_source import LoadedModel
from filterscope.core.visualize.render import enlarge, factor_for, png_bytes

LEAST_SIDE = 128  # pictures smaller than this are enlarged by a whole factor so they can be seen


def dataset_root(loaded: LoadedModel) -> Path | None:
    """The folder of the dataset a run's model was trained on, if it has one on this computer."""
    source = None if loaded.data is None else loaded.data.source
    if isinstance(source, ManifestSource):
        from filterscope.core.data.splits import SplitError, load_manifest

        try:
            source = load_manifest(source.path).source
        except SplitError:
            return None
    path = None if source is None else source.folder()
    return path if path is not None and path.is_dir() else None


def save_picture(path: str | os.PathLike, picture: np.ndarray, loaded: LoadedModel, *,
                 refuse: Path | None = None) -> dict:
    """Write ``picture`` (RGB uint8) as a PNG, enlarged (nearest neighbour, by a whole factor)
    when its shorter side is under LEAST_SIDE pixels.

    Args:
        path: The file to write; its folder must exist.
        picture: The picture.
        loaded: The model it came from (its dataset folder is refused).
        refuse: A file that must not be overwritten (the image a Grad-CAM was made of).

    Returns:
        ``{"out", "scale", "size"}``: the file, the enlargement, the written (height, width).

    Raises:
        ValueError: ``path`` lies in the model's dataset folder, or is ``refuse``.
        OSError: The file cannot be written (nothing is left half-written).
    """
    target = Path(path)
    root = dataset_root(loaded)
    if root is not None:
        refuse_inside(target, root)
    if refuse is not None and target.resolve() == Path(refuse).resolve():
        raise ValueError(f"{path} is the image itself; choose another file")
    factor = factor_for(min(picture.shape[:2]), LEAST_SIDE)
    atomic_write_bytes(target, png_bytes(enlarge(picture, factor)))
    return {"out": str(target), "scale": factor,
            "size": [int(picture.shape[0]) * factor, int(picture.shape[1]) * factor]}
