"""Cameras and video files as a source: frames in order, and a message for every missing source."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from filterscope.core.live.video import Camera, SourceError, VideoFile, frames, open_source, parse_source

from tests.videos import CLASSES, SIZE, class_frame, class_video, mixed_video


def test_parse_source_types_a_camera_index_or_a_file(tmp_path):
    assert parse_source("0") == Camera(0)
    assert parse_source(2) == Camera(2)
    assert parse_source(str(tmp_path / "clip.avi")) == VideoFile(tmp_path / "clip.avi")
    with pytest.raises(SourceError, match="numbered from 0"):
        parse_source("-1")
    with pytest.raises(SourceError, match="no source"):
        parse_source("  ")


def test_frames_of_a_video_come_in_order_as_rgb(tmp_path):
    path, labels = mixed_video(tmp_path / "clip.avi", per_class=4)
    got = list(frames(VideoFile(path)))
    assert [f.index for f in got] == list(range(len(labels)))
    assert got[0].rgb.shape == (SIZE[1], SIZE[0], 3) and got[0].rgb.dtype == np.uint8
    # Motion-JPEG is lossy, but a red disc stays red: R is the strongest channel inside it.
    disc = got[0].rgb.reshape(-1, 3)[got[0].rgb.reshape(-1, 3)[:, 0] > 180]
    assert disc.size and disc[:, 0].mean() > disc[:, 2].mean() + 80


def test_frames_stop_at_the_limit_and_on_cancel(tmp_path):
    path = class_video(tmp_path / "disc.avi", CLASSES[0], 10)
    assert len(list(frames(VideoFile(path), limit=3))) == 3
    seen, cancel = [], threading.Event()
    for frame in frames(VideoFile(path), cancel=cancel):  # a job's cancel token, set mid-way
        seen.append(frame)
        if len(seen) == 2:
            cancel.set()
    assert len(seen) == 2


def test_missing_sources_are_named(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        open_source(VideoFile(tmp_path / "gone.avi"))
    not_video = tmp_path / "notes.avi"
    not_video.write_bytes(b"not a video at all" * 100)
    with pytest.raises(SourceError, match="not a video"):
        open_source(VideoFile(not_video))
    with pytest.raises(SourceError, match="camera 99: no camera answers"):
        open_source(Camera(99))


def test_class_frames_differ_between_classes_in_colour():
    rng = np.random.default_rng(0)
    means = [class_frame(name, rng).reshape(-1, 3).max(0) for name in CLASSES]
    assert [int(np.argmax(m)) for m in means] == [0, 1, 2]
