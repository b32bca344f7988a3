"""A camera or a video file as a source of RGB frames, through OpenCV's ``VideoCapture`` (already a
dependency; Qt Multimedia is not needed and not shipped).

A source is typed: :class:`Camera` (an index, ``0`` is the first camera) or :class:`VideoFile`.
:func:`parse_source` turns the command line's and the tab's text into one. Opening a source
that is not there (no camera at that index, a camera another program holds, a file that is
missing or not a video) raises :class:`SourceError` naming the source and what is wrong, and
so does a camera unplugged mid-run (:func:`read_frame`), so callers can say it and keep going.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from filterscope.core.base.jobs import Cancel


class SourceError(Exception):
    """A camera or video that cannot be opened or read; the message names it."""


@dataclass(frozen=True)
class Camera:
    """A camera by OpenCV's index (0 is the system's first camera)."""

    index: int

    def __str__(self) -> str:
        return f"camera {self.index}"


@dataclass(frozen=True)
class VideoFile:
    """A video file (any format OpenCV's FFmpeg back end reads)."""

    path: Path

    def __str__(self) -> str:
        return f"video {self.path}"


Source = Camera | VideoFile


@dataclass(frozen=True)
class Frame:
    """One frame: ``index`` counts from 0 in the source, ``rgb`` is (H, W, 3) uint8."""

    index: int
    rgb: np.ndarray


def parse_source(text: str | int) -> Source:
    """A camera for a whole number (``"0"``), else a video file.

    Raises:
        SourceError: the text is empty, or a negative camera index.
    """
    text = str(text).strip()
    if not text:
        raise SourceError("no source given: a camera index (0 is the first camera) or a video file")
    if text.lstrip("-").isdigit():
        index = int(text)
        if index < 0:
            raise SourceError(f"camera index {index}: cameras are numbered from 0")
        return Camera(index)
    return VideoFile(Path(text).expanduser())


def open_source(source: Source) -> Any:
    """An opened ``cv2.VideoCapture`` for ``source``.

    Raises:
        SourceError: the file is missing or not a video OpenCV can decode, or no camera answers
            at that index (absent, or held by another program).
    """
    from filterscope.core.base.opencv import cv2

    if isinstance(source, VideoFile):
        if not source.path.is_file():
            raise SourceError(f"{source}: no such file")
        capture = cv2.VideoCapture(str(source.path))
        why = "not a video OpenCV can decode (or an unsupported codec)"
    else:
        capture = cv2.VideoCapture(source.index)
        why = "no camera answers (none at that index, or another program is using it)"
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"{source}: {why}")
    if isinstance(source, Camera):  # hold one frame, not a queue: a slow reader gets the newest
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    return capture


def frame_rate(capture: Any) -> float | None:
    """The frames per second a video file says it plays at, or None when it does not say."""
    from filterscope.core.base.opencv import cv2

    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    return fps if 0.0 < fps < 1000.0 else None


def skip_frames(capture: Any, count: int) -> int:
    """Pass over ``count`` frames without decoding them (``grab``); how many there were."""
    skipped = 0
    while skipped < count and capture.grab():
        skipped += 1
    return skipped


def read_frame(capture: Any, source: Source, index: int) -> Frame | None:
    """The next frame as RGB, or None at the end of a video file.

    Raises:
        SourceError: a camera stopped giving frames (unplugged, or taken by another program).
    """
    from filterscope.core.base.opencv import cv2

    ok, bgr = capture.read()
    if not ok or bgr is None:
        if isinstance(source, Camera):
            raise SourceError(f"{source} stopped giving frames (unplugged, or taken by another program)")
        return None
    if bgr.ndim == 2:
        return Frame(index, cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB))
    return Frame(index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def frames(source: Source, *, limit: int | None = None, cancel: Cancel | None = None) -> Iterator[Frame]:
    """Every frame of ``source`` in order (at most ``limit``), until the video ends, ``cancel``
    is set or the caller stops iterating; the capture is released either way.

    Raises:
        SourceError: as :func:`open_source` and :func:`read_frame`.
    """
    capture = open_source(source)
    try:
        index = 0
        while (limit is None or index < limit) and not (cancel is not None and cancel.is_set()):
            frame = read_frame(capture, source, index)
            if frame is None:
                return
            yield frame
            index += 1
    finally:
        capture.release()
