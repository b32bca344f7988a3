"""The map's thumbnails: which points show their photo instead of a dot, and loading those photos.

Level of detail: the map is cut into square cells (in map space, so panning keeps the choice) and
at most one point per cell on screen shows its photo; the cells are wide when zoomed out (a
spread-out sample, :data:`SPREAD` thumbnails apart) and shrink towards one thumbnail's width as the
view zooms in, until every point on screen has its photo. A last greedy pass drops any thumbnail
that would overlap one already kept. The photos are read by a job
(:func:`~filterscope.core.data.item_images.item_thumbnails`: files, or items of an in-memory
built-in dataset) started a moment after the view settles (the latest view wins), into a bounded
LRU cache of small QImages; the GUI thread only picks points and draws what the cache holds.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QImage

from filterscope.core.data.item_images import item_thumbnails
from filterscope.ui.widgets.image_view import to_qimage
from filterscope.workers import JobRunner

SIZE = 44
"""A thumbnail's longest side on the map (pixels)."""
SPREAD = 3.0
"""Cell width, in thumbnails, at zoom 1; it shrinks with the square root of the zoom."""
DENSE = 1.1
"""The narrowest cell, in thumbnails (zoomed far in)."""
CACHED = 2000
"""Thumbnails kept (44 px: ~8 kB each, ~15 MB in all)."""
SETTLE_MS = 80
"""Quiet time after a zoom or pan before the photos on screen are requested."""


def pick(px: np.ndarray, xy: np.ndarray, order: np.ndarray, scale: float, zoom: float,
         width: int, height: int) -> np.ndarray:
    """The points that show a thumbnail: on screen, one per cell, none overlapping.

    Args:
        px: (N, 2) the points in widget pixels.
        xy: (N, 2) the points in map space.
        order: A fixed permutation of the points: which point of a cell wins.
        scale: Widget pixels per map unit.
        zoom: The view's zoom (1: the whole map).
        width, height: The widget's size.
    """
    half = SIZE / 2
    on = (px[:, 0] > -half) & (px[:, 0] < width + half) & (px[:, 1] > -half) & (px[:, 1] < height + half)
    candidates = order[on[order]]
    if not len(candidates):
        return candidates
    cell = SIZE * max(DENSE, SPREAD / zoom ** 0.5) / scale
    keys = np.floor(xy[candidates] / cell).astype(np.int64)
    _, first = np.unique(keys[:, 0] * 1_000_003 + keys[:, 1], return_index=True)
    chosen = candidates[np.sort(first)]
    from scipy.spatial import cKDTree  # the view has imported it with its map

    # boxes that would overlap (Chebyshev distance under one thumbnail), in order of the first of each pair,
    # so a point's fate is settled before it can push another out
    pairs = cKDTree(px[chosen]).query_pairs(SIZE * (1 - 1e-9), p=np.inf, output_type="ndarray")
    keep = np.ones(len(chosen), bool)
    for i, j in pairs[np.argsort(pairs[:, 0], kind="stable")]:
        if keep[i]:
            keep[j] = False
    return chosen[keep]


class MapThumbnails(QObject):
    """The thumbnails of one map's points: the cache, the loading job, the points they belong to."""

    sig_changed = Signal()
    """New thumbnails arrived: the view should draw again."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self, on_partial=self._on_runner_partial, on_failure=self._on_runner_failed)
        self._images: OrderedDict[int, QImage] = OrderedDict()
        self._failed: set[int] = set()
        self._paths: list[str] = []
        self._source: object = None
        self._wanted: list[int] = []
        self._requested: list[int] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.failure = ""

    def set_points(self, paths: list[str], source: object) -> None:
        """The photos of a new map (``source``: the dataset an in-memory key belongs to); forgets
        the old map's thumbnails."""
        self.runner.cancel()
        self._timer.stop()
        self._images.clear()
        self._failed.clear()
        self._paths, self._source = list(paths), source
        self._wanted, self._requested = [], []

    def image(self, point: int) -> QImage | None:
        """The point's thumbnail, if loaded."""
        return self._images.get(point)

    def loaded(self) -> list[int]:
        """The points whose thumbnail is in the cache."""
        return list(self._images)

    def want(self, points: np.ndarray) -> None:
        """The points the view shows as thumbnails now: keep theirs, load the missing ones soon."""
        for point in points:
            if point in self._images:
                self._images.move_to_end(int(point))
        missing = [int(p) for p in points if p not in self._images and p not in self._failed]
        if missing != self._wanted:
            self._wanted = missing
            if missing and not set(missing) <= set(self._requested):
                self._timer.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        if self._wanted:
            self._requested = list(self._wanted)
            self.runner.start(item_thumbnails, self._paths, self._requested, self._source, SIZE)

    @Slot(object)
    def _on_runner_partial(self, batch: list) -> None:
        self.add(batch)

    def add(self, batch: list) -> None:
        """Keep a batch of :class:`~filterscope.core.data.thumbnails.Thumbnail` (the job's partial
        results); an entry without pixels is not asked for again for this map."""
        for point, rgb, _error in batch:
            if rgb is None:
                self._failed.add(point)
                continue
            self._images[point] = to_qimage(rgb).convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
            self._images.move_to_end(point)
        while len(self._images) > CACHED:
            self._images.popitem(last=False)
        self.sig_changed.emit()

    @Slot(str)
    def _on_runner_failed(self, message: str) -> None:
        self.failure = message  # the dots stay; the next view change asks again
        self._requested = []
