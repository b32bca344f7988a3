"""Generated datasets that come split into train/val/test folders, for core, CLI and UI tests.

``make_split_tree(root, {"train": {"cat": 6, ...}, "Validation": {...}, "test": {...}})`` writes
small photo-like images (PNG, JPEG and BMP in turn, two sizes) into ``root/<subset>/<class>/`` and
returns the keys written (``"<subset>/<class>/<file>"``, as a scan keys them). Classes differ in
colour so a model can tell them apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.photos import smooth_photo

SUFFIXES = (".png", ".jpg", ".bmp")


def photo(seed: int, tint: int, height: int = 24, width: int = 32) -> np.ndarray:
    """A smooth RGB photo whose dominant colour depends on ``tint`` (the class)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 90, (3, 4, 3)).astype(np.int16)
    coarse[..., tint % 3] += 150
    return smooth_photo(rng, coarse.clip(0, 255).astype(np.uint8), height, width, noise=6)


def make_split_tree(root: Path, layout: dict[str, dict[str, int]], *, png_only: bool = False
                    ) -> list[str]:
    """Write ``layout`` ({subset folder: {class: count}}) under ``root``; returns the keys."""
    classes = sorted({name for per_class in layout.values() for name in per_class})
    keys = []
    for s, (subset, per_class) in enumerate(layout.items()):
        for name, count in per_class.items():
            folder = root / subset / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                suffix = ".png" if png_only else SUFFIXES[i % len(SUFFIXES)]
                size = (24, 32) if i % 4 else (30, 40)
                image = photo(1000 * s + 100 * classes.index(name) + i, classes.index(name), *size)
                Image.fromarray(image).save(folder / f"{name} {i:02d}{suffix}")
                keys.append(f"{subset}/{name}/{name} {i:02d}{suffix}")
    return keys


def damage_bodies(folder: Path) -> list[Path]:
    """Cut every PNG under ``folder`` to 60 % of its bytes and put its IEND back: the header and
    end marker are whole (a scan keeps the file), decoding fails (a reader would name it)."""
    damaged = sorted(folder.rglob("*.png"))
    for path in damaged:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) * 6 // 10] + data[-12:])
    return damaged
