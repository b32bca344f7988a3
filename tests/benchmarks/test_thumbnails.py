"""Browsing 50,000 thumbnails: resident memory grows by under 300 MB.

A real ThumbnailGridWidget (800x600, offscreen) shows the 50,000-image dataset and is scrolled
through from top to bottom one page at a time by setting its vertical scroll bar; at each step the
test waits until every visible thumbnail has been made. RSS (psutil) is read after the first
screen is filled and again at the end (after a garbage collection); its peak is sampled at every
step. There is no browsing path in the chapter to run beside it, so the reference figure is
computed, not measured: what the same thumbnails would take if all were kept (made x 96x96x4
bytes), the cost the grid's bounded cache avoids.

Also reported: the time per page step (how fast the grid fills) and the longest stall of the GUI
thread while browsing, seen by a 5 ms timer (QListView's relayout on every dataChanged once froze
it for up to ~0.5 s at a time at 50,000 rows).
"""

from __future__ import annotations

import gc
import time

import psutil
import pytest
from filterscope.ui.widgets.thumbnail_grid import CACHE_BYTES, THUMB_SIZE, ThumbnailGridWidget
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

TARGET_GROWTH_MB = 300.0
MB = 1024 * 1024


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / MB


def _all_visible_made(grid: ThumbnailGridWidget) -> bool:
    first, last = grid.visible_rows()
    return first >= 0 and not grid.thumbs.missing(first, last)


@pytest.mark.timeout(1800)
def test_browse_all_thumbnails(benchmark, qtbot, scanned) -> None:
    grid = ThumbnailGridWidget()
    qtbot.addWidget(grid)
    made = [0]
    grid.runner.sig_partial.connect(lambda batch: made.__setitem__(0, made[0] + len(batch)))
    grid.resize(800, 600)
    grid.set_dataset(scanned)
    grid.show()
    qtbot.waitExposed(grid)
    qtbot.waitUntil(lambda: _all_visible_made(grid), timeout=10_000)
    bar = grid.verticalScrollBar()
    gc.collect()
    QApplication.processEvents()
    before = _rss_mb()
    peak = [before]
    steps = list(range(0, bar.maximum() + 1, bar.pageStep()))
    if steps[-1] != bar.maximum():
        steps.append(bar.maximum())
    max_cached = [0]
    ticks: list[float] = []
    ticker = QTimer(interval=5)
    ticker.timeout.connect(lambda: ticks.append(time.perf_counter()))

    def browse() -> float:
        ticker.start()
        start = time.perf_counter()
        for value in steps:
            bar.setValue(value)
            qtbot.waitUntil(lambda: _all_visible_made(grid), timeout=10_000)
            peak[0] = max(peak[0], _rss_mb())
            max_cached[0] = max(max_cached[0], grid.thumbs.cached_count())
        ticker.stop()
        return time.perf_counter() - start

    try:
        seconds = benchmark.pedantic(browse, rounds=1, iterations=1)
        last_row = grid.visible_rows()[1]
    finally:
        assert grid.runner.shutdown(), "the thumbnail job did not stop"
    gc.collect()
    QApplication.processEvents()
    after = _rss_mb()
    growth, peak_growth = after - before, peak[0] - before
    stall_ms = 1000 * max(b - a for a, b in zip(ticks, ticks[1:]))
    pixmap_bytes = THUMB_SIZE * THUMB_SIZE * 4
    limit = CACHE_BYTES // pixmap_bytes  # the cache's byte budget, in full-size pixmaps
    kept_all_mb = made[0] * pixmap_bytes / MB
    benchmark.extra_info.update({
        "rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1),
        "growth_mb": round(growth, 1), "peak_growth_mb": round(peak_growth, 1),
        "thumbnails_made": made[0], "steps": len(steps), "browse_s": round(seconds, 2),
        "step_ms": round(1000 * seconds / len(steps), 1), "longest_gui_stall_ms": round(stall_ms, 1),
        "max_cached": max_cached[0], "cache_limit": limit,
        "reference_keep_all_mb": round(kept_all_mb, 1), "target_growth_mb": TARGET_GROWTH_MB,
    })
    print(f"\nbrowse {len(scanned):,} thumbnails in {len(steps)} page steps, {seconds:.1f} s "
          f"({1000 * seconds / len(steps):.0f} ms/step, longest GUI stall {stall_ms:.0f} ms); "
          f"{made[0]:,} thumbnails made; RSS "
          f"{before:.0f} -> {after:.0f} MB (growth {growth:.1f} MB, peak growth "
          f"{peak_growth:.1f} MB; target < {TARGET_GROWTH_MB:.0f} MB); cache held at most "
          f"{max_cached[0]} (limit {limit}); keeping every thumbnail would take "
          f"{kept_all_mb:.0f} MB")
    assert last_row == len(scanned) - 1, "the scroll did not reach the last thumbnail"
    assert made[0] >= len(scanned)
    assert max_cached[0] <= limit
    assert growth < TARGET_GROWTH_MB
