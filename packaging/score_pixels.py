"""Check that the OpenCV a score bundle carries prepares images to the very pixels the official
wheel does: the bundle's OpenCV is built with only the modules the scorer runs (core, imgproc,
imgcodecs), so build-score-bundle.sh dumps the prepared images with the official wheel, swaps in
its own build, dumps again and compares.

    python packaging/score_pixels.py dump OUT.npz [FOLDER]
    python packaging/score_pixels.py compare A.npz B.npz

The images: seeded photo-like pictures (smooth colour fields and noise) as PNG and JPEG at odd
sizes, gray, with alpha and 16-bit, and every image under FOLDER when given. Each goes through the
app's reader (``read_image``) and ``prepare_for_model`` under several input rules: down- and
up-sampled, one channel, and masked with every built-in mask preset in both colour distances,
which together run every OpenCV call of the scorer's import graph (decoding, INTER_AREA resizing,
colour conversions, the mask's Lab conversion, median blur and logical and). ``compare`` exits
non-zero naming the first image and rule that differ by even one level.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

from filterscope.core.base.jobs import NullReport
from filterscope.core.base.opencv import cv2
from filterscope.core.data.images import ImageReadError, read_image
from filterscope.core.masking.colordist import DISTANCES, builtin_preset
from filterscope.core.training.data_plan import image_masker
from filterscope.core.training.model_input import InputRule, prepare_for_model, training_mask

SIZES = ((37, 53), (150, 150), (300, 211), (640, 480), (1023, 769))
PRESETS = ("chapter", "seedlings-tuned")
BUILD_KEY = "opencv build"  # which OpenCV made the dump: comparing a build with itself proves nothing
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def _rules() -> dict[str, InputRule]:
    rules = {"224x224x3": InputRule((224, 224), 3), "96x128x3": InputRule((96, 128), 3),
             "28x28x1": InputRule((28, 28), 1), "512x512x3": InputRule((512, 512), 3)}
    for preset in PRESETS:
        for distance in DISTANCES:
            mask = training_mask(replace(builtin_preset(preset), distance=distance))
            rules[f"150x150x3 {preset} {distance}"] = InputRule((150, 150), 3, mask)
    return rules


def _photo(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Smooth colour fields and noise, made with Pillow: the corpus must not depend on the
    OpenCV under test (its bicubic resizing differs between builds)."""
    from PIL import Image

    coarse = rng.integers(0, 256, (max(2, height // 40), max(2, width // 40), 3), dtype=np.uint8)
    field = np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC), np.int16)
    return np.clip(field + rng.integers(-20, 21, field.shape), 0, 255).astype(np.uint8)


def _write_corpus(folder: Path) -> list[Path]:
    """The seeded images, written with Pillow (not the OpenCV under test)."""
    from PIL import Image

    rng, paths = np.random.default_rng(0), []
    for height, width in SIZES:
        rgb = _photo(rng, height, width)
        for suffix, image in ((".png", Image.fromarray(rgb)), (".jpg", Image.fromarray(rgb)),
                              ("-gray.png", Image.fromarray(rgb[..., 1])),
                              ("-alpha.png", Image.fromarray(np.dstack([rgb, rgb[..., 0]]), "RGBA")),
                              ("-16bit.png", Image.fromarray(rgb[..., 2].astype(np.uint16) * 257))):
            path = folder / f"{height}x{width}{suffix}"
            image.save(path, quality=90) if suffix == ".jpg" else image.save(path)
            paths.append(path)
    return paths


def dump(out: Path, folder: Path | None) -> int:
    """Prepare every image under every rule and save the arrays in ``out``; returns the count."""
    with TemporaryDirectory() as tmp:
        paths = _write_corpus(Path(tmp))
        if folder is not None:
            paths += sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        arrays = {}
        for rule_name, rule in _rules().items():
            masker = None if rule.mask is None else image_masker(rule.mask, 0, False, NullReport())
            for path in paths:
                name = path.name if path.is_relative_to(tmp) else str(path.relative_to(folder))
                try:
                    image = read_image(path)
                except ImageReadError:
                    continue
                arrays[f"{name} | {rule_name}"] = prepare_for_model(image, rule, masker)
    np.savez_compressed(out, **arrays, **{BUILD_KEY: np.array(cv2.getBuildInformation())})
    return len(arrays)


def compare(a: Path, b: Path) -> str | None:
    """None when both dumps hold the same arrays, else what differs first."""
    with np.load(a) as first, np.load(b) as second:
        if str(first[BUILD_KEY]) == str(second[BUILD_KEY]):
            return "both dumps were made by the same OpenCV build: nothing was compared"
        if sorted(first.files) != sorted(second.files):
            return f"different images or rules: {sorted(set(first.files) ^ set(second.files))[:5]}"
        for key in sorted(set(first.files) - {BUILD_KEY}):
            x, y = first[key], second[key]
            if x.shape != y.shape or not np.array_equal(x, y):
                worst = int(np.abs(x.astype(np.int16) - y.astype(np.int16)).max()) if x.shape == y.shape else None
                return f"{key}: {x.shape} vs {y.shape}, largest difference {worst}"
        return None


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "dump":
        count = dump(Path(argv[1]), Path(argv[2]) if len(argv) > 2 else None)
        print(f"{count} prepared images in {argv[1]} (OpenCV {cv2.__version__}, {Path(cv2.__file__).parent})")
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        problem = compare(Path(argv[1]), Path(argv[2]))
        print(problem or f"identical: {argv[1]} and {argv[2]}")
        return 1 if problem else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
