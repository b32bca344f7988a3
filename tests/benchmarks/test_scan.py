"""Scanning 50,000 files against decoding them all.

Target (issue): ``scan_folder`` at least 5x faster than decoding every image.

The reference decodes each file with ``filterscope.core.images.read_image``: Pillow, like the
chapter's Keras generator (``keras.utils.load_img`` is Pillow too). One round of what
``load_img`` + ``img_to_array`` do per file (open, convert to RGB, float32 array; no resize), done
with Pillow alone so TensorFlow stays out of this process, is reported as ``keras_like_decode_s``;
on small images it is a little faster than ``read_image``, which also checks the file, EXIF
orientation and bit depth. Every file is read once beforehand, so both paths see a warm page cache.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.datasets import scan_folder
from filterscope.core.data.images import read_image
from PIL import Image

TARGET_SPEED_UP = 5.0
ROUNDS = 3


def _keras_like_decode(paths: list[Path]) -> None:
    """What keras.utils.load_img + img_to_array do per file (no resizing)."""
    for path in paths:
        with Image.open(path) as im:
            np.asarray(im.convert("RGB"), dtype=np.float32)


@pytest.mark.timeout(1800)
def test_scan_vs_decode_all(paired, benchmark, image_tree: Path, warm_tree: list[Path]) -> None:
    found: list[int] = []

    def project() -> float:
        start = time.perf_counter()
        dataset = scan_folder(image_tree, report=NullReport(), cancel=threading.Event())
        elapsed = time.perf_counter() - start
        found.append(len(dataset))
        return elapsed

    def reference() -> float:
        start = time.perf_counter()
        for path in warm_tree:
            read_image(path)
        return time.perf_counter() - start

    scan_s, decode_s = paired(project, reference, rounds=ROUNDS)
    start = time.perf_counter()
    _keras_like_decode(warm_tree)
    keras_like = time.perf_counter() - start
    speed_up = statistics.median(decode_s) / statistics.median(scan_s)
    benchmark.extra_info.update({"files": len(warm_tree), "speed_up": round(speed_up, 3),
                                 "keras_like_decode_s": round(keras_like, 3),
                                 "target_speed_up": TARGET_SPEED_UP})
    per_file = 1e6 / len(warm_tree)
    print(f"\nscan {len(warm_tree):,} files: {1000 * statistics.median(scan_s):.0f} ms "
          f"({statistics.median(scan_s) * per_file:.0f} us/file, rounds "
          f"{[round(1000 * s) for s in scan_s]}); read_image all: "
          f"{1000 * statistics.median(decode_s):.0f} ms ({statistics.median(decode_s) * per_file:.0f} "
          f"us/file, rounds {[round(1000 * s) for s in decode_s]}); speed-up {speed_up:.2f}x "
          f"(target >= {TARGET_SPEED_UP}x); Keras-like decode {1000 * keras_like:.0f} ms "
          f"({keras_like / statistics.median(scan_s):.2f}x the scan)")
    assert found and all(n == len(warm_tree) for n in found)
    assert speed_up >= TARGET_SPEED_UP
