"""The image tabs after another model or dataset: Visualise, Mask and Augment.

Switching is tested, not only the first load: each test shows something for a first choice,
switches, and checks that none of it remains on screen (result, failure or text)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.source import FolderSource, Source
from filterscope.core.data.sources import open_source as open_dataset
from filterscope.ui.state import AppState
from filterscope.ui.tabs.augment_tab import AugmentTab
from filterscope.ui.tabs.mask_tab import MaskTab
from filterscope.ui.tabs.visualize_tab import VisualizeTab
from PySide6.QtWidgets import QGraphicsView

from tests.results_runs import make_photos
from tests.split_tree import damage_bodies, make_split_tree
from tests.ui.screen import shown


WAIT_MS = 120_000


def dataset(source: Source):
    return open_dataset(source, report=NullReport(), cancel=threading.Event())


def blank(view: QGraphicsView) -> bool:
    """True when the view's pixels on screen are all one colour (no picture in it)."""
    image = view.viewport().grab().toImage()
    pixels = np.array([[image.pixel(x, y) for x in range(0, image.width(), 3)]
                       for y in range(0, image.height(), 3)])
    return len(np.unique(pixels)) == 1


@pytest.fixture
def visualise(qtbot, mnist, mnist_run: Path) -> VisualizeTab:
    """The Visualise tab on the MNIST run, the built-in digits open."""
    state = AppState()
    state.set_runs_dir(mnist_run.parent)
    state.set_dataset(mnist)
    tab = VisualizeTab(state)
    shown(qtbot, tab, (1300, 850), until=tab.load_runner.sig_finished)
    assert tab.layers.select("block1_conv")
    return tab


def test_another_model_forgets_the_first_models_picture_maps_and_weights(qtbot, visualise) -> None:
    tab = visualise
    tab.controls.steps_spin.setValue(10)
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.controls.start_button.click()
    assert tab.ascent.picture() is not None and tab.controls.save_button.isEnabled()
    assert not blank(tab.ascent.view)
    with qtbot.waitSignal(tab.probe.probe_runner.sig_finished, timeout=WAIT_MS):
        tab.pages.setCurrentWidget(tab.probe)
    assert "Feature maps of block1_conv " in tab.probe.maps_title.text() and tab.probe.cams_shown()
    with qtbot.waitSignal(tab.weights.runner.sig_finished, timeout=WAIT_MS):
        tab.pages.setCurrentWidget(tab.weights)
    assert tab.weights.caption.text().startswith("block1_conv:")
    tab.pages.setCurrentWidget(tab.ascent)  # the other pages are not recomputed while hidden
    tab.picker.size_spin.setValue(32)
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.picker.choose("vgg16", "random")
    assert tab.ascent.picture() is None and not tab.controls.save_button.isEnabled()
    assert blank(tab.ascent.view) and "block1_conv filter" not in tab.ascent.caption.text()
    assert "Feature maps of block1_conv " not in tab.probe.maps_title.text()
    assert tab.probe.cams_shown() == 0 and not any(c.text() for _p, c in tab.probe.cams)
    assert not tab.weights.caption.text().startswith("block1_conv:")
    tab.pages.setCurrentWidget(tab.weights)
    assert blank(tab.weights.view) or tab.weights.runner.is_running()
    qtbot.waitUntil(lambda: not tab.weights.runner.is_running(), timeout=WAIT_MS)


def test_another_dataset_forgets_the_first_datasets_feature_maps(qtbot, visualise, tmp_path) -> None:
    tab = visualise
    with qtbot.waitSignal(tab.probe.probe_runner.sig_finished, timeout=WAIT_MS):
        tab.pages.setCurrentWidget(tab.probe)
    assert "mnist5k/" in tab.probe.maps_title.text() and tab.probe.cams_shown()
    tab.hide()  # a hidden tab computes nothing: only the switch acts on the page
    tab._state.set_dataset(dataset(FolderSource(str(make_photos(tmp_path / "photos")))))
    assert "mnist5k/" not in tab.probe.maps_title.text()
    assert tab.probe.cams_shown() == 0 and not any(c.text() for _p, c in tab.probe.cams)
    assert tab.probe.fed.pixmap().isNull()
    tab.show()
    assert blank(tab.probe.maps_view) or tab.probe.image_runner.is_running() or tab.probe.probe_runner.is_running()
    qtbot.waitUntil(lambda: "train/" in tab.probe.maps_title.text() or "Cannot" in
                    tab.probe.note.text(), timeout=WAIT_MS)
    assert "mnist5k/" not in tab.probe.maps_title.text()


@pytest.fixture
def unreadable(tmp_path: Path):
    """A dataset whose every image is cut short: scanned, but none can be read."""
    root = tmp_path / "cut-short"
    make_split_tree(root, {"train": {"ant": 3, "bee": 3}, "val": {"ant": 1, "bee": 1}}, png_only=True)
    damage_bodies(root)
    return dataset(FolderSource(str(root)))


def test_the_mask_tab_shows_nothing_of_the_previous_dataset(qtbot, tmp_path, unreadable) -> None:
    state = AppState()
    tab = shown(qtbot, MaskTab(state), (1200, 800))
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS):
        with qtbot.waitSignal(tab.examples_runner.sig_finished, timeout=WAIT_MS):
            state.set_dataset(dataset(FolderSource(str(make_photos(tmp_path / "photos")))))
    assert not blank(tab.views[0]) and tab.kept_label.text().startswith("Kept")
    assert tab.strip._buttons
    with qtbot.waitSignal(tab.image_runner.sig_failed, timeout=WAIT_MS):
        state.set_dataset(unreadable)
    assert all(blank(view) for view in tab.views)
    assert tab.kept_label.text() == ""
    assert not tab.strip._buttons or tab.examples_runner.is_running()
    qtbot.waitUntil(lambda: not tab.examples_runner.is_running(), timeout=WAIT_MS)
    assert {b.toolTip() for b in tab.strip._buttons} <= {"ant", "bee"}  # never cat or dog


def test_the_augment_tab_shows_nothing_of_the_previous_dataset(qtbot, tmp_path, unreadable) -> None:
    state = AppState()
    tab = shown(qtbot, AugmentTab(state), (1200, 800))
    with qtbot.waitSignal(tab.model_view.sig_viewed, timeout=WAIT_MS):
        with qtbot.waitSignal(tab.sig_previewed, timeout=WAIT_MS):
            state.set_dataset(dataset(FolderSource(str(make_photos(tmp_path / "photos")))))
    assert tab.previews.grid.count() > 0 and tab.model_view.row.count() > 0
    assert "(24, 32, 3)" in tab.model_view.caption.text()
    statuses: list[str] = []
    tab.sig_status.connect(statuses.append)
    with qtbot.waitSignal(tab.items_runner.sig_finished, timeout=WAIT_MS):
        state.set_dataset(unreadable)
    qtbot.waitUntil(lambda: tab.previews.grid.count() == 0, timeout=5000)
    assert tab.model_view.row.count() == 0 and "(24, 32, 3)" not in tab.model_view.caption.text()
    assert any("could not be read" in status for status in statuses)


def test_a_run_efficientnet_lite0_and_vgg16_leave_nothing_of_each_other(qtbot, visualise, mnist_run) -> None:
    """EfficientNet-Lite0 comes first among the ImageNet models, with its package's weights (never
    "not on this computer"); painting its goldfish, then a run, VGG16 and Lite0 again: each shows
    its own name, size, classes and pictures only."""
    tab, combo = visualise, visualise.picker.combo
    lite = combo.findData("efficientnet-lite0:imagenet")
    assert combo.itemText(lite) == "EfficientNet-Lite0, ImageNet weights" and combo.model().item(lite).isEnabled()
    assert lite < combo.findData("vgg16:imagenet")
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab._state.visualize.paint_class("efficientnet-lite0", 1)
    status = tab.picker.status.text()
    assert "EfficientNet-Lite0" in status and "224x224x3, 1000 classes" in status
    assert not tab.picker.size_spin.isVisible() and tab.layers.current() is not None
    assert tab.controls.class_combo.currentText() == "1: goldfish"
    tab.controls.steps_spin.setValue(3)
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.controls.start_button.click()
    assert "goldfish" in tab.ascent.caption.text() and not blank(tab.ascent.view)

    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.picker.choose(mnist_run)
    status = tab.picker.status.text()
    assert "EfficientNet" not in status and "10 classes" in status and "224" not in status
    assert tab.ascent.picture() is None and "goldfish" not in tab.ascent.caption.text()
    assert tab.controls.class_combo.count() == 10 and "goldfish" not in tab.controls.class_combo.currentText()

    tab.picker.size_spin.setValue(32)
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.picker.choose("vgg16", "random")
    assert tab.picker.size_spin.isVisible() and tab.picker.size_label.text() == "VGG16 size"
    assert "VGG16" in tab.picker.status.text() and tab.controls.class_combo.count() == 0

    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.picker.choose("efficientnet-lite0", "imagenet")
    status = tab.picker.status.text()
    assert "VGG16" not in status and "Random" not in status and "1000 classes" in status
    assert not tab.picker.size_spin.isVisible() and tab.controls.class_combo.count() == 1000
    assert tab.layers.current().name.startswith(("stem_", "block", "top_"))
