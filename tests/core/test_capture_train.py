"""Capture and train: 3 classes captured from videos train a model, through the Train tab's job,
that predicts held-back frames (with ``filterscope predict``'s function) at least 90 % right."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport, RecordingReport, never_cancel
from filterscope.core.live.capture import CaptureError, CaptureFolder, capture
from filterscope.core.live.capture_train import (
    CONVNET,
    PRETRAINED,
    CaptureSettings,
    capture_run,
    model_used,
    pretrained_missing,
    train_capture,
)
from filterscope.core.live.video import VideoFile, frames
from filterscope.core.results.predict import predict
from filterscope.core.training.frames import EpochFrame
from filterscope.core.training.runs import load_run

from tests.videos import CLASSES, mixed_video, class_video

FRAMES = 50
TARGET = 0.9


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 classes x 50 frames captured from three class videos (seeds of their own)."""
    tmp = tmp_path_factory.mktemp("capture")
    for k, name in enumerate(CLASSES):
        video = class_video(tmp / f"{name}.avi", name, FRAMES, seed=10 + k)
        capture(VideoFile(video), name, FRAMES, tmp / "shapes", report=NullReport(), cancel=never_cancel())
    return tmp / "shapes"


@pytest.fixture(scope="module")
def held_back(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Frames of a video the model never saw (another seed), each class in turn, as PNG files
    named in frame order, and each frame's class."""
    from filterscope.core.base.opencv import cv2

    tmp = tmp_path_factory.mktemp("held-back")
    video, labels = mixed_video(tmp / "mixed.avi", per_class=20, seed=99)
    folder = tmp / "frames"
    folder.mkdir()
    for frame in frames(VideoFile(video)):
        cv2.imwrite(str(folder / f"{frame.index:04d}.png"), cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
    return folder, labels


def _accuracy(run_dir: Path, held_back: tuple[Path, list[str]]) -> float:
    folder, labels = held_back
    result = predict(run_dir, folder, report=NullReport(), cancel=never_cancel())
    assert [Path(p).name for p in result.paths] == [f"{i:04d}.png" for i in range(len(labels))]
    predicted = [result.classes[i] for i in np.argmax(result.probabilities, axis=1)]
    return float(np.mean([p == t for p, t in zip(predicted, labels)]))


@pytest.mark.parametrize("model", [PRETRAINED, CONVNET])
def test_captured_frames_train_a_model_that_predicts_held_back_frames(captured, held_back, tmp_path,
                                                                       model):
    if model == PRETRAINED and pretrained_missing():
        pytest.skip(f"EfficientNet-Lite0's weights: {pretrained_missing()}")
    settings = CaptureSettings(model=model)
    assert model_used(settings) == model
    report = RecordingReport()
    result = train_capture(captured, tmp_path / "runs", settings, report=report, cancel=never_cancel())
    run = json.loads((result.run_dir / "run.json").read_text(encoding="utf-8"))
    assert result.run_dir.parent == tmp_path / "runs" and (result.run_dir / "best.keras").is_file()
    assert run["run"]["cache_features"] is (model == PRETRAINED) and run["n_val"] == 30
    assert sorted(result.classes) == sorted(CLASSES)
    assert load_run(result.run_dir).status == "finished"  # a run like any: the Train tab lists it
    assert len([p for p in report.partials if isinstance(p, EpochFrame)]) == result.epochs_run
    accuracy = _accuracy(result.run_dir, held_back)
    majority = max(np.unique(held_back[1], return_counts=True)[1]) / len(held_back[1])
    print(f"\n{model}: held-back accuracy {accuracy:.1%} (majority baseline {majority:.1%}), "
          f"{result.epochs_run} epochs")
    assert majority == pytest.approx(1 / 3)
    assert accuracy >= TARGET


def test_the_run_spec_is_a_head_on_cached_features_or_the_small_convnet(captured):
    settings = CaptureSettings(epochs=3)
    head = capture_run(captured, settings, PRETRAINED)
    assert head.model.base.name == "efficientnet-lite0" and head.model.base.fine_tune_blocks == 0
    assert head.cache_features and head.data.val_fraction == 0.2 and head.epochs == 3
    convnet = capture_run(captured, CaptureSettings(), CONVNET)
    assert convnet.model.name == "chapter-convnet" and convnet.model.base is None
    assert not convnet.cache_features and convnet.data.longest_side == 64


def test_training_refuses_too_few_frames_and_folders_that_are_not_captures(tmp_path):
    folder = CaptureFolder.open(tmp_path / "shapes")
    rng = np.random.default_rng(0)
    for _ in range(5):
        folder.save("disc", rng.integers(0, 255, (32, 32, 3), np.uint8))
    with pytest.raises(CaptureError, match="at least two classes"):
        train_capture(folder.root, tmp_path / "runs", report=NullReport(), cancel=never_cancel())
    folder.save("square", rng.integers(0, 255, (32, 32, 3), np.uint8))
    with pytest.raises(CaptureError, match=r"'square' \(1\)"):
        train_capture(folder.root, tmp_path / "runs", report=NullReport(), cancel=never_cancel())
    (tmp_path / "plain" / "a").mkdir(parents=True)
    with pytest.raises(CaptureError, match="not a capture folder"):
        train_capture(tmp_path / "plain", tmp_path / "runs", report=NullReport(), cancel=never_cancel())
    assert not (tmp_path / "runs").exists()


def test_without_lite0s_weights_the_small_convnet_trains(monkeypatch):
    from filterscope.core.live import capture_train

    assert model_used(CaptureSettings(model=CONVNET)) == CONVNET
    # As on an install without the package that holds Lite0's weights:
    monkeypatch.setattr(capture_train, "pretrained_missing", lambda: "EfficientNet-Lite0 is not installed")
    assert model_used(CaptureSettings()) == CONVNET


def test_a_live_model_keeps_predicting_while_a_capture_trains(captured, held_back, tmp_path):
    """The live view predicts in its worker while Train runs in another (feature extraction
    and training reset Keras's session): its predictions must stay right throughout."""
    import threading
    import time

    from filterscope.core.results.feed import FileImages, predict_images
    from filterscope.core.training.saved_model import open_model

    live = train_capture(captured, tmp_path / "runs", CaptureSettings(model=CONVNET, epochs=5),
                         report=NullReport(), cancel=never_cancel())
    opened = open_model(live.run_dir, report=NullReport(), cancel=never_cancel())
    folder, labels = held_back
    images = FileImages(sorted(folder.glob("*.png"))[::4])
    truth = labels[::4]
    settings = CaptureSettings(model=PRETRAINED if not pretrained_missing() else CONVNET)
    job = threading.Thread(target=train_capture, args=(captured, tmp_path / "runs", settings),
                           kwargs={"report": NullReport(), "cancel": never_cancel()})
    job.start()
    rounds = []
    while job.is_alive() or not rounds:
        predicted = predict_images(opened.model, images, opened.rule, report=NullReport(),
                                   cancel=never_cancel())
        rounds.append(np.mean([opened.classes[k] == t
                               for k, t in zip(predicted.probabilities.argmax(1), truth)]))
        time.sleep(0.2)  # a live view predicts some frames a second, not flat out
    job.join()
    assert len(list((tmp_path / "runs").iterdir())) == 2  # the second run was saved too
    assert min(rounds) >= TARGET, rounds
