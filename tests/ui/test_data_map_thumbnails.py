"""The map drawn with thumbnails (level of detail, loaded in a job) and the Dataset tab's lasso
selection copied and saved."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from filterscope.core.base.opencv import cv2
from filterscope.core.data.source import FolderSource
from filterscope.core.quality.embedding import DataMap
from filterscope.ui.widgets.data_map import DataMapWidget, class_colour
from filterscope.ui.widgets.data_map_panel import DataMapPanel
from filterscope.ui.widgets.map_thumbnails import SIZE, pick
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from tests.ui.test_data_map import grid_map


def colour_of(point: int) -> tuple[int, int, int]:
    """A photo colour per point, unlike any class colour: (R, G, B)."""
    return 20 + 6 * point, 250 - 5 * point, 120


def photo_map(folder: Path) -> DataMap:
    """The 6 x 6 grid map of :func:`grid_map`, each point a solid-colour 60x40 photo in ``folder``."""
    data_map = grid_map()
    for i in range(len(data_map)):
        path = folder / data_map.classes[data_map.labels[i]] / f"{i:02d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        r, g, b = colour_of(i)
        cv2.imwrite(str(path), np.full((40, 60, 3), (b, g, r), np.uint8))
        data_map.paths[i] = str(path)
    data_map.source = FolderSource.at(folder).to_json()
    return data_map


def shown(view: DataMapWidget) -> dict[int, tuple[float, float]]:
    view.repaint()
    return view.drawn_thumbnails()


def test_zoomed_in_every_point_on_screen_shows_its_photo_from_the_job(qtbot, tmp_path: Path) -> None:
    view = DataMapWidget()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    qtbot.waitExposed(view)
    view.set_map(photo_map(tmp_path / "data"))
    assert shown(view) == {} and view.thumbnails.loaded() == []  # nothing read on the GUI thread
    with qtbot.waitSignal(view.thumbnails.runner.sig_running, check_params_cb=lambda busy: not busy, timeout=10_000):
        qtbot.waitUntil(lambda: bool(shown(view)), timeout=10_000)
    sample = shown(view)
    assert 0 < len(sample) < 36  # zoomed out: a spread-out sample (cells 3 thumbnails wide), not all 36
    view.zoom_by(3.0, QPointF(*view.to_widget(view.data_map().xy[[14]])[0]))
    px = view.to_widget(view.data_map().xy)
    on_screen = {i for i, (x, y) in enumerate(px) if 0 <= x < 400 and 0 <= y < 400}
    qtbot.waitUntil(lambda: set(shown(view)) == on_screen, timeout=10_000)
    assert 14 in on_screen and len(on_screen) >= 4
    image = view.grab().toImage()
    for point, (x, y) in shown(view).items():
        assert QColor(image.pixel(round(x), round(y))).getRgb()[:3] == colour_of(point)  # the photo, not a dot
        corner = QColor(image.pixel(round(x - SIZE / 2 - 1), round(y)))  # the frame, in the point's class colour
        assert corner.name() == class_colour(int(view.data_map().labels[point])).name()
    x, y = shown(view)[14]
    assert view.point_at(QPointF(x + SIZE / 2 - 2, y + 10)) == 14  # the whole photo hovers its point
    view.set_thumbnails(False)
    assert shown(view) == {}
    assert QColor(view.grab().toImage().pixel(round(x), round(y))).getRgb()[:3] != colour_of(14)
    view.set_map(None)
    assert view.thumbnails.loaded() == []


def test_the_pick_is_on_screen_without_overlap_and_grows_with_zoom() -> None:
    xy = np.random.default_rng(1).random((10_000, 2))
    order = np.random.default_rng(0).permutation(10_000)
    counts, on_screen = [], 0
    for zoom in (1.0, 4.0, 20.0):
        scale = 600 * zoom
        px = (xy - 0.5) * scale + [400, 300]
        chosen = pick(px, xy, order, scale, zoom, 800, 600)
        at = px[chosen]
        gaps = np.abs(at[:, None] - at[None]).max(-1) + np.eye(len(at)) * 1e9
        assert gaps.min() >= SIZE  # no two photos overlap
        assert ((at > -SIZE / 2) & (at < [800 + SIZE / 2, 600 + SIZE / 2])).all()
        counts.append(len(chosen))
        on_screen = int(((px > 0) & (px < [800, 600])).all(1).sum())
    assert 10 < counts[0] < counts[1] <= (800 // SIZE + 2) * (600 // SIZE + 2)  # zoomed out: a sample
    assert counts[2] >= 0.8 * on_screen and on_screen > 10  # zoomed in: (nearly) every point on screen


def test_a_dataset_selection_is_copied_and_saved_outside_the_dataset(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    data_map = photo_map(folder)
    panel = DataMapPanel()
    qtbot.addWidget(panel)
    panel.set_source(FolderSource.at(folder))
    panel.set_map(data_map)
    assert not panel.copy_button.isEnabled() and not panel.save_button.isEnabled()
    panel.view.select(np.array([3, 7, 30]))
    assert panel.copy_button.isEnabled() and panel.save_button.isEnabled()
    panel.copy_button.click()
    assert QApplication.clipboard().text().splitlines() == [data_map.paths[i] for i in (3, 7, 30)]
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert not panel.save_selection(folder / "a" / "selection.csv")
    assert "refusing to write inside the dataset folder" in panel.status.text()
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    out = tmp_path / "lists" / "selection.csv"
    out.parent.mkdir()
    assert panel.save_selection(out) and panel.status.text().startswith("3 photos saved to")
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["path"], r["label"], r["subset"]) for r in rows] == [
        (data_map.paths[i], data_map.classes[data_map.labels[i]], "train") for i in (3, 7, 30)]
    assert float(rows[0]["x"]) == round(float(data_map.xy[3, 0]), 6)
    assert list(tmp_path.glob("lists/*")) == [out]  # atomic: no temporary file left
    panel.set_source(FolderSource.at(tmp_path / "other"))  # another dataset: map, selection, actions cleared
    assert panel.view.data_map() is None and panel.selection.count() == 0 and len(panel.view.selected()) == 0
    assert not panel.copy_button.isEnabled() and not panel.save_button.isEnabled()
    assert panel.view.thumbnails.loaded() == []
