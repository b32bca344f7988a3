"""What the live view writes: a CSV of the predictions per frame (``filterscope live --out``) and
single frames as PNG (the tab's Save frame), atomically, never inside a dataset folder.

The CSV's columns follow ``filterscope predict``'s where they mean the same: ``frame`` in place of
``path``, then ``predicted``, ``confidence`` (the model's own probability), ``calibrated_confidence``
(with the run's temperature) and ``class_1``, ``probability_1`` ... ``class_k``, ``probability_k``.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from filterscope.core.base.fileio import atomic_write_bytes, refuse_inside
from filterscope.core.visualize.render import png_bytes

if TYPE_CHECKING:  # the tab imports this module at start-up; the model's code is Keras's side
    from filterscope.core.live.model import LiveModel

PREDICTIONS_FILE = "predictions.csv"


class OutputError(ValueError):
    """A place the live view must not (or cannot) write to; the message names it."""


def dataset_folder(model: LiveModel) -> Path | None:
    """The folder of the dataset the model's run was trained on, when it is a folder."""
    data = model.session.loaded.data
    return None if data is None else data.source.folder()


def check_folder(folder: str | os.PathLike, datasets: Iterable[Path | None]) -> Path:
    """``folder`` made if needed, refused when inside any of ``datasets``.

    Raises:
        OutputError: Inside a dataset folder, not a folder, or not writable.
    """
    folder = Path(folder).expanduser()
    for root in datasets:
        if root is not None:
            try:
                refuse_inside(folder, root)
            except ValueError as exc:
                raise OutputError(str(exc)) from exc
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot make the folder ({exc.strerror or exc})") from exc
    if not os.access(folder, os.W_OK):
        raise OutputError(f"{folder}: cannot write there (permission denied)")
    return folder


def predictions_csv(rows: Sequence[dict], top_k: int) -> bytes:
    """UTF-8 CSV of :meth:`LiveFrame.row` rows, one line per frame."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    ranks = range(1, top_k + 1)
    writer.writerow(["frame", "predicted", "confidence", "calibrated_confidence",
                     *(f"{name}_{k}" for k in ranks for name in ("class", "probability"))])
    for row in rows:
        cells = [v for t in row["top"] for v in (t["class"], f"{t['probability']:.6f}")]
        writer.writerow([row["frame"], row["predicted"], f"{row['confidence']:.6f}",
                         f"{row['calibrated_confidence']:.6f}", *cells, *[""] * (2 * top_k - len(cells))])
    return buffer.getvalue().encode("utf-8")


def write_predictions(out_dir: Path, rows: Sequence[dict], top_k: int) -> Path:
    """Write ``out_dir/predictions.csv`` atomically (a file that is there is complete)."""
    return atomic_write_bytes(out_dir / PREDICTIONS_FILE, predictions_csv(rows, top_k))


def save_frame(rgb: np.ndarray, folder: str | os.PathLike, name: str, datasets: Iterable[Path | None] = ()) -> Path:
    """Write one frame as ``folder/<name>.png`` atomically, numbered ``-2``, ``-3``... rather than
    replacing a frame saved before.

    Raises:
        OutputError: ``folder`` is inside a dataset folder or cannot be written.
    """
    folder = check_folder(folder, datasets)
    path, n = folder / f"{name}.png", 1
    while path.exists():
        n += 1
        path = folder / f"{name}-{n}.png"
    try:
        return atomic_write_bytes(path, png_bytes(rgb))
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the frame ({exc.strerror or exc})") from exc
