"""The Results tab on a run trained on the built-in MNIST (digits held in memory, not files):
the gallery of misclassified digits shows the digits themselves, not the broken-image cross, and
Why? explains one of them."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.images import to_rgb
from filterscope.core.data.source import BuiltinSource
from filterscope.core.data.sources import open_source
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.widgets.results_gallery import ROW_ROLE
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from tests.results_runs import copy_run
from tests.ui.screen import evaluate, results_tab

WAIT_MS = 120_000
SHOWN = 6  # gallery images checked


def _rgb(pixmap) -> np.ndarray:
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 3].reshape(image.height(), image.width(), 3)


@pytest.fixture
def tab(qtbot, mnist_run: Path, tmp_path: Path) -> ResultsTab:
    run = copy_run(mnist_run, tmp_path / "runs" / mnist_run.name)
    return results_tab(qtbot, run.parent, (1280, 720))


def test_the_gallery_shows_the_digits_and_why_explains_one(qtbot, tab) -> None:
    ev = evaluate(qtbot, tab)
    assert ev.eval_set["source"] == "builtin:mnist" and len(ev.rows.wrong()) >= SHOWN
    model = tab.gallery.model()
    loading = model.data(model.index(0), Qt.ItemDataRole.DecorationRole).cacheKey()

    def decorations():
        return [model.data(model.index(i), Qt.ItemDataRole.DecorationRole) for i in range(SHOWN)]

    qtbot.waitUntil(lambda: all(p.cacheKey() != loading for p in decorations()), timeout=WAIT_MS)
    digits = open_source(BuiltinSource("mnist"), report=NullReport(), cancel=threading.Event())
    index = {key: i for i, key in enumerate(digits.keys)}
    for i, pixmap in enumerate(decorations()):
        row = model.data(model.index(i), ROW_ROLE)
        assert "no thumbnail" not in model.data(model.index(i), Qt.ItemDataRole.ToolTipRole)
        # the digit itself, not the cross: 28 x 28 shown 3 x larger in whole pixels (96 px cells)
        digit = to_rgb(digits.pixels[index[ev.rows.paths[row]]])
        assert np.array_equal(_rgb(pixmap), digit.repeat(3, axis=0).repeat(3, axis=1))

    tab.gallery.setCurrentIndex(model.index(0))
    assert not tab.images.open_button.isEnabled()  # a digit held in memory has no folder to open
    why = tab.images.why
    with qtbot.waitSignal(why.runner.sig_finished, timeout=WAIT_MS):
        tab.images.why_button.click()
    row = tab.gallery.current_row()
    photo, first, second = why.titles()
    assert photo == Path(ev.rows.paths[row]).name and first.startswith("predicted:\n")
    assert second.startswith(f"true:\n{ev.classes[ev.rows.true[row]]} (")
    cams = why.explanation().cams
    assert cams[0].image.batch.shape == (1, 28, 28, 1)
    assert np.array_equal(cams[0].image.seen, to_rgb(digits.pixels[index[ev.rows.paths[row]]]))
    assert all(np.isfinite(c.heatmap).all() for c in cams)
