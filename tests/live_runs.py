"""A small real run for the live-view tests: the chapter's ConvNet trained for a few epochs on
frames of the synthetic class videos (:mod:`tests.videos`), so its predictions of a video of
those classes can be checked."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.results_runs import calibrated, train_run
from tests.videos import CLASSES, class_frame

PER_CLASS = {"train": 24, "val": 8}
IMAGE_SIZE = (48, 64)  # the videos' 4:3, small enough to train in seconds


def write_class_frames(root: Path, seed: int = 5) -> Path:
    """Frames of every class as PNG files under ``root/train/<class>/`` and ``root/val/<class>/``."""
    rng = np.random.default_rng(seed)
    for subset, count in PER_CLASS.items():
        for name in CLASSES:
            folder = root / subset / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                cv2.imwrite(str(folder / f"{i:03d}.png"), cv2.cvtColor(class_frame(name, rng), cv2.COLOR_RGB2BGR))
    return root


def train_live_run(root: Path, epochs: int = 6) -> Path:
    """The chapter's ConvNet trained on class frames, calibrated as a first prediction would do."""
    data = write_class_frames(root / "frames")
    run_dir = train_run(data, root / "runs", name="shapes", model="chapter-convnet",
                        image_size=IMAGE_SIZE, epochs=epochs)
    return calibrated(run_dir)
