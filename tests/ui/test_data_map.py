"""The map of the data: dots drawn in their colours, colour modes, hover, lasso, clearing."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.source import FolderSource
from filterscope.core.data.sources import open_source
from filterscope.core.quality.embedding import DataMap
from filterscope.ui.state import AppState
from filterscope.ui.widgets.data_map import RIGHT, WRONG, DataMapWidget, class_colour
from filterscope.ui.widgets.data_map_panel import DataMapDialog
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor

from tests.results_runs import make_photos


def grid_map(predicted: bool = False) -> DataMap:
    """36 points on a 6 x 6 grid; class = column // 2 (3 classes); predictions wrong in row 0."""
    xs, ys = np.meshgrid(np.linspace(0.05, 0.95, 6), np.linspace(0.05, 0.95, 6))
    xy = np.column_stack([xs.ravel(), ys.ravel()]).astype(np.float32)
    labels = (np.arange(36) % 6 // 2).astype(np.int32)
    guess = labels.copy()
    guess[:6] = (labels[:6] + 1) % 3
    return DataMap(xy, [f"/p/{i}.png" for i in range(36)], labels, np.array(["train"] * 36), ["a", "b", "c"],
                   guess if predicted else None)


def pixel_colours(view: DataMapWidget) -> list[str]:
    image = view.render_dots()
    return [QColor(image.pixel(round(x), round(y))).name() for x, y in view.to_widget(view.data_map().xy)]


@pytest.fixture
def view(qtbot) -> DataMapWidget:
    widget = DataMapWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_every_point_is_drawn_in_its_class_colour(view: DataMapWidget) -> None:
    data_map = grid_map()
    view.set_map(data_map)
    assert pixel_colours(view) == [class_colour(int(c)).name() for c in data_map.labels]
    assert sum(len(r) for r in view.colour_groups().values()) == 36


def test_colour_modes_switch(view: DataMapWidget) -> None:
    data_map = grid_map(predicted=True)
    view.set_map(data_map)
    view.set_colour_mode("right/wrong")
    assert pixel_colours(view) == [WRONG.name()] * 6 + [RIGHT.name()] * 30
    view.set_colour_mode("prediction")
    assert pixel_colours(view) == [class_colour(int(c)).name() for c in data_map.predicted]
    view.set_map(grid_map())
    assert view.colour_mode() == "class"
    with pytest.raises(ValueError, match="needs an evaluation"):
        view.set_colour_mode("right/wrong")


def test_hover_finds_the_point_under_the_cursor(view: DataMapWidget, qtbot) -> None:
    view.set_map(grid_map())
    x, y = view.to_widget(view.data_map().xy[[14]])[0]
    with qtbot.waitSignal(view.sig_hovered) as hovered:
        qtbot.mouseMove(view, QPoint(round(x) + 2, round(y) - 1))
    assert hovered.args == [14]
    assert view.point_at(QPointF(x, y)) == 14
    assert view.point_at(QPointF(x + 30, y + 30)) == -1  # between grid points (68 px apart)


def test_a_lasso_selects_the_points_inside_it(view: DataMapWidget, qtbot) -> None:
    view.set_map(grid_map())
    corners = view.to_widget(np.array([[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.3, 0.7], [0.3, 0.3]]))
    with qtbot.waitSignal(view.sig_selected) as selected:
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(*map(round, corners[0])))
        for x, y in corners[1:]:
            qtbot.mouseMove(view, QPoint(round(x), round(y)))
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(*map(round, corners[-1])))
    xy = view.data_map().xy
    expected = np.flatnonzero((xy[:, 0] > 0.3) & (xy[:, 0] < 0.7) & (xy[:, 1] > 0.3) & (xy[:, 1] < 0.7))
    assert len(expected) == 4 and list(selected.args[0]) == list(expected)


def test_zoom_keeps_the_point_under_the_cursor(view: DataMapWidget) -> None:
    view.set_map(grid_map())
    at = view.to_widget(view.data_map().xy[[7]])[0]
    view.zoom_by(3.0, QPointF(*at))
    np.testing.assert_allclose(view.to_widget(view.data_map().xy[[7]])[0], at, atol=1e-6)


def test_another_dataset_clears_the_map(qtbot, tmp_path: Path) -> None:
    state = AppState()
    first = open_source(FolderSource.at(make_photos(tmp_path / "a")), report=NullReport(), cancel=threading.Event())
    state.set_dataset(first)
    dialog = DataMapDialog(state)
    qtbot.addWidget(dialog)
    dialog.panel.set_map(grid_map())
    dialog.panel.view.select(np.array([1, 2]))
    assert dialog.panel.view.data_map() is not None and dialog.panel.selection.count() == 2
    state.set_dataset(open_source(FolderSource.at(make_photos(tmp_path / "b")), report=NullReport(),
                                  cancel=threading.Event()))
    assert dialog.panel.view.data_map() is None and dialog.panel.selection.count() == 0
    assert dialog.panel.make_button.isEnabled()


def test_an_evaluations_lasso_goes_to_the_gallery_and_the_review_list(qtbot, tmp_path: Path) -> None:
    from filterscope.core.quality.embedding import evaluation_map
    from filterscope.core.quality.features import DatasetFeatures
    from filterscope.core.results.evaluate import Evaluation
    from filterscope.core.results.metrics import Baseline, Scores
    from filterscope.core.results.review import load_review
    from filterscope.core.results.rows import EvalRows
    from filterscope.ui.widgets.eval_images import EvalImagesWidget
    from filterscope.ui.widgets.evaluation_map import EvaluationMapWidget

    from tests.core.test_quality_map import clusters

    x, labels = clusters(60, 3)
    paths = [str(tmp_path / f"{i}.png") for i in range(60)]
    found = DatasetFeatures("dir", ["a", "b", "c"], x, labels, np.array(["test"] * 60), paths, paths)
    evaluated = [paths[i] for i in range(0, 60, 2)] + [str(tmp_path / "gone.png")]  # 31 rows, 30 mapped
    true = np.array([labels[i] for i in range(0, 60, 2)] + [0], np.int32)
    predicted = true.copy()
    predicted[:5] = (predicted[:5] + 1) % 3
    probabilities = np.eye(3, dtype=np.float32)[predicted]
    ev = Evaluation(tmp_path, "best", 1, ["a", "b", "c"], {}, {}, EvalRows(evaluated, true, predicted, probabilities),
                    Scores(0.8, 0.8, [], np.zeros((3, 3), np.int64)), Baseline("a", 0.3, "set", 31), name="ev1")
    images = EvalImagesWidget()
    panel = EvaluationMapWidget(images)
    qtbot.addWidget(images)
    qtbot.addWidget(panel)
    panel.set_evaluation(ev)
    panel.set_map(evaluation_map(found, evaluated, true, predicted, ev.classes, report=NullReport(),
                                 cancel=threading.Event()))
    assert panel.view.colour_mode() == "right/wrong" and not panel.gallery_button.isEnabled()
    panel.view.select(np.array([1, 3, 29]))
    assert panel.selected_rows() == [1, 3, 29] and panel.gallery_button.isEnabled()
    panel.gallery_button.click()
    assert list(images.gallery.gallery.shown_rows()) == [1, 3, 29]
    panel.review_button.click()
    marked = load_review(tmp_path)
    assert [e.path for e in marked] == [evaluated[1], evaluated[3], evaluated[29]]
    assert marked[0].labelled == ev.classes[true[1]] and marked[0].predicted == ev.classes[predicted[1]]
    panel.set_evaluation(None)
    assert panel.view.data_map() is None and not panel.make_button.isEnabled()


def test_make_the_map_in_a_job(qtbot, results_photos: Path, tmp_path: Path, monkeypatch) -> None:
    """The panel's button runs the real job (features from a fresh cache, then t-SNE)."""
    import filterscope.ui.widgets.data_map_panel as panel_module
    from filterscope.core.quality.embedding import dataset_map

    monkeypatch.setattr(panel_module, "dataset_map",
                        lambda source, **job: dataset_map(source, cache_dir=tmp_path / "cache", **job))
    panel = panel_module.DataMapPanel()
    qtbot.addWidget(panel)
    panel.set_source(FolderSource.at(results_photos))
    panel.make_button.click()
    qtbot.waitUntil(lambda: panel.view.data_map() is not None, timeout=180_000)
    assert len(panel.view.data_map()) == 29 and panel.status.text().startswith("29 photos.")
    assert panel.runner.shutdown()
