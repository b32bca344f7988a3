"""The Augment paths against the chapter's bare imgaug calls, timed in the same run.

Targets (issue), each as "the app's median time / the bare imgaug median time":

(a) training's augmentation of a 32-image 150x150 batch: ``BatchAugmenter`` with the chapter
    chain, built once, against the chapter's ``iaa.Sequential`` (written by hand, as in the
    chapter) and ``seq.augment_images(batch)``: ratio <= 1.2. Both are seeded alike, so every
    round does the same work and produces the same pixels (checked);
(b) a preview refresh of 16 150x150 images, as the Augment tab does on every change:
    ``preview(...)`` including building the Sequential from the spec, against one bare imgaug
    call on 16 images with a prebuilt Sequential. The ratio and the frames per second of a slider
    drag are reported; no target. The model view (a pipeline batch of 4 digits) is reported.

Two cores; the 1-minute load average is printed with every figure.
"""

from __future__ import annotations

import os
import statistics
import threading
import time

import numpy as np
from filterscope.core.augment.build import BatchAugmenter, build_sequential
from filterscope.core.augment.chain import builtin_chain
from filterscope.core.augment.preview import preview
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.source import BuiltinSource
from filterscope.core.data.sources import open_source
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.pipeline import preview_batch

from tests.chapter_reference import chapter_sequential
from tests.photos import smooth_photo

CHAPTER = builtin_chain("chapter")
SEED = 1234


def photos(n: int, side: int = 150, seed: int = 0) -> np.ndarray:
    """Photo-like uint8 images: smooth colour fields with a little noise."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        coarse = rng.integers(0, 256, size=(5, 5, 3), dtype=np.uint8)
        out.append(smooth_photo(rng, coarse, side, side, noise=12))
    return np.stack(out)


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _report(benchmark, name: str, app_s: list[float], ref_s: list[float],
            target: float | None) -> float:
    app, ref = statistics.median(app_s), statistics.median(ref_s)
    ratio = app / ref
    benchmark.extra_info.update({"target_ratio": target, "fps": round(1 / app, 1),
                                 "load_average_1min": round(os.getloadavg()[0], 2)})
    goal = f"target <= {target:g}: {'met' if ratio <= target else 'NOT met'}" if target else "no target"
    print(f"\n{name}: app {1000 * app:.1f} ms, bare imgaug {1000 * ref:.1f} ms -> ratio {ratio:.3f} "
          f"({goal}); rounds app {[round(1000 * s, 1) for s in app_s]} ms, "
          f"imgaug {[round(1000 * s, 1) for s in ref_s]} ms; load {os.getloadavg()[0]:.2f}")
    return ratio


def test_a_training_batch_of_32(paired, benchmark) -> None:
    batch = photos(32)
    app_aug = BatchAugmenter(CHAPTER, SEED)
    reference = chapter_sequential()
    reference.seed_(SEED)
    last: dict[str, np.ndarray] = {}
    mismatches = []

    def bare() -> float:
        seconds, last["ref"] = _timed(lambda: reference.augment_images(batch))
        return seconds

    def app() -> float:
        seconds, out = _timed(lambda: app_aug(batch))
        if not np.array_equal(out, last["ref"]):
            mismatches.append(len(mismatches))
        return seconds

    app_s, ref_s = paired(app, bare, rounds=40, warmup_rounds=3)
    assert not mismatches, "the app and the chapter's chain drew different augmentations"
    ratio = _report(benchmark, "(a) training batch, 32 x 150x150, chapter chain", app_s, ref_s, 1.2)
    per_image = 1000 * statistics.median(app_s) / len(batch)
    benchmark.extra_info["app_ms_per_image"] = round(per_image, 3)
    print(f"    {per_image:.2f} ms per image, {len(batch) / statistics.median(app_s):.0f} images/s "
          "on one core")
    assert ratio <= 1.2


def test_b_preview_refresh_of_16(paired, benchmark) -> None:
    shown = list(photos(16, seed=1))
    batch = np.stack(shown)
    reference = chapter_sequential()
    last: dict[str, np.ndarray] = {}
    mismatches = []

    def bare() -> float:
        reference.seed_(SEED)  # the tab keeps its seed while a slider moves: the same draws
        seconds, last["ref"] = _timed(lambda: reference.augment_images(batch))
        return seconds

    def app() -> float:
        seconds, out = _timed(lambda: preview(shown, CHAPTER, 16, SEED, report=NullReport(),
                                              cancel=threading.Event()))
        if not np.array_equal(np.stack(out), last["ref"]):
            mismatches.append(len(mismatches))
        return seconds

    app_s, ref_s = paired(app, bare, rounds=40, warmup_rounds=3)
    assert not mismatches, "the preview and the chapter's chain drew different augmentations"
    build_s = statistics.median(_timed(lambda: build_sequential(CHAPTER, SEED))[0] for _ in range(30))
    ratio = _report(benchmark, "(b) preview refresh, 16 x 150x150, chapter chain (builds the chain)",
                    app_s, ref_s, None)
    fps = 1 / statistics.median(app_s)
    benchmark.extra_info["build_sequential_ms"] = round(1000 * build_s, 3)
    line = (f"    a slider drag: {fps:.0f} previews/s ({1000 * statistics.median(app_s):.0f} ms each, "
            f"of which building the chain {1000 * build_s:.1f} ms)")
    # The tab's model view: a batch of 4 from the training pipeline (MNIST, chapter chain).
    digits = open_source(BuiltinSource("mnist"), report=NullReport(), cancel=threading.Event())
    spec = DataSpec(digits.source, seed=SEED, chain=CHAPTER.to_json())

    def model_view() -> None:
        preview_batch(digits, spec, [0, 1, 2, 3], report=NullReport(), cancel=threading.Event())

    model_view()  # imports TensorFlow once, as the tab does in the background
    view_s = statistics.median(_timed(model_view)[0] for _ in range(15))
    benchmark.extra_info["model_view_ms"] = round(1000 * view_s, 2)
    line += f"; the model's view (pipeline batch of 4): {1000 * view_s:.0f} ms"
    print(line)
    assert ratio < 2, "a preview should cost little more than the imgaug call itself"
