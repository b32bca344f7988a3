"""One image of an evaluation or a prediction by the name its rows give it: a file's path, or the
key of an item of an in-memory built-in dataset (``mnist5k/00042``), read by the dataset's own
:meth:`~filterscope.core.data.datasets.Dataset.load` (what evaluation fed the model).

Opening a built-in dataset takes seconds, so a job opens it (never the GUI thread) and the
opened dataset is kept, by source, for the next request: scrolling a gallery of digits or
explaining one after another opens it once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

from filterscope.core.base.jobs import Cancel, Report
from filterscope.core.data.builtin import BuiltinUnavailable
from filterscope.core.data.datasets import Dataset, DatasetError
from filterscope.core.data.images import ImageReadError, read_image, read_thumbnail
from filterscope.core.data.source import BuiltinSource, ManifestSource, Source
from filterscope.core.data.sources import open_source
from filterscope.core.data.splits import SplitError, load_manifest
from filterscope.core.data.thumbnails import thumbnail, thumbnail_batches

GONE = "not a file (moved or deleted)"
_YIELD_S = 0.001
_KEEP = 2  # opened in-memory datasets kept (mnist-full is 55 MB)
_lock = threading.Lock()
_kept: OrderedDict[BuiltinSource, tuple[Dataset, dict[str, int]]] = OrderedDict()


def item_image(name: str, source: Source | str | None, *, report: Report, cancel: Cancel) -> np.ndarray:
    """The pixels of an image: the file ``name``, else item ``name`` of the in-memory dataset
    ``source`` (an evaluation's ``eval_set["source"]``, as a Source or its text).

    Raises:
        ImageReadError: A file that cannot be read, or neither a file nor an item of ``source``
            (a moved folder: :data:`GONE`), or a built-in dataset that cannot be opened.
        Cancelled: ``cancel`` was set while the dataset was being opened.
    """
    path = Path(name)
    if path.is_file():
        return read_image(path)
    dataset, index = _held(name, source, report, cancel)
    return dataset.load(index)


def item_thumbnail(name: str, source: Source | str | None, size: int, *, report: Report,
                   cancel: Cancel) -> np.ndarray:
    """:func:`item_image` with its longest side at most ``size``, as the Dataset tab's thumbnails
    are made (same arguments and errors)."""
    path = Path(name)
    if path.is_file():
        return read_thumbnail(path, size)
    dataset, index = _held(name, source, report, cancel)
    return thumbnail(dataset, index, size)


def item_thumbnails(names: Sequence[str], indices: Sequence[int], source: Source | str | None, size: int, *,
                    report: Report, cancel: Cancel) -> int:
    """Job: :func:`item_thumbnail` of ``names[i]`` for each of ``indices`` (most wanted first), handed
    over as partial batches of :class:`~filterscope.core.data.thumbnails.Thumbnail` (an unreadable
    image is an entry with its reason, not a failed job). Returns how many were tried.

    It sleeps :data:`_YIELD_S` before each image: a view redrawing 10,000 points on the GUI thread
    meanwhile needs the GIL, and a worker that never lets go of it made the map's redraw 20-50 %
    slower on two cores (zoom 49 -> 60-73 ms median); the sleep costs at most a millisecond an image.
    """
    def make(i: int) -> np.ndarray:
        time.sleep(_YIELD_S)
        return item_thumbnail(names[i], source, size, report=report, cancel=cancel)

    return thumbnail_batches(indices, make, report, cancel)


def forget_opened() -> None:
    """Drop the kept datasets (a built-in regenerated, or tests)."""
    with _lock:
        _kept.clear()


def _held(name: str, source: Source | str | None, report: Report, cancel: Cancel) -> tuple[Dataset, int]:
    builtin = None if Path(name).is_absolute() else _builtin(source)  # keys are relative
    if builtin is None:
        raise ImageReadError(name, GONE, "missing")
    with _lock:  # one job opens it; another waits for it rather than opening it too
        if builtin not in _kept:
            report.progress(0.0, f"Opening {builtin.to_json()}")
            try:
                dataset = open_source(builtin, report=report, cancel=cancel)
            except (BuiltinUnavailable, DatasetError) as exc:
                raise ImageReadError(name, str(exc), "missing") from exc
            _kept[builtin] = (dataset, {key: i for i, key in enumerate(dataset.keys)})
            while len(_kept) > _KEEP:
                _kept.popitem(last=False)
        _kept.move_to_end(builtin)
        dataset, index = _kept[builtin]
    if dataset.pixels is None or name not in index:
        raise ImageReadError(name, GONE if dataset.pixels is None
                             else f"not a file, nor an image of {builtin.to_json()}", "missing")
    return dataset, index[name]


def _builtin(source: Source | str | None) -> BuiltinSource | None:
    """The built-in dataset ``source`` is or was split from, or None."""
    if isinstance(source, str):
        source = Source.parse_or_none(source)
    if isinstance(source, ManifestSource):
        try:
            source = load_manifest(source.path).source
        except SplitError:
            return None
    return source if isinstance(source, BuiltinSource) else None
