"""The Mask tab through qtbot: live sliders, eyedropper, presets, full resolution, batch apply."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.datasets import scan_folder
from filterscope.ui.state import AppState
from filterscope.ui.tabs.mask_tab import MaskTab
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from tests.corpus import tree_digest
from tests.ui.screen import shown

WAIT_MS = 20_000
SOIL, LEAF = (120, 90, 60), (71, 86, 38)


def seedling(size: int, seed: int) -> np.ndarray:
    """Brown soil with noise and a green disc: the mask should keep the disc only."""
    rng = np.random.default_rng(seed)
    img = np.clip(rng.normal(SOIL, 12, (size, size, 3)), 0, 255).astype(np.uint8)
    leaf = np.clip(rng.normal(LEAF, 6, (size, size, 3)), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[:size, :size]
    disc = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 4) ** 2
    img[disc] = leaf[disc]
    return img


@pytest.fixture
def dataset(tmp_path: Path):
    root = tmp_path / "plants"
    for c, name in enumerate(["Charlock", "Shepherd’s Purse"]):
        (root / name).mkdir(parents=True)
        for i in range(3):
            ok, data = cv2.imencode(".png", cv2.cvtColor(seedling(150, 10 * c + i), cv2.COLOR_RGB2BGR))
            (root / name / f"{i}.png").write_bytes(data.tobytes())
    return scan_folder(root, report=NullReport(), cancel=threading.Event())


@pytest.fixture
def tab(qtbot, dataset):
    state = AppState()
    tab = shown(qtbot, MaskTab(state), (1200, 800))
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS):
        state.set_dataset(dataset)
    return tab


def result_pixels(tab: MaskTab) -> bytes:
    image = tab.views[2]._item.pixmap().toImage()
    return bytes(image.constBits())


def test_moving_a_threshold_updates_preview_and_kept_fraction(qtbot, tab) -> None:
    kept_before = tab.kept_label.text()
    pixels_before = result_pixels(tab)
    assert 0.15 < float(kept_before.split()[1]) / 100 < 0.35  # the disc is about 20 %
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS) as blocker:
        tab.controls.rows[0].slider.setValue(9000)  # far enough to take in the soil too
    assert blocker.args[0] > 0.9
    assert tab.kept_label.text() != kept_before
    assert result_pixels(tab) != pixels_before


def test_example_strip_shows_one_masked_example_per_class(qtbot, tab) -> None:
    qtbot.waitUntil(lambda: len(tab.strip._buttons) == 2, timeout=WAIT_MS)
    assert [b.toolTip() for b in tab.strip._buttons] == ["Charlock", "Shepherd’s Purse"]
    assert all(not b.icon().isNull() for b in tab.strip._buttons)


def test_eyedropper_adds_the_clicked_colour_as_a_target(qtbot, tab) -> None:
    view = tab.views[0]
    tab.controls.pick_button.setChecked(True)
    centre = view.mapFromScene(75, 75)
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(centre.x(), centre.y()))
    added = tab.params.targets[-1].rgb
    assert len(tab.params.targets) == 5
    assert np.abs(np.subtract(added, LEAF)).max() < 20


def test_malformed_preset_is_refused_and_settings_kept(qtbot, tab, tmp_path, monkeypatch) -> None:
    messages = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: messages.append(args[2]))
    before = tab.params
    bad = tmp_path / "bad.json"
    bad.write_text('{"targets": [{"rgb": [300, 0, 0], "threshold": 10}]}', encoding="utf-8")
    assert not tab.load_preset(bad)
    assert "bad.json" in messages[0] and "rgb" in messages[0]
    assert tab.params == before
    good = tmp_path / "good.json"
    good.write_text('{"targets": [{"rgb": [71, 86, 38], "threshold": 3000}], "median": 5}',
                    encoding="utf-8")
    assert tab.load_preset(good)
    assert tab.params.median == 5 and len(tab.controls.rows) == 1


def test_large_image_renders_full_resolution_in_a_worker(qtbot, tab) -> None:
    big = seedling(1200, 7)
    with qtbot.waitSignal(tab.full_runner.sig_finished, timeout=WAIT_MS):
        tab.set_image(big)
    qtbot.waitUntil(lambda: tab.views[2]._item.pixmap().width() == 1200, timeout=WAIT_MS)


def test_the_mask_reaches_training_only_when_used(qtbot, tab) -> None:
    """The tab's mask is always the shared one; training applies it when the one switch
    (``train.use_mask``, this tab's box and the Train tab's) is on."""
    state = tab._state
    assert state.mask == tab.params and state.training_mask() is None
    tab.use_box.setChecked(True)
    assert state.train.use_mask and state.training_mask() == tab.params
    tab.controls.rows[0].slider.setValue(2000)
    assert state.training_mask().targets[0].threshold == 2000
    state.train.use_mask = False  # as the Train tab's box does
    assert not tab.use_box.isChecked() and state.training_mask() is None


def test_apply_to_dataset_writes_copies_and_leaves_the_source_alone(qtbot, tab, dataset, tmp_path) -> None:
    before = tree_digest(dataset.root)
    out = tmp_path / "masked"
    with qtbot.waitSignal(tab.batch_runner.sig_finished, timeout=WAIT_MS):
        tab.apply_to(dataset, out)
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == sorted(str(Path(k).with_suffix(".png").as_posix()) for k in dataset.keys)
    assert tree_digest(dataset.root) == before
    with qtbot.waitSignal(tab.batch_runner.sig_failed, timeout=WAIT_MS) as blocker:
        tab.apply_to(dataset, dataset.root / "inside")
    assert "inside" in blocker.args[0]
    assert tree_digest(dataset.root) == before


def test_the_code_page_follows_the_settings_and_gives_the_tabs_result(qtbot, tab) -> None:
    tab.pages.setCurrentWidget(tab.code)
    assert "cv2.medianBlur(out, 9)" in tab.code.toPlainText()  # the chapter preset
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS):
        tab.controls.rows[0].slider.setValue(2500)
    params = tab.params
    code = tab.code.toPlainText()
    assert f"{params.targets[0].rgb}, {params.targets[0].threshold:g})" in code
    namespace = {"image": tab._preview.img.copy()}
    exec(compile(code, "mask-code", "exec"), namespace)
    assert np.array_equal(namespace["out"], tab._preview.render(params).image)


def test_the_controls_show_the_model_and_a_dragged_slider_keeps_its_row(qtbot, tab) -> None:
    """The tab's controls are bound to the Mask settings model: set the model, they follow;
    move a threshold, the row under the mouse is the same widget."""
    masking = tab._state.masking
    row = tab.controls.rows[0]
    row.slider.setValue(2100)
    assert masking.params.targets[0].threshold == 2100 and tab.controls.rows[0] is row
    masking.edit(distance="cielab", combine="all", median=5)
    controls = tab.controls
    assert controls.distance_combo.currentData() == "cielab" and controls.combine_combo.currentData() == "all"
    assert controls.median_label.text() == "5×5 median"
    assert [r.slider.value() for r in controls.rows] == [12.0] * len(masking.params.targets)
    controls.output_combo.setCurrentIndex(controls.output_combo.findData("mask"))
    assert masking.params.output == "mask" and tab.params.output == "mask"


def test_the_view_is_the_models_overlay_or_side_by_side(qtbot, tab) -> None:
    settings = tab._state.masking
    assert tab.view_combo.currentText() == "Side by side" and tab.views[1].isVisible()
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS):
        tab.view_combo.setCurrentIndex(1)  # as the user picks it
    assert settings.view == "overlay" and not tab.views[1].isVisible() and not tab.views[2].isVisible()
    with qtbot.waitSignal(tab.sig_rendered, timeout=WAIT_MS):
        settings.view = "side"  # the model, from anywhere
    assert tab.view_combo.currentText() == "Side by side" and tab.views[2].isVisible()
