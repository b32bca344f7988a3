"""The live loop on videos the tests write, with a small real run trained on the same classes."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import Cancelled, RecordingReport
from filterscope.core.base.settings import SettingError
from filterscope.core.live.control import LiveControl
from filterscope.core.live.loop import run_live
from filterscope.core.live.model import LiveModel, open_live_model
from filterscope.core.live.record import OutputError, predictions_csv, save_frame
from filterscope.core.live.settings import LiveOptions, LiveSettings
from filterscope.core.live.video import Camera, SourceError, VideoFile, read_frame
from filterscope.core.results.calibration import apply_temperature
from filterscope.core.results.feed import FileImages, predict_images
from filterscope.core.training.saved_model import open_model
from filterscope.core.visualize.activations import activation_maps

from tests.live_runs import train_live_run
from tests.videos import CLASSES, class_video, mixed_video, write_video


def job() -> dict:
    return {"report": RecordingReport(), "cancel": threading.Event()}


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_live_run(tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="module")
def model(live_run: Path) -> LiveModel:
    return open_live_model(live_run, **job())


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    return mixed_video(tmp_path_factory.mktemp("clip") / "clip.avi", per_class=6)


def test_every_frame_is_predicted_in_order_and_right(model, clip) -> None:
    path, labels = clip
    report = RecordingReport()
    summary = run_live(VideoFile(path), model, report=report, cancel=threading.Event())
    frames = report.partials
    assert [f.index for f in frames] == list(range(len(labels))) and summary.processed == len(labels)
    assert summary.dropped == 0 and all(f.dropped == 0 for f in frames)
    right = sum(f.classes[0] == label for f, label in zip(frames, labels))
    assert right >= 0.9 * len(labels), [f.classes[0] for f in frames]
    assert all(len(f.classes) == 3 and sorted(f.classes) == sorted(CLASSES) for f in frames)
    assert all(f.heatmap is None and f.maps is None for f in frames)


def test_probabilities_are_prediction_s_own_and_calibrated_with_the_run_s_temperature(
        model, live_run, clip, tmp_path) -> None:
    """A frame saved as PNG and predicted by ``predict_images`` (the Results tab's and
    ``filterscope predict``'s path) gets the probabilities the live view gives it."""
    path, _ = clip
    report = RecordingReport()
    run_live(VideoFile(path), model, frames=4, report=report, cancel=threading.Event())
    files = [save_frame(f.rgb, tmp_path, f"frame-{f.index}") for f in report.partials]
    opened = open_model(live_run, **job())
    expected = predict_images(opened.model, FileImages(files), opened.rule, **job()).probabilities
    assert "calibrated probabilities" in model.notes[0] and model.temperature != 1.0
    for frame, row in zip(report.partials, expected):
        order = np.argsort(-row)[:3]
        assert frame.classes == tuple(opened.classes[i] for i in order)
        np.testing.assert_allclose(frame.probabilities, row[order], atol=1e-5)
        calibrated = apply_temperature(row[None], model.temperature)[0]
        np.testing.assert_allclose(frame.calibrated, calibrated[order], atol=1e-5)


def test_gradcam_and_feature_maps_follow_the_control(model, clip) -> None:
    path, _ = clip
    layer = model.maps_layers()[0]
    control = LiveControl(LiveOptions(gradcam=True, layer=layer))
    report = RecordingReport()

    def switch_off(frame) -> None:  # the per-frame hook, before the frame is predicted
        if frame.index == 2:
            control.set_options(gradcam=False, layer=None)

    run_live(VideoFile(path), model, frames=4, control=control, on_frame=switch_off, report=report,
             cancel=threading.Event())
    first, _, third, _ = report.partials
    assert first.heatmap.shape == first.rgb.shape and first.heatmap.dtype == np.uint8
    assert not np.array_equal(first.heatmap, first.rgb)
    assert first.maps.ndim == 3 and first.layer == layer and first.note is None
    compiled, eager = model.feature_maps(first.rgb, layer), activation_maps(model.session, first.rgb, layer)
    np.testing.assert_allclose(compiled.maps, eager.maps, atol=1e-5)  # the Visualise tab's maps
    assert third.heatmap is None and third.maps is None


def test_a_tap_set_while_running_gets_every_frame_read(model, clip) -> None:
    """The tab's hook for saving frames while a button is held: set and cleared mid-run."""
    path, _ = clip
    control, tapped = LiveControl(), []

    class Tapping(RecordingReport):
        def partial(self, payload) -> None:
            super().partial(payload)
            control.set_tap(tapped.append if len(self.partials) == 2 else None)

    run_live(VideoFile(path), model, frames=5, control=control, on_frame=control.tap, report=Tapping(),
             cancel=threading.Event())
    assert [f.index for f in tapped] == [2]


def test_a_layer_without_maps_leaves_a_note_and_the_prediction(model, clip) -> None:
    path, _ = clip
    report = RecordingReport()
    run_live(VideoFile(path), model, frames=1, control=LiveControl(LiveOptions(layer="no-such-layer")),
             report=report, cancel=threading.Event())
    frame = report.partials[0]
    assert frame.maps is None and "no-such-layer" in frame.note and len(frame.classes) == 3


def test_cancel_at_a_random_frame_stops_the_loop(model, clip) -> None:
    path, _ = clip
    stop_at = random.Random().randrange(1, 10)
    cancel = threading.Event()

    class Stopping(RecordingReport):
        def partial(self, payload) -> None:
            super().partial(payload)
            if len(self.partials) == stop_at:
                cancel.set()

    report = Stopping()
    with pytest.raises(Cancelled):
        run_live(VideoFile(path), model, report=report, cancel=cancel)
    assert len(report.partials) == stop_at


def test_a_video_played_in_real_time_drops_frames_it_has_no_time_for(model, tmp_path) -> None:
    """A 15 fps video whose frames take longer than 1/15 s each skips the frames that fell due."""
    path = class_video(tmp_path / "disc.avi", CLASSES[0], 30)
    report = RecordingReport()
    summary = run_live(VideoFile(path), model, realtime=True, on_frame=lambda _f: time.sleep(0.2),
                       report=report, cancel=threading.Event())
    indices = [f.index for f in report.partials]
    assert indices == sorted(indices) and summary.dropped > 0
    assert summary.processed + summary.dropped <= 30 and summary.processed < 15
    assert sum(f.dropped for f in report.partials) == summary.dropped


def test_a_video_played_in_real_time_keeps_its_own_speed(model, tmp_path) -> None:
    """Frames predicted faster than the video plays wait for their time: 15 frames at 15 fps take
    about a second, and the first frame is shown at once."""
    path = class_video(tmp_path / "disc.avi", CLASSES[0], 15)
    summary = run_live(VideoFile(path), model, realtime=True, **job())
    assert 0.9 <= summary.seconds < 5 and summary.processed + summary.dropped == 15


def test_freeze_and_step_process_one_frame_at_a_time(model, clip) -> None:
    path, _ = clip
    control = LiveControl()
    control.freeze()
    report, cancel = RecordingReport(), threading.Event()
    worker = threading.Thread(target=lambda: run_live(VideoFile(path), model, frames=3, control=control,
                                                      report=report, cancel=cancel))
    worker.start()
    try:
        time.sleep(0.3)
        assert report.partials == []  # frozen: nothing read
        control.step()
        deadline = time.monotonic() + 30
        while not report.partials and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        assert [f.index for f in report.partials] == [0]  # one step, one frame
        control.freeze(False)
    finally:
        worker.join(30)
        cancel.set()
    assert [f.index for f in report.partials] == [0, 1, 2]


def test_a_missing_camera_and_a_missing_video_are_named(model, tmp_path) -> None:
    with pytest.raises(SourceError, match="camera 99: no camera answers"):
        run_live(Camera(99), model, **job())
    with pytest.raises(SourceError, match="no such file"):
        run_live(VideoFile(tmp_path / "gone.avi"), model, **job())


class _Unplugged:
    """A capture whose camera gave frames and then none (as OpenCV answers after an unplug):
    cameras cannot be unplugged in a test, so read_frame is given what OpenCV returns then."""

    def read(self):
        return False, None


def test_a_camera_that_stops_giving_frames_is_named_while_a_video_just_ends(tmp_path) -> None:
    with pytest.raises(SourceError, match="camera 0 stopped giving frames"):
        read_frame(_Unplugged(), Camera(0), 5)
    assert read_frame(_Unplugged(), VideoFile(tmp_path / "clip.avi"), 5) is None


def test_the_csv_has_predict_s_columns_per_frame(model, clip) -> None:
    path, _ = clip
    report = RecordingReport()
    run_live(VideoFile(path), model, frames=2, report=report, cancel=threading.Event())
    lines = predictions_csv([f.row() for f in report.partials], 3).decode().splitlines()
    assert lines[0] == ("frame,predicted,confidence,calibrated_confidence,class_1,probability_1,"
                        "class_2,probability_2,class_3,probability_3")
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1"]


def test_frames_are_never_saved_in_a_dataset_folder_nor_over_another(tmp_path) -> None:
    dataset = tmp_path / "dataset"
    (dataset / "cat").mkdir(parents=True)
    frame = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(OutputError, match="refusing to write inside the dataset folder"):
        save_frame(frame, dataset / "cat", "frame", [dataset])
    first = save_frame(frame, tmp_path / "frames", "frame", [dataset])
    second = save_frame(frame, tmp_path / "frames", "frame", [dataset])
    assert (first.name, second.name) == ("frame.png", "frame-2.png")
    assert list((dataset / "cat").iterdir()) == []


def test_an_imagenet_model_predicts_frames_with_imagenet_s_classes(tmp_path) -> None:
    """EfficientNet-Lite0 (weights from its package, offline): 1,000 class names, no temperature."""
    imagenet = open_live_model("efficientnet-lite0", **job())
    rng = np.random.default_rng(0)
    path = write_video(tmp_path / "noise.avi", [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)] * 2)
    report = RecordingReport()
    run_live(VideoFile(path), imagenet, report=report, cancel=threading.Event())
    assert len(imagenet.classes) == 1000 and imagenet.temperature == 1.0
    frame = report.partials[0]
    assert frame.probabilities == frame.calibrated and set(frame.classes) <= set(imagenet.classes)


def test_the_settings_make_the_source_and_the_options(tmp_path) -> None:
    settings = LiveSettings()
    assert settings.source() == Camera(0) and settings.options() == LiveOptions()
    settings.update({"kind": "video", "video": ""})
    with pytest.raises(SourceError, match="no video file chosen"):
        settings.source()
    settings.update({"video": str(tmp_path / "0"), "gradcam": True, "layer": "conv1"})
    assert settings.source() == VideoFile(tmp_path / "0")  # a file named like a camera
    assert settings.options() == LiveOptions(gradcam=True, layer=None)  # maps off: no layer
    settings.maps = True
    assert settings.options() == LiveOptions(gradcam=True, layer="conv1")
    with pytest.raises(SettingError, match="camera"):
        settings.camera = -1
