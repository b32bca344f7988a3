"""Capture folders: made new with a marker, never in a dataset; frames as whole PNGs; counts."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, NullReport, RecordingReport, never_cancel
from filterscope.core.data.datasets import scan_folder
from filterscope.core.data.images import read_image
from filterscope.core.live.capture import (
    MARKER,
    CaptureError,
    CaptureFolder,
    capture,
    check_class_name,
    read_marker,
)
from filterscope.core.live.video import SourceError, VideoFile

from tests.videos import CLASSES, class_frame, class_video


def _frame(seed: int = 0) -> np.ndarray:
    return class_frame(CLASSES[seed % 3], np.random.default_rng(seed))


def test_a_new_folder_is_made_with_its_marker(tmp_path):
    folder = CaptureFolder.open(tmp_path / "new" / "shapes")
    assert (folder.root / MARKER).is_file()
    assert read_marker(folder.root)["format"] == 1
    assert folder.counts() == {}
    assert read_marker(tmp_path) is None


def test_new_capture_paths_are_new_folders_in_the_data_folder(data_dir):
    from filterscope.core.live.capture import new_capture_path

    first = CaptureFolder.open(new_capture_path()).root
    second = new_capture_path()
    assert first.parent == second.parent == data_dir / "captures" and second != first
    assert not second.exists()


def test_an_empty_folder_becomes_a_capture_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert (CaptureFolder.open(tmp_path / "empty").root / MARKER).is_file()


def test_an_existing_dataset_is_refused_and_left_as_it_was(tmp_path):
    dataset = tmp_path / "plants"
    (dataset / "maize").mkdir(parents=True)
    (dataset / "maize" / "1.png").write_bytes(b"not touched")
    before = sorted(p.relative_to(dataset) for p in dataset.rglob("*"))
    with pytest.raises(CaptureError, match="never written into an existing dataset"):
        CaptureFolder.open(dataset)
    assert sorted(p.relative_to(dataset) for p in dataset.rglob("*")) == before
    assert (dataset / "maize" / "1.png").read_bytes() == b"not touched"


def test_a_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(CaptureError, match="is a file"):
        CaptureFolder.open(tmp_path / "notes.txt")


def test_frames_are_whole_pngs_of_the_frame_and_counted(tmp_path):
    folder = CaptureFolder.open(tmp_path / "shapes")
    frames = [_frame(seed) for seed in range(3)]
    paths = [folder.save("red disc", frame) for frame in frames]
    assert [p.name for p in paths] == ["frame-000001.png", "frame-000002.png", "frame-000003.png"]
    for path, frame in zip(paths, frames):
        assert np.array_equal(read_image(path), frame)  # PNG is lossless
    folder.save("green square", frames[0])
    assert folder.counts() == {"green square": 1, "red disc": 3}
    assert not [p for p in folder.root.rglob("*.tmp")]


def test_reopening_counts_the_frames_and_numbers_on(tmp_path):
    folder = CaptureFolder.open(tmp_path / "shapes")
    for seed in range(2):
        folder.save("disc", _frame(seed))
    again = CaptureFolder.open(tmp_path / "shapes")
    assert again.counts() == {"disc": 2}
    assert again.save("disc", _frame(5)).name == "frame-000003.png"


def test_a_failed_write_leaves_no_file_and_the_count_unchanged(tmp_path, monkeypatch):
    folder = CaptureFolder.open(tmp_path / "shapes")
    folder.save("disc", _frame())

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        folder.save("disc", _frame(1))
    monkeypatch.undo()
    assert folder.counts() == {"disc": 1}
    assert sorted(p.name for p in (folder.root / "disc").iterdir()) == ["frame-000001.png"]


def test_a_frame_that_is_not_rgb_uint8_is_refused(tmp_path):
    folder = CaptureFolder.open(tmp_path / "shapes")
    with pytest.raises(CaptureError, match="RGB uint8"):
        folder.save("disc", np.zeros((8, 8), np.uint8))
    with pytest.raises(CaptureError, match="RGB uint8"):
        folder.save("disc", np.zeros((8, 8, 3), np.float32))


@pytest.mark.parametrize("name, why", [
    ("", "needs a name"), ("   ", "needs a name"), ("a/b", "cannot hold '/'"),
    ("a\\b", "cannot hold"), ("what?", "cannot hold '\\?'"), ("tab\there", "cannot hold"),
    (".hidden", "hidden folder"), ("end.", "final '.'"), ("CON", "reserves"), ("com1.txt", "reserves"),
    ("x" * 101, "at most 100"),
])
def test_a_name_that_cannot_be_a_folder_is_refused_with_a_reason(tmp_path, name, why):
    with pytest.raises(CaptureError, match=why):
        check_class_name(name)
    folder = CaptureFolder.open(tmp_path / "shapes")
    with pytest.raises(CaptureError, match=why):
        folder.save(name, _frame())
    assert folder.counts() == {}


def test_unicode_names_are_classes_the_dataset_loader_reads(tmp_path):
    folder = CaptureFolder.open(tmp_path / "shapes")
    assert check_class_name("  Ünïcødé 植物 ") == "Ünïcødé 植物"
    for seed, name in enumerate(("Ünïcødé 植物", "zebra", "ähre")):
        folder.save(name, _frame(seed))
    dataset = scan_folder(folder.root, report=NullReport(), cancel=never_cancel())
    assert dataset.classes == folder.classes() == sorted(["Ünïcødé 植物", "zebra", "ähre"])
    assert len(dataset) == 3 and not dataset.problems  # the marker is not a stray file


def test_a_name_differing_only_in_case_is_refused(tmp_path):
    folder = CaptureFolder.open(tmp_path / "shapes")
    folder.save("Cat", _frame())
    with pytest.raises(CaptureError, match="do not tell it from 'Cat'"):
        folder.add_class("cat")
    assert folder.add_class("Cat") == "Cat" and folder.counts() == {"Cat": 1}


def test_remove_class_only_removes_an_empty_class(tmp_path):
    folder = CaptureFolder.open(tmp_path / "shapes")
    folder.add_class("empty")
    folder.save("full", _frame())
    folder.remove_class("empty")
    assert not (folder.root / "empty").exists()
    with pytest.raises(CaptureError, match="holds 1 frame"):
        folder.remove_class("full")
    assert folder.counts() == {"full": 1}


def test_saving_from_threads_loses_no_frame_and_counts_stay_readable(tmp_path):
    folder = CaptureFolder.open(tmp_path / "shapes")
    frame, seen = _frame(), []

    def worker(name: str) -> None:
        for _ in range(15):
            folder.save(name, frame)
            seen.append(sum(folder.counts().values()))

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b", "a")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert folder.counts() == {"a": 30, "b": 15}
    assert len(list((folder.root / "a").glob("frame-*.png"))) == 30
    assert max(seen) == 45


def test_capture_saves_frames_of_a_video_as_one_class(tmp_path):
    video = class_video(tmp_path / "disc.avi", "red_disc", 12, seed=3)
    report = RecordingReport()
    result = capture(VideoFile(video), "red_disc", 10, tmp_path / "shapes", report=report,
                     cancel=never_cancel())
    assert result.saved == 10 and result.counts == {"red_disc": 10} and not result.note
    assert report.progress_calls[-1][0] == 1.0
    more = capture(VideoFile(video), "red_disc", 20, tmp_path / "shapes", report=NullReport(),
                   cancel=never_cancel())
    assert more.saved == 12 and more.counts == {"red_disc": 22}
    assert "ended after 12 of 20" in more.note


def test_capture_refuses_a_dataset_before_opening_the_source(tmp_path):
    (tmp_path / "data" / "cat").mkdir(parents=True)
    (tmp_path / "data" / "cat" / "1.png").write_bytes(b"x")
    with pytest.raises(CaptureError, match="existing dataset"):
        capture(VideoFile(tmp_path / "missing.avi"), "cat", 5, tmp_path / "data", report=NullReport(),
                cancel=never_cancel())
    with pytest.raises(SourceError, match="no such file"):
        capture(VideoFile(tmp_path / "missing.avi"), "cat", 5, tmp_path / "new", report=NullReport(),
                cancel=never_cancel())
    with pytest.raises(CaptureError, match="at least 1"):
        capture(VideoFile(tmp_path / "missing.avi"), "cat", 0, tmp_path / "new", report=NullReport(),
                cancel=never_cancel())


def test_a_cancelled_capture_keeps_the_frames_saved(tmp_path):
    video = class_video(tmp_path / "disc.avi", "red_disc", 10)
    cancel = threading.Event()

    class StopAtThree(RecordingReport):
        def progress(self, fraction: float, message: str = "") -> None:
            super().progress(fraction, message)
            if fraction >= 0.3:
                cancel.set()

    with pytest.raises(Cancelled):
        capture(VideoFile(video), "red_disc", 10, tmp_path / "shapes", report=StopAtThree(), cancel=cancel)
    assert CaptureFolder.open(tmp_path / "shapes").counts() == {"red_disc": 3}


def test_a_held_class_saves_every_nth_frame_offered_until_released(tmp_path):
    from filterscope.core.live.held import HeldCapture
    from filterscope.core.live.video import Frame

    folder, held = CaptureFolder.open(tmp_path / "shapes"), HeldCapture()
    assert held.offer(_frame()) is None and held.held is None
    held.hold(folder, "disc", every=2)
    saved = [held.offer(Frame(i, _frame(i))) for i in range(5)]
    assert [p is not None for p in saved] == [True, False, True, False, True]
    assert held.held == "disc"
    held.release()
    assert held.offer(_frame()) is None and folder.counts() == {"disc": 3}


def test_a_failed_save_is_kept_for_the_gui_not_raised_in_the_worker(tmp_path):
    from filterscope.core.live.held import HeldCapture

    folder, held = CaptureFolder.open(tmp_path / "shapes"), HeldCapture()
    held.hold(folder, "disc")
    assert held.offer(np.zeros((4, 4), np.uint8)) is None
    assert "disc: frame not saved" in held.take_error()
    assert held.take_error() is None
