"""The Dataset tab driven through qtbot on real widgets, real files and real worker threads."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from filterscope.app import create_window
from filterscope.core.data.source import BuiltinSource, FolderSource
from filterscope.ui.split_dialog import SplitDialog
from filterscope.ui.tabs.dataset_tab import DatasetTab
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.corpus import tree_digest
from tests.split_tree import make_split_tree
from tests.ui.screen import show_window

WAIT_MS = 20_000


def write_dataset(root: Path, per_class: dict[str, int], size: int = 40) -> Path:
    rng = np.random.default_rng(0)
    for name, count in per_class.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            image = rng.integers(0, 256, (size, size + i % 3, 3), dtype=np.uint8)
            ok, data = cv2.imencode(".png", image)
            (root / name / f"img {i:03d}.png").write_bytes(data.tobytes())
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = write_dataset(tmp_path / "Seedlings ’photos", {"Shepherd’s Purse": 6, "Maize": 9})
    (root / "Maize" / "broken.png").write_bytes(b"this is not a png")
    (root / "Empty class").mkdir()
    return root


def open_window(qtbot, settings, source: str):
    settings.setValue("dataset/last", source)
    window = show_window(qtbot, create_window(settings), timeout=WAIT_MS)
    return window, window.findChild(DatasetTab)


def close(qtbot, window) -> None:
    window.close()


def test_folder_dataset_shows_classes_problems_thumbnails_and_image(qtbot, settings, folder) -> None:
    before = tree_digest(folder)
    window, tab = open_window(qtbot, settings, f"folder:{folder}")
    dataset = window.state.dataset
    assert dataset.classes == ["Empty class", "Maize", "Shepherd’s Purse"]
    table = tab.classes.table
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == dataset.classes
    assert [table.item(r, 1).text() for r in range(table.rowCount())] == ["0", "9", "6"]
    bars = tab.classes.chart.figure.axes[0].patches
    assert [round(bar.get_width()) for bar in bars] == [0, 9, 6]
    problems = {(tab.problems.item(r, 0).text(), tab.problems.item(r, 1).text())
                for r in range(tab.problems.rowCount())}
    assert ("Maize/broken.png", "not-image") in problems
    assert ("Empty class", "empty-class") in problems
    assert tab.grid.model().rowCount() == 15
    qtbot.waitUntil(lambda: tab.grid.thumbs.cached_count() == 15, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tab.image_pane.viewer.scene().items()[0].pixmap().width() == 40, timeout=WAIT_MS)
    assert "Maize/img 000.png" in tab.image_pane.info.text()
    assert "15 images" in window.dataset_label.text()
    tab.class_filter.setCurrentIndex(3)  # Shepherd’s Purse
    assert tab.grid.model().rowCount() == 6
    close(qtbot, window)
    assert tree_digest(folder) == before


def test_mnist_pixel_values_are_shown_when_zoomed(qtbot, settings, data_dir) -> None:
    window, tab = open_window(qtbot, settings, "builtin:mnist")
    assert len(window.state.dataset) == 5000
    qtbot.waitUntil(lambda: tab.image_pane.viewer.is_grayscale(), timeout=WAIT_MS)
    tab.image_pane.values_box.setChecked(True)
    tab.image_pane.viewer.zoom_by(40 / tab.image_pane.viewer.zoom())
    assert tab.image_pane.viewer.values_visible()
    tab.image_pane.viewer.zoom_by(2 / tab.image_pane.viewer.zoom())
    assert not tab.image_pane.viewer.values_visible()  # too small to read: numbers are not drawn
    close(qtbot, window)


def test_missing_last_dataset_falls_back_to_builtin_digits(qtbot, settings, tmp_path, data_dir) -> None:
    window, tab = open_window(qtbot, settings, f"folder:{tmp_path / 'gone'}")
    assert window.state.dataset.source == BuiltinSource("mnist")
    close(qtbot, window)


@pytest.mark.parametrize("stored", ["bare", ""])
def test_last_dataset_as_older_settings_held_it(qtbot, settings, folder, data_dir, stored) -> None:
    """A bare folder path reopens that folder; text naming no dataset opens the digits."""
    window, _tab = open_window(qtbot, settings, str(folder) if stored == "bare" else stored)
    assert window.state.dataset.source == (FolderSource(str(folder)) if stored else BuiltinSource("mnist"))
    close(qtbot, window)


def test_settings_remember_the_dataset_and_geometry(qtbot, settings, folder) -> None:
    window, _tab = open_window(qtbot, settings, "builtin:leaves")
    window.state.set_dataset(window.state.dataset)
    window.close()
    settings.sync()
    assert settings.value("dataset/last") == "builtin:leaves"
    assert settings.value("window/geometry") is not None


def test_cancel_mid_scan_leaves_the_tab_usable_and_the_folder_untouched(qtbot, settings, tmp_path, folder, data_dir) -> None:
    big = write_dataset(tmp_path / "big", {f"class {i}": 150 for i in range(8)}, size=16)
    before = tree_digest(big)
    window, tab = open_window(qtbot, settings, f"folder:{folder}")
    with qtbot.waitSignal(tab.runner.sig_cancelled, timeout=WAIT_MS):
        tab.open_source(FolderSource(str(big)))
        qtbot.waitUntil(lambda: tab.job_panel.cancel_button.isVisible(), timeout=WAIT_MS)
        qtbot.mouseClick(tab.job_panel.cancel_button, Qt.MouseButton.LeftButton)
    assert tab.job_panel.message() == "Cancelled"
    assert window.state.dataset.root == folder  # the old dataset stays
    with qtbot.waitSignal(window.state.sig_dataset_changed, timeout=WAIT_MS):
        tab.open_source(FolderSource(str(big)))
    assert len(window.state.dataset) == 1200
    close(qtbot, window)
    assert tree_digest(big) == before


def test_split_dialog_counts_and_saves_a_manifest_outside_the_dataset(qtbot, folder, tmp_path, monkeypatch) -> None:
    import threading

    from filterscope.core.base.jobs import NullReport
    from filterscope.core.data.sources import open_source

    dataset = open_source(FolderSource(str(folder)), report=NullReport(), cancel=threading.Event())
    before = tree_digest(folder)
    dialog = SplitDialog(dataset)
    qtbot.addWidget(dialog)
    dialog.n_spin.setValue(2)
    counts = {dialog.table.item(r, 0).text(): (dialog.table.item(r, 1).text(), dialog.table.item(r, 2).text())
              for r in range(dialog.table.rowCount())}
    assert counts["Maize"] == ("7", "2") and counts["Shepherd’s Purse"] == ("4", "2")
    dialog.split.update({"method": "fraction", "val_fraction": 0.5, "seed": 2**32 - 1})
    assert dialog.fraction.isChecked() and not dialog.per_class.isChecked()  # the controls follow
    assert dialog.f_spin.isEnabled() and not dialog.n_spin.isEnabled() and dialog.f_spin.value() == 0.5
    assert dialog.table.item(1, 2).text() == "5"  # Maize: 0.5 * 9 = 4.5, rounded half up
    assert dialog.settings() == {"val_fraction": 0.5, "seed": 2**32 - 1}
    dialog.seed_spin.setValue(0)  # a control sets the model
    assert dialog.settings() == {"val_fraction": 0.5, "seed": 0}
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    assert not dialog.save_to(folder / "split.json")
    assert "refusing to write inside the dataset folder" in warnings[0]
    assert dialog.save_to(tmp_path / "split.json") and dialog.save_path == tmp_path / "split.json"
    assert tree_digest(folder) == before


def test_split_is_made_and_saved_by_a_job(qtbot, settings, folder, tmp_path, monkeypatch) -> None:
    window, tab = open_window(qtbot, settings, f"folder:{folder}")
    target = tmp_path / "ünïcode split.json"

    def choose(dialog) -> bool:
        dialog.fraction.setChecked(True)
        dialog.f_spin.setValue(0.5)
        return dialog.save_to(target)

    monkeypatch.setattr(SplitDialog, "exec", choose)
    with qtbot.waitSignal(window.state.sig_manifest_changed, timeout=WAIT_MS):
        tab.split_button.click()
    manifest = window.state.manifest
    assert manifest.method == "fraction" and manifest.counts()["Maize"] == {"train": 4, "val": 5}
    saved = json.loads(target.read_text(encoding="utf-8"))
    assert saved["subsets"] == manifest.subsets
    close(qtbot, window)


def test_offline_download_gives_a_clear_message_and_keeps_the_app_usable(qtbot, settings, data_dir) -> None:
    window, tab = open_window(qtbot, settings, "builtin:mnist")
    combo = tab.source_combo
    index = next(i for i in range(combo.count()) if combo.itemData(i) == BuiltinSource("plant-seedlings"))
    tab.source_combo.setCurrentIndex(index)
    tab.source_combo.activated.emit(index)
    assert tab.fetch_button.isVisible() and tab.import_button.isVisible()
    with qtbot.waitSignal(tab.runner.sig_failed, timeout=WAIT_MS) as blocker:
        tab.fetch(str(data_dir / "no-such-archive.zip"))
    assert "no such file" in blocker.args[0]
    assert window.state.dataset.source == BuiltinSource("mnist")
    close(qtbot, window)


def test_split_folders_get_a_subset_selector_and_no_split_action(qtbot, settings, tmp_path) -> None:
    parent = tmp_path / "Split ’photos’"
    make_split_tree(parent, {"train": {"Maize": 6, "Shepherd’s Purse": 4}, "Valid": {"Maize": 2},
                             "test": {"Maize": 3, "Shepherd’s Purse": 1}})
    before = tree_digest(parent)
    window, tab = open_window(qtbot, settings, f"folder:{parent}")
    table, chart = tab.classes.table, tab.classes.chart

    def shown() -> tuple[list[str], list[int], int]:
        counts = [table.item(r, 1).text() for r in range(table.rowCount())]
        return counts, [round(bar.get_width()) for bar in chart.figure.axes[0].patches], \
            tab.grid.model().rowCount()

    assert tab.subset_filter.isVisibleTo(tab)
    assert [tab.subset_filter.itemText(i) for i in range(tab.subset_filter.count())] == [
        "All subsets", "train/", "Valid/", "test/"]
    assert shown() == (["11", "5"], [11, 5], 16)
    assert "Split by its own folders (train/ 10, Valid/ 2, test/ 4 images)" in tab.info.text()
    assert "Valid/ has no images of" in tab.info.text()
    assert not tab.split_button.isEnabled() and "train/val/test folders" in tab.split_button.toolTip()
    tab.subset_filter.setCurrentIndex(2)  # Valid/
    assert shown() == (["2", "0"], [2, 0], 2)
    tab.subset_filter.setCurrentIndex(3)  # test/
    assert shown() == (["3", "1"], [3, 1], 4)
    tab.class_filter.setCurrentIndex(2)  # Shepherd’s Purse, in test/
    assert tab.grid.model().rowCount() == 1
    assert tab.grid.thumbs.item_index(0) == window.state.dataset.keys.index(
        "test/Shepherd’s Purse/Shepherd’s Purse 00.png")
    tab.subset_filter.setCurrentIndex(0)
    assert tab.grid.model().rowCount() == 5 and shown()[0] == ["11", "5"]
    close(qtbot, window)
    assert tree_digest(parent) == before


def test_plain_folders_have_no_subset_selector(qtbot, settings, folder) -> None:
    window, tab = open_window(qtbot, settings, f"folder:{folder}")
    assert not tab.subset_filter.isVisibleTo(tab) and tab.split_button.isEnabled()
    close(qtbot, window)


def test_the_filters_are_the_browse_settings_and_a_subset_the_dataset_lacks_is_named(qtbot, settings,
                                                                                     folder) -> None:
    """The model sets the filters and the grid follows; a subset set on a folder without split
    folders shows its filter, naming it, and no image, until the user chooses all again."""
    window, tab = open_window(qtbot, settings, f"folder:{folder}")
    browse = window.state.browse
    browse.class_name = "Maize"
    assert tab.class_filter.currentText() == "Maize" and tab.grid.model().rowCount() == 9
    with qtbot.waitSignal(tab.sig_status) as said:
        browse.subset = "test"
    assert said.args[0] == "Seedlings ’photos has no test/ folder: no image is shown"
    assert tab.subset_filter.isVisibleTo(tab) and tab.subset_filter.currentIndex() == -1
    assert tab.subset_filter.placeholderText() == "test/: not in this dataset"
    assert tab.grid.model().rowCount() == 0 and browse.subset == "test"
    assert [tab.classes.table.item(r, 1).text() for r in range(3)] == ["0", "0", "0"]
    tab.subset_filter.setCurrentIndex(0)  # All subsets
    assert browse.subset is None and not tab.subset_filter.isVisibleTo(tab)
    assert not tab.subset_filter.placeholderText() and tab.grid.model().rowCount() == 9
    assert [tab.classes.table.item(r, 1).text() for r in range(3)] == ["0", "9", "6"]
    close(qtbot, window)
