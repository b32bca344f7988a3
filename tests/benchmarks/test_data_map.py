"""The map of the data: 10,000 photos embedded, and the view's interactions on 10,000 points.

(a) :func:`embed` (PCA-50, t-SNE of a 3,000-point sample, the rest placed by their nearest) of
    10,000 synthetic 1280-d feature vectors around 12 class centres, against the reference path in
    the same run, plain PCA to 2-D: the ratio, the seconds (issue target: < 60 s on two cores) and
    how well each keeps the classes apart (10-nearest-neighbour agreement with the labels in 2-D;
    checked). (b) The same on the real shared seedlings (4,027 photos; their EfficientNet-Lite0
    features are computed first, a few minutes, into ``FILTERSCOPE_BENCH_FEATURES`` or a temporary
    cache). (c) The view: hover moves, wheel zooms (a full redraw) and a lasso on 10,000 points,
    each painted synchronously (the photos of the fake paths fail to load, so dots only), then hover
    and zoom again with every point's photo in the cache (the most thumbnails there can be drawn);
    the slowest against the issue's 100 ms, and the ratio of a redraw to the reference path, a bare
    QPainter loop drawing the same 10,000 dots.

Two cores; the 1-minute load average is printed with every figure.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.thumbnails import Thumbnail
from filterscope.core.quality.embedding import DataMap, embed, features_map
from filterscope.ui.widgets import map_thumbnails
from filterscope.ui.widgets.data_map import DataMapWidget
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from sklearn.decomposition import PCA

from tests.core.test_quality_map import clusters, knn_agreement

N = 10_000
TARGET_S, TARGET_MS = 60.0, 100.0
JOB = {"report": NullReport(), "cancel": threading.Event()}


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


@pytest.mark.timeout(900)
def test_embed_10000_points_against_plain_pca(benchmark) -> None:
    x, labels = clusters(N, 12, d=1280, spread=0.12)
    start = time.perf_counter()
    reference = PCA(2, random_state=0).fit_transform(x)
    pca_s = time.perf_counter() - start
    xy = benchmark.pedantic(lambda: embed(x, **JOB), rounds=1, iterations=1)
    seconds = benchmark.stats.stats.max
    ours, theirs = knn_agreement(xy, labels), knn_agreement(reference, labels)
    benchmark.extra_info.update({"seconds": round(seconds, 1), "pca_seconds": round(pca_s, 2),
                                 "ratio": round(seconds / pca_s, 1), "knn_map": ours, "knn_pca": theirs})
    print(f"\nmap of {N:,} 1280-d points: {seconds:.1f} s (target < {TARGET_S:.0f} s), plain PCA "
          f"{pca_s:.2f} s, ratio {seconds / pca_s:.0f}; 10-NN agreement with the classes in 2-D: map "
          f"{ours:.3f}, PCA {theirs:.3f} (chance {1 / 12:.3f}); {_load()}")
    assert ours > 0.75 and ours > theirs + 0.2  # on 3,000 such points: PCA-2 0.29, PCA-50 0.83


@pytest.mark.timeout(1800)
def test_map_of_the_shared_seedlings(benchmark, shared_plants: Path, tmp_path: Path) -> None:
    from filterscope.core.quality.features import dataset_features

    folder = shared_plants.parent / "plant-seedlings-150-train"
    if not folder.is_dir():
        pytest.skip(f"{folder} is not on this machine")
    cache = os.environ.get("FILTERSCOPE_BENCH_FEATURES") or tmp_path / "cache"
    start = time.perf_counter()
    found = dataset_features(folder, cache_dir=cache, **JOB)
    features_s = time.perf_counter() - start
    data_map = benchmark.pedantic(lambda: features_map(found, **JOB), rounds=1, iterations=1)
    reference = PCA(2, random_state=0).fit_transform(found.features)
    ours, theirs = knn_agreement(data_map.xy, found.labels), knn_agreement(reference, found.labels)
    print(f"\nmap of the {len(found):,} shared seedlings: {benchmark.stats.stats.max:.1f} s after "
          f"{features_s:.0f} s of features; 10-NN class agreement map {ours:.3f}, PCA {theirs:.3f}; {_load()}")
    assert ours > theirs


def _bare_dots(view: DataMapWidget, xy: np.ndarray) -> float:
    """The reference: a plain QPainter loop, one ellipse per point, into an image of the view's size."""
    image = QImage(view.width(), view.height(), QImage.Format.Format_ARGB32_Premultiplied)
    start = time.perf_counter()
    painter = QPainter(image)
    painter.setBrush(QColor("#1f77b4"))
    for x, y in view.to_widget(xy):
        painter.drawEllipse(QPointF(x, y), 2.5, 2.5)
    painter.end()
    return time.perf_counter() - start


def test_view_interactions_on_10000_points(benchmark, qtbot, monkeypatch) -> None:
    x, labels = clusters(N, 12, d=8, spread=2.0)
    rng = np.random.default_rng(0)
    xy = (x[:, :2] - x[:, :2].min(0)) / np.ptp(x[:, :2], 0).max()
    data_map = DataMap(xy.astype(np.float32), [f"/p/{i}.png" for i in range(N)], labels, np.array(["train"] * N),
                       [f"c{i}" for i in range(12)], rng.integers(0, 12, N).astype(np.int32))
    view = DataMapWidget()
    qtbot.addWidget(view)
    view.resize(1000, 650)
    view.show()
    qtbot.waitExposed(view)
    view.set_map(data_map)
    view.repaint()
    timings: dict[str, list[float]] = {"hover": [], "zoom": [], "lasso": [], "colour": [],
                                       "hover, photos": [], "zoom, photos": []}

    def timed(kind: str, act) -> None:
        start = time.perf_counter()
        act()
        view.repaint()
        timings[kind].append(time.perf_counter() - start)

    def interact() -> None:
        for i in range(60):
            timed("hover", lambda i=i: qtbot.mouseMove(view, QPoint(200 + 9 * i, 150 + 5 * i)))
        for step in (1, 1, 1, -1, -1, -1):
            timed("zoom", lambda step=step: view.zoom_by(1.25 ** step, QPointF(500, 320)))
        for mode in ("prediction", "right/wrong", "class"):
            timed("colour", lambda mode=mode: view.set_colour_mode(mode))

        def lasso() -> None:
            qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
            for px, py in ((900, 100), (900, 550), (100, 550), (100, 100)):
                qtbot.mouseMove(view, QPoint(px, py))
            qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
        timed("lasso", lasso)

    benchmark.pedantic(interact, rounds=1, iterations=1)
    selected = len(view.selected())
    # the same with every point's photo in the cache: the thumbnails drawn are the most there can be
    monkeypatch.setattr(map_thumbnails, "CACHED", N)
    view.select(np.zeros(0, np.int64))
    photo = np.random.default_rng(1).integers(0, 255, (33, 44, 3), np.uint8)
    view.thumbnails.add([Thumbnail(i, photo, None) for i in range(N)])
    view.repaint()
    for i in range(30):
        timed("hover, photos", lambda i=i: qtbot.mouseMove(view, QPoint(200 + 9 * i, 150 + 5 * i)))
    drawn = 0
    for step in (1, 1, 1, 1, -1, -1, -1, -1):
        timed("zoom, photos", lambda step=step: view.zoom_by(1.25 ** step, QPointF(500, 320)))
        drawn = max(drawn, len(view.drawn_thumbnails()))
    bare = min(_bare_dots(view, data_map.xy) for _ in range(3))
    worst = {kind: 1000 * max(values) for kind, values in timings.items()}
    redraw = min(timings["zoom"])
    benchmark.extra_info.update({"worst_ms": worst, "bare_dots_ms": 1000 * bare, "ratio": redraw / bare})
    median = {kind: 1000 * float(np.median(values)) for kind, values in timings.items()}
    print(f"\nview of {N:,} points, median / slowest per interaction (ms, target < {TARGET_MS:.0f}): "
          + ", ".join(f"{k} {median[k]:.1f} / {v:.1f}" for k, v in worst.items())
          + f"; a full redraw {1000 * redraw:.1f} ms against a bare QPainter loop {1000 * bare:.1f} ms "
          f"(ratio {redraw / bare:.2f}); lasso selected {selected:,}; at most {drawn} photos drawn; {_load()}")
    assert selected > 0.5 * N and drawn > 50
