"""Benchmark fixtures: a 50,000-image folder-per-class tree, and ``paired`` timing.

Run the benchmarks with ``python -m pytest tests/benchmarks --benchmark-only -p no:cacheprovider -s``
(the default run skips them). The tree is made once per session.

The images are real PNG and JPEG files (64-150 px, smooth random colour fields with a little noise,
so they compress like small photos rather than like pure noise). Generation runs in a process pool
and takes about a minute on two cores. ``FILTERSCOPE_BENCH_DATA=<folder>`` keeps the tree
between sessions (it is reused when its marker file says it is complete).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import statistics
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.datasets import Dataset, scan_folder

N_IMAGES = 50_000
N_CLASSES = 12
_CHUNK = 1_000
_MARKER = ".complete-v2"


def _write_chunk(args: tuple[str, int, int]) -> int:
    """Writes images start..stop-1 (deterministic per index); returns how many were written."""
    import cv2  # only in the spawned workers: importing cv2 repoints QT_QPA_PLATFORM_PLUGIN_PATH

    root, start, stop = Path(args[0]), args[1], args[2]
    for index in range(start, stop):
        rng = np.random.default_rng(index)
        width, height = (int(v) for v in rng.integers(64, 151, size=2))
        coarse = rng.integers(0, 256, size=(int(rng.integers(3, 9)), int(rng.integers(3, 9)), 3),
                              dtype=np.uint8)
        field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        noise = rng.integers(-12, 13, size=field.shape, dtype=np.int16)
        bgr = np.clip(field.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        if (index // N_CLASSES) % 2:  # alternates within every class folder
            suffix, params = ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 90]
        else:
            suffix, params = ".png", [cv2.IMWRITE_PNG_COMPRESSION, 3]
        ok, data = cv2.imencode(suffix, bgr, params)
        assert ok, f"encoding image {index} failed"
        folder = root / f"class_{index % N_CLASSES:02d}"
        (folder / f"img_{index:05d}{suffix}").write_bytes(data.tobytes())
    return stop - start


def make_tree(root: Path, count: int = N_IMAGES) -> Path:
    """Writes ``count`` images into N_CLASSES class folders under ``root``, a process per core."""
    for label in range(N_CLASSES):
        (root / f"class_{label:02d}").mkdir(parents=True, exist_ok=True)
    chunks = [(str(root), start, min(start + _CHUNK, count)) for start in range(0, count, _CHUNK)]
    # spawn, not fork: the session may already hold a QApplication and its threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(2, os.cpu_count() or 2), mp_context=context) as pool:
        written = sum(pool.map(_write_chunk, chunks))
    assert written == count
    (root / _MARKER).write_text(str(count))
    return root


@pytest.fixture(scope="session")
def image_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 50,000-image tree (12 classes, PNG and JPEG alternating)."""
    keep = os.environ.get("FILTERSCOPE_BENCH_DATA")
    root = Path(keep) if keep else tmp_path_factory.mktemp("bench") / "fifty-thousand"
    marker = root / _MARKER
    if not (marker.is_file() and marker.read_text() == str(N_IMAGES)):
        make_tree(root)
    return root


@pytest.fixture(scope="session")
def image_paths(image_tree: Path) -> list[Path]:
    """Every image file of the tree, in scan order (class folder, then name)."""
    return sorted(p for p in image_tree.glob("class_*/*") if p.is_file())


@pytest.fixture(scope="session")
def warm_tree(image_paths: list[Path]) -> list[Path]:
    """The image paths, after reading every file once so both timed paths see a warm page cache."""
    for path in image_paths:
        path.read_bytes()
    return image_paths


@pytest.fixture(scope="session")
def scanned(image_tree: Path) -> Dataset:
    """The tree scanned into a Dataset (every file a readable image)."""
    dataset = scan_folder(image_tree, report=NullReport(), cancel=threading.Event())
    assert len(dataset) == N_IMAGES
    return dataset


def run_paired(benchmark, project: Callable[[], float], reference: Callable[[], float], *,
               rounds: int, warmup_rounds: int = 0) -> tuple[list[float], list[float]]:
    """Times the project's path and the reference path alternately, in the same run.

    pytest-benchmark times ``project``; ``reference`` runs as each round's untimed setup, so the
    two alternate and see the same machine state. Each callable returns the seconds it measured
    itself (a subprocess's time to a printed line, say). Warm-up rounds are dropped; medians,
    every round and the ratio project/reference go into ``benchmark.extra_info``.

    Returns:
        The project's and the reference's per-round seconds.
    """
    project_s: list[float] = []
    reference_s: list[float] = []
    benchmark.pedantic(lambda: project_s.append(project()),
                       setup=lambda: reference_s.append(reference()),
                       rounds=rounds, warmup_rounds=warmup_rounds, iterations=1)
    project_s, reference_s = project_s[warmup_rounds:], reference_s[warmup_rounds:]
    benchmark.extra_info.update({
        "project_s": [round(s, 4) for s in project_s],
        "reference_s": [round(s, 4) for s in reference_s],
        "project_median_s": round(statistics.median(project_s), 4),
        "reference_median_s": round(statistics.median(reference_s), 4),
        "ratio": round(statistics.median(project_s) / statistics.median(reference_s), 4),
    })
    return project_s, reference_s


@pytest.fixture
def paired(benchmark) -> Callable[..., tuple[list[float], list[float]]]:
    """``run_paired`` bound to this test's ``benchmark``."""
    return functools.partial(run_paired, benchmark)
