"""Thumbnails for browsing: made in a worker, handed over in small timely batches."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np

from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.base.opencv import cv2
from filterscope.core.data.datasets import Dataset
from filterscope.core.data.images import ImageReadError, read_image, read_thumbnail, to_rgb

_BATCH_SECONDS = 0.04  # hand over what is ready at least this often, so the grid fills smoothly


class Thumbnail(NamedTuple):
    """One entry of a thumbnail batch: the pixels, or why there are none."""

    item: int
    rgb: np.ndarray | None
    error: str | None


class LoadedImage(NamedTuple):
    """An image read for a view: its dataset item (None for a file outside the dataset)."""

    item: int | None
    rgb: np.ndarray


class ClassExample(NamedTuple):
    """The first readable image of a class, small."""

    item: int
    name: str
    rgb: np.ndarray


def thumbnail(dataset: Dataset, index: int, size: int) -> np.ndarray:
    """Item ``index`` as RGB uint8 with its longest side at most ``size``.

    Raises:
        ImageReadError: The file cannot be read.
    """
    if dataset.pixels is None:
        return read_thumbnail(dataset.path(index), size)
    return downscale(to_rgb(dataset.pixels[index]), size)


def downscale(image: np.ndarray, side: int) -> np.ndarray:
    """Shrink an image (INTER_AREA) so its longest side is at most ``side``; a smaller one is
    returned as it is. An (H, W, 1) image keeps its channel axis, which OpenCV would drop."""
    scale = side / max(image.shape[:2])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0],
                                                                         *image.shape[2:])


def make_thumbnails(dataset: Dataset, indices: Sequence[int], size: int, *, report: Report,
                    cancel: Cancel) -> int:
    """Make thumbnails for ``indices`` in order, reporting batches as partial results.

    Each partial is a list of :class:`Thumbnail`.

    Args:
        dataset: The dataset to read from (never written).
        indices: Item indices, most wanted first.
        size: Longest side in pixels.
        report: Receives the batches and progress.
        cancel: Polled before every image.

    Returns:
        The number of thumbnails made (including failures).
    """
    return thumbnail_batches(indices, lambda index: thumbnail(dataset, index, size), report, cancel)


def file_thumbnails(paths: Sequence[Path], indices: Sequence[int], size: int, *, report: Report,
                    cancel: Cancel) -> int:
    """:func:`make_thumbnails` for files that are no dataset's (images predicted): the items are
    indices into ``paths``."""
    return thumbnail_batches(indices, lambda index: read_thumbnail(paths[index], size), report, cancel)


def thumbnail_batches(indices: Sequence[int], make: Callable[[int], np.ndarray], report: Report,
                      cancel: Cancel) -> int:
    """Make ``make(index)`` for each index, handing over a batch of :class:`Thumbnail` at least
    every ``_BATCH_SECONDS``."""
    batch: list[Thumbnail] = []
    last = time.monotonic()
    for done, index in enumerate(indices):
        check_cancel(cancel)
        try:
            batch.append(Thumbnail(index, make(index), None))
        except ImageReadError as err:
            batch.append(Thumbnail(index, None, err.reason))
        now = time.monotonic()
        if now - last >= _BATCH_SECONDS:
            report.partial(batch)
            report.progress((done + 1) / len(indices), f"Thumbnails {done + 1}/{len(indices)}")
            batch, last = [], now
    if batch:
        report.partial(batch)
    report.progress(1.0, "")
    return len(indices)


def load_item(dataset: Dataset, index: int, *, report: Report, cancel: Cancel) -> LoadedImage:
    """Job form of ``dataset.load(index)`` for the viewer: large photos decode off the GUI thread.

    Raises:
        ImageReadError: The file cannot be read (the message names it and says why).
    """
    check_cancel(cancel)
    report.progress(0.0, f"Loading {dataset.keys[index]}")
    rgb = dataset.load(index)
    check_cancel(cancel)
    return LoadedImage(index, rgb)


def class_examples(dataset: Dataset, size: int, *, report: Report,
                   cancel: Cancel) -> list[ClassExample]:
    """The first readable item of every class as a small image."""
    examples = []
    for label, name in enumerate(dataset.classes):
        check_cancel(cancel)
        report.progress(label / max(len(dataset.classes), 1), f"Examples: {name}")
        for index in np.flatnonzero(dataset.labels == label)[:5]:
            try:
                examples.append(ClassExample(int(index), name, thumbnail(dataset, int(index), size)))
                break
            except ImageReadError:
                continue
    return examples


def load_file(path: Path, *, report: Report, cancel: Cancel) -> LoadedImage:
    """Job: read an image the user picked outside the dataset (its item is None)."""
    check_cancel(cancel)
    report.progress(0.0, f"Loading {path.name}")
    return LoadedImage(None, read_image(path))


def load_items(dataset: Dataset, indices: Sequence[int], *, report: Report,
               cancel: Cancel) -> list[np.ndarray]:
    """Job: several items as RGB uint8, unreadable ones left out (the Dataset tab lists them)."""
    images = []
    for done, index in enumerate(indices):
        check_cancel(cancel)
        report.progress(done / max(len(indices), 1), f"Loading {dataset.keys[index]}")
        try:
            images.append(dataset.load(index))
        except ImageReadError:
            continue
    return images
