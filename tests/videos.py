"""Video files the tests write (cv2.VideoWriter, Motion-JPEG in AVI, which every OpenCV build
with a video back end reads): each class is a shape of its own colour that drifts and turns over
a noisy background, so frames of one class differ from each other as a held-up object's do."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

SIZE = (160, 120)  # width, height
FPS = 15
CLASSES = ("red_disc", "green_square", "blue_triangle")
_COLOURS = {"red_disc": (220, 40, 40), "green_square": (40, 190, 60), "blue_triangle": (40, 70, 220)}


def class_frame(name: str, rng: np.random.Generator, size: tuple[int, int] = SIZE) -> np.ndarray:
    """One RGB uint8 frame of class ``name``: its shape at a random place, size and angle."""
    width, height = size
    frame = rng.integers(90, 150, (height, width, 3)).astype(np.uint8)
    frame = cv2.GaussianBlur(frame, (0, 0), 3)
    centre = np.array([width, height]) * rng.uniform(0.35, 0.65, 2)
    radius = min(width, height) * rng.uniform(0.2, 0.3)
    colour = tuple(int(c) for c in np.clip(np.array(_COLOURS[name]) + rng.integers(-25, 26, 3), 0, 255))
    if name == "red_disc":
        cv2.circle(frame, tuple(int(v) for v in centre), int(radius), colour, -1)
    else:
        sides = 4 if name == "green_square" else 3
        angles = rng.uniform(0, 2 * np.pi) + np.arange(sides) * 2 * np.pi / sides
        points = centre + radius * np.stack([np.cos(angles), np.sin(angles)], 1)
        cv2.fillPoly(frame, [points.astype(np.int32)], colour)
    noise = rng.integers(-12, 13, frame.shape)
    return np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def write_video(path: Path, frames: list[np.ndarray], fps: int = FPS) -> Path:
    """``frames`` (RGB uint8, all one size) written as a Motion-JPEG AVI at ``path``."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened(), f"this OpenCV cannot write {path}"
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def class_video(path: Path, name: str, count: int, seed: int = 0) -> Path:
    """A video of ``count`` frames of one class, as a camera held on one object records."""
    rng = np.random.default_rng(seed)
    return write_video(path, [class_frame(name, rng) for _ in range(count)])


def mixed_video(path: Path, per_class: int, seed: int = 1) -> tuple[Path, list[str]]:
    """A video showing each class in turn, ``per_class`` frames each, and each frame's class."""
    rng = np.random.default_rng(seed)
    labels = [name for name in CLASSES for _ in range(per_class)]
    return write_video(path, [class_frame(name, rng) for name in labels]), labels
