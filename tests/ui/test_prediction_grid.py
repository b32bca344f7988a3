"""A folder prediction on the Predict page: the sortable table of its images (one row per image,
thumbnails made in a worker, needs-review rows marked, unreadable files with their reason), the
question before replacing a CSV, and the table cleared by another run or folder; one image's
calibrated confidence and decision."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.results.policy import choose_policy
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.training.saved_model import open_model
from filterscope.ui.widgets.predict_panel import PredictPanelWidget
from filterscope.ui.widgets.prediction_grid import (CLASS, CONFIDENCE, DECISION, FILE, PROBLEM,
                                                    REVIEW_BACKGROUND, REVIEW_LABEL, SORT_ROLE)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.results_runs import copy_run
from tests.split_tree import damage_bodies, make_split_tree

WAIT_MS = 120_000


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """Eight new images, one of them damaged."""
    root = tmp_path / "new"
    make_split_tree(root, {"batch": {"cat": 4, "dog": 3, "bad": 1}}, png_only=True)
    assert len(damage_bodies(root / "batch" / "bad")) == 1
    return root


@pytest.fixture
def strict_run(results_run: Path, tmp_path: Path) -> Path:
    """A copy of the shared run whose policy sends answers below 99 % calibrated confidence to review."""
    run = copy_run(results_run, tmp_path / "runs" / "strict")
    job = {"report": NullReport(), "cancel": threading.Event()}
    choose_policy(open_model(run, **job), threshold=0.99, **job)
    return run


@pytest.fixture
def panel(qtbot) -> PredictPanelWidget:
    widget = PredictPanelWidget(EvaluateSettings())
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    return widget


def _predict_folder(qtbot, panel: PredictPanelWidget, folder: Path, out: Path):
    with qtbot.waitSignal(panel.runner.sig_finished, timeout=WAIT_MS) as blocker:
        panel.predict_folder(folder, out)
    return blocker.args[0]


def _texts(panel: PredictPanelWidget, column: int) -> list[str]:
    model = panel.grid.model()
    return [model.index(r, column).data() for r in range(model.rowCount())]


def test_a_folder_shows_a_sortable_table_with_thumbnails_and_review_marked(qtbot, panel, strict_run,
                                                                           photos, tmp_path) -> None:
    panel.set_model(strict_run, "best")
    result = _predict_folder(qtbot, panel, photos, tmp_path / "preds.csv")
    grid = panel.grid
    assert panel.pages.currentWidget() is grid and grid.isVisible()
    assert grid.model().rowCount() == len(result.paths) == 8
    assert sorted(_texts(panel, FILE)) == sorted(p.name for p in result.paths)
    # unreadable: listed with the reason, no class
    problems = [t for t in _texts(panel, PROBLEM) if t]
    assert len(problems) == 1 and problems[0].startswith("unreadable: ") and "corrupt PNG" in problems[0]
    # the run's threshold: every row whose decision is needs_review is marked, and only those
    decisions = result.decisions()
    assert decisions.count("needs_review") >= 2  # the unreadable file and at least one answer below 99 %
    model = grid.model()
    for r in range(model.rowCount()):
        source = grid.rows.source_row(r)
        review = decisions[source] == "needs_review"
        assert (model.index(r, DECISION).data() == REVIEW_LABEL) == review
        background = model.index(r, FILE).data(Qt.ItemDataRole.BackgroundRole)
        assert (background is not None and background.color() == REVIEW_BACKGROUND) == review
        assert model.index(r, CLASS).data() == (result.rows()[source]["predicted"] or "—")
    # sorting by calibrated confidence, both ways (unreadable first going up)
    grid.sortByColumn(CONFIDENCE, Qt.SortOrder.AscendingOrder)
    keys = [model.index(r, CONFIDENCE).data(SORT_ROLE) for r in range(model.rowCount())]
    assert keys == sorted(keys) and keys[0] == -1.0 and len(set(keys)) > 2
    assert _texts(panel, PROBLEM)[0].startswith("unreadable")
    grid.sortByColumn(CONFIDENCE, Qt.SortOrder.DescendingOrder)
    shown = [model.index(r, CONFIDENCE).data(SORT_ROLE) for r in range(model.rowCount())]
    assert shown == sorted(keys, reverse=True)
    assert grid.source_rows()[0] == max(range(8), key=lambda i: -1.0 if i in result.errors
                                        else float(result.calibrated()[i].max()))
    # thumbnails arrive from a worker for the rows on screen
    thumbs = grid.rows
    qtbot.waitUntil(lambda: not any(thumbs.needs_thumbnail(r) for r in range(8)), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not grid.runner.is_running(), timeout=WAIT_MS)


def test_the_table_sorts_by_decision_and_name(qtbot, panel, results_run, photos, tmp_path) -> None:
    panel.set_model(results_run, "best")
    _predict_folder(qtbot, panel, photos, tmp_path / "preds.csv")
    grid = panel.grid
    grid.sortByColumn(FILE, Qt.SortOrder.DescendingOrder)
    names = _texts(panel, FILE)
    assert names == sorted(names, key=str.lower, reverse=True)
    grid.sortByColumn(DECISION, Qt.SortOrder.AscendingOrder)
    keys = [grid.model().index(r, DECISION).data(SORT_ROLE) for r in range(8)]
    assert keys == sorted(keys) and "needs_review" in keys and ("cat" in keys or "dog" in keys)


def test_the_panel_asks_before_replacing_a_csv(qtbot, panel, results_run, photos, tmp_path,
                                               monkeypatch) -> None:
    out = tmp_path / "preds.csv"
    out.write_text("earlier\n")
    asked = []

    def answer(reply):
        def question(*args, **kwargs):
            asked.append(args[2])
            return reply
        return question

    panel.set_model(results_run, "best")
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    panel.predict_folder(photos, out)
    assert len(asked) == 1 and str(out) in asked[0]
    assert not panel.runner.is_running() and out.read_text() == "earlier\n"
    assert "kept" in panel.summary.text()
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    result = _predict_folder(qtbot, panel, photos, out)
    assert len(asked) == 2 and result.out == out and out.read_text().startswith("path,")
    assert out.with_name("preds.csv.json").is_file()
    asked.clear()
    _predict_folder(qtbot, panel, photos, tmp_path / "new.csv")  # no file there: no question
    assert asked == []


def test_another_run_or_folder_clears_the_table(qtbot, panel, two_runs, photos, tmp_path) -> None:
    first, second = two_runs
    panel.set_model(first, "best")
    _predict_folder(qtbot, panel, photos, tmp_path / "a.csv")
    assert panel.grid.model().rowCount() == 8
    panel.set_model(second, "best")
    assert panel.grid.model().rowCount() == 0 and panel.pages.currentIndex() == 0
    _predict_folder(qtbot, panel, photos, tmp_path / "b.csv")
    assert panel.grid.model().rowCount() == 8
    other = tmp_path / "other"
    make_split_tree(other, {"x": {"cat": 2}}, png_only=True)
    with qtbot.waitSignal(panel.runner.sig_finished, timeout=WAIT_MS):
        panel.predict_folder(other, tmp_path / "c.csv")
        assert panel.grid.model().rowCount() == 0  # gone as soon as the next folder starts
    assert panel.grid.model().rowCount() == 2
    qtbot.waitUntil(lambda: not panel.grid.runner.is_running(), timeout=WAIT_MS)


def test_one_image_shows_its_calibrated_confidence_and_decision(qtbot, panel, strict_run,
                                                                results_run, photos) -> None:
    image = sorted(photos.rglob("cat*.png"))[0]
    panel.set_model(results_run, "best")
    with qtbot.waitSignal(panel.runner.sig_finished, timeout=WAIT_MS) as blocker:
        panel.predict_image(image)
    row = blocker.args[0].rows()[0]
    text = panel.summary.text()
    assert "calibrated confidence" in text and f"decision: <b>{row['decision']}</b>" in text
    assert REVIEW_LABEL not in text  # no threshold
    panel.set_model(strict_run, "best")
    with qtbot.waitSignal(panel.runner.sig_finished, timeout=WAIT_MS) as blocker:
        panel.predict_image(image)
    assert blocker.args[0].decisions() == ["needs_review"]
    assert REVIEW_LABEL in panel.summary.text() and "below the threshold 99.0 %" in panel.summary.text()


def test_five_thousand_rows_ask_only_for_the_thumbnails_on_screen(qtbot, tmp_path) -> None:
    import numpy as np
    from filterscope.core.results.predict import Prediction
    from filterscope.ui.widgets.prediction_grid import PredictionGridWidget

    n = 5000
    probabilities = np.random.default_rng(0).dirichlet([1, 1, 1], n).astype(np.float32)
    result = Prediction("m", ["a", "b", "c"], [tmp_path / f"img{i:05d}.png" for i in range(n)],
                        probabilities, {}, 2, threshold=0.6)
    grid = PredictionGridWidget()
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.show()
    with qtbot.waitSignal(grid.runner.sig_running, timeout=5_000):
        grid.set_prediction(result)
    assert grid.model().rowCount() == n
    asked = len(grid._requested)
    assert 0 < asked < 100  # this screen and the next, not 5,000
    grid.sortByColumn(CONFIDENCE, Qt.SortOrder.DescendingOrder)
    confidence = result.calibrated().max(axis=1)
    assert grid.source_rows()[:3] == list(np.argsort(-confidence, kind="stable")[:3])
    qtbot.waitUntil(lambda: not grid.runner.is_running(), timeout=WAIT_MS)
