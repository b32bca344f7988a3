"""Synthetic seedling photos: a small, clearly fake colour dataset that needs no download.

Each picture is a seedling seen from above on gravelly soil, like the chapter's Plant Seedlings
photos: leaves in the chapter's four leaf greens (so its colour mask works on them) with a little
variation, a lit and a shaded half, a midrib and a drop shadow, on brownish soil with noise and
pebbles. The class is the leaf shape. Every picture comes from its own seed, so the set is
byte-identical from run to run.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType

import numpy as np

from filterscope.core.base.fileio import make_temp_dir
from filterscope.core.base.jobs import Cancel, Report, check_cancel
from filterscope.core.data.download import move_into_place

LEAF_GREENS = ((71, 86, 38), (65, 79, 19), (95, 106, 56), (56, 63, 43))
LEAF_CLASSES = ("broad", "lobed", "narrow", "round")
LEAVES_PER_CLASS = 40
# Per shape: leaves per plant, leaf length in px, half-width / length, tip roundness, lobes,
# how much the leaf may curve, and the stalk's share of the length.
_SHAPES = {
    "broad": dict(count=(2, 3), length=(34, 50), width=0.42, power=0.7, lobes=0, bend=0.1,
                  stalk=0.12),
    "lobed": dict(count=(3, 5), length=(32, 46), width=0.36, power=0.6, lobes=4, bend=0.1,
                  stalk=0.2),
    "narrow": dict(count=(2, 3), length=(55, 80), width=0.085, power=0.0, lobes=0, bend=0.3,
                   stalk=0.0),
    "round": dict(count=(2, 4), length=(24, 34), width=0.5, power=0.5, lobes=0, bend=0.0,
                  stalk=0.35),
}
# Pebble colours (RGB) and how common each is: sand, pale quartz, red-brown, grey, dark brown.
_PEBBLES = np.array([(168, 146, 116), (196, 182, 158), (150, 108, 78), (128, 122, 112),
                     (104, 84, 62)], float)
_PEBBLE_ODDS = np.array([0.4, 0.15, 0.2, 0.15, 0.1])
_GAP_COLOUR = np.array([64, 50, 38], float)
_SUB = 4  # cv2 sub-pixel precision: coordinates are scaled by 2**2


def _cv2() -> ModuleType:
    """cv2, imported on first use (the demo set is generated once)."""
    from filterscope.core.base.opencv import cv2

    return cv2


def _soil(cv2: ModuleType, rng: np.random.Generator, size: int) -> np.ndarray:
    """Dark earth with slow brightness swells, packed with lit pebbles casting small shadows."""
    swell = cv2.resize(rng.normal(0, 1, (5, 5)), (size, size), interpolation=cv2.INTER_CUBIC)
    img = _GAP_COLOUR * (1 + 0.12 * swell[..., None]) + rng.normal(0, 4, (size, size, 1))
    count = int(rng.integers(200, 280))
    centres = rng.integers(-6, size + 6, (count, 2)).tolist()
    axes = np.stack([rng.integers(3, 10, count), rng.integers(2, 8, count)], 1).tolist()
    colours = (_PEBBLES[rng.choice(5, count, p=_PEBBLE_ODDS)] * rng.normal(1, 0.08, (count, 1))
               + rng.normal(0, 4, (count, 3)))
    angles = rng.uniform(0, 180, count).tolist()
    for (x, y), (ax, ay), colour, angle in zip(centres, axes, colours, angles):
        dark, body, lit = (colour * 0.55).tolist(), colour.tolist(), (colour * 1.1).tolist()
        gx, gy = max(1, ax // 2), max(1, ay // 2)
        cv2.ellipse(img, (x + 1, y + 1), (ax, ay), angle, 0, 360, dark, -1, cv2.LINE_AA)
        cv2.ellipse(img, (x, y), (ax, ay), angle, 0, 360, body, -1, cv2.LINE_AA)
        cv2.ellipse(img, (x - gx // 2 - 1, y - gy // 2 - 1), (gx, gy), angle, 0, 360, lit, -1,
                    cv2.LINE_AA)
    img += rng.normal(0, 4, (size, size, 1))
    return cv2.GaussianBlur(img, (3, 3), 0.8)


def _outline(shape: str, rng: np.random.Generator, base: np.ndarray, angle: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Midrib, left edge and right edge of one leaf, as (60, 2) float arrays of x, y."""
    spec = _SHAPES[shape]
    length = rng.uniform(*spec["length"])
    t = np.linspace(0, 1, 60)
    s = np.clip((t - spec["stalk"]) / (1 - spec["stalk"]), 0, 1)
    if shape == "narrow":  # a grass blade: widest near the base, tapering to the tip
        width = spec["width"] * length * (1 - s) ** 0.6 * np.minimum(1, s * 6 + 0.3)
    else:
        width = spec["width"] * length * np.sin(np.pi * s ** 0.8) ** spec["power"]
    if spec["lobes"]:
        width *= 0.65 + 0.35 * np.abs(np.cos(spec["lobes"] * np.pi * s))
    width = np.maximum(width, 1.5 * (t < spec["stalk"] + 0.02))
    along = np.array([np.cos(angle), np.sin(angle)])
    across = np.array([-along[1], along[0]])
    bend = spec["bend"] * rng.uniform(-1, 1) * length
    midrib = base + np.outer(t * length, along) + np.outer(bend * t**2, across)
    return midrib, midrib + width[:, None] * across, midrib - width[:, None] * across


def _points(xy: np.ndarray) -> np.ndarray:
    return np.round(xy * _SUB).astype(np.int32)


def render_leaf_image(shape: str, rng: np.random.Generator, size: int = 150) -> np.ndarray:
    """One synthetic seedling photo.

    Args:
        shape: One of :data:`LEAF_CLASSES`.
        rng: The picture's own generator (its seed makes the picture).
        size: Width and height in pixels.

    Returns:
        RGB uint8 (size, size, 3).
    """
    cv2 = _cv2()
    img = _soil(cv2, rng, size)
    spec = _SHAPES[shape]
    base = np.array([size / 2, size / 2]) + rng.normal(0, size / 15, 2)
    count = int(rng.integers(spec["count"][0], spec["count"][1] + 1))
    first, light = rng.uniform(0, 2 * np.pi, 2)
    angles = first + 2 * np.pi * np.arange(count) / count + rng.normal(0, 0.25, count)
    leaves = [(a, _outline(shape, rng, base, a)) for a in angles]
    shadow = np.zeros((size, size), np.float64)
    for _, (midrib, left, right) in leaves:
        blade = np.concatenate([left, right[::-1]]) + (3, 4)
        cv2.fillPoly(shadow, [_points(blade)], 1.0, cv2.LINE_AA, shift=2)
    img *= 1 - 0.45 * cv2.GaussianBlur(shadow, (7, 7), 0)[..., None]
    for angle, (midrib, left, right) in leaves:
        green = np.array(LEAF_GREENS[rng.integers(0, 4)], float) + rng.normal(0, 5, 3)
        facing = np.cos(angle + np.pi / 2 - light)
        for edge, side in ((left, 1), (right, -1)):
            half = np.concatenate([midrib, edge[::-1]])
            colour = green * (1 + 0.09 * side * facing)
            cv2.fillPoly(img, [_points(half)], colour.tolist(), cv2.LINE_AA, shift=2)
        cv2.polylines(img, [_points(midrib[5:-8])], False, (green * 1.1).tolist(), 1,
                      cv2.LINE_AA, shift=2)
    ramp = np.linspace(-1, 1, size)
    lighting = 1 + 0.06 * (np.cos(light) * ramp[None, :] + np.sin(light) * ramp[:, None])
    img = img * lighting[..., None] + rng.normal(0, 2.5, img.shape)
    img = cv2.GaussianBlur(img, (3, 3), 0.6)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 image (written with Path.write_bytes: unicode-path safe)."""
    cv2 = _cv2()
    ok, buffer = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    return buffer.tobytes()


def generate_leaves(dest: Path, *, report: Report, cancel: Cancel, seed: int = 0,
                    per_class: int = LEAVES_PER_CLASS, size: int = 150) -> Path:
    """Write ``<dest>/<class>/<class>_NNN.png`` seedling pictures, atomically.

    Pictures are drawn in a hidden folder beside ``dest`` that replaces ``dest`` only when all
    are written; each comes from the seed ``(seed, class index, item index)``.

    Args:
        dest: The dataset folder to create (or replace).
        report: Progress per picture.
        cancel: Polled before each picture.
        seed: Base seed; the same seed gives byte-identical files.
        per_class: Pictures per class.
        size: Width and height in pixels.

    Returns:
        ``dest``.

    Raises:
        Cancelled: ``cancel`` was set; ``dest`` is as it was and no temporary folder remains.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(dest.parent, f".{dest.name}.", ".generating")
    total = per_class * len(LEAF_CLASSES)
    try:
        for class_index, name in enumerate(LEAF_CLASSES):
            (tmp / name).mkdir()
            for item in range(per_class):
                check_cancel(cancel)
                rng = np.random.default_rng([seed, class_index, item])
                png = encode_png(render_leaf_image(name, rng, size))
                (tmp / name / f"{name}_{item:03d}.png").write_bytes(png)
                done = class_index * per_class + item + 1
                report.progress(done / total, f"drawing seedling {done} of {total}")
        move_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest
