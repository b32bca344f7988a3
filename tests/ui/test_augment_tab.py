"""The Augment tab through qtbot: edit the chain, the preview changes; same seed, same images."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.augment.chain import builtin_chain
from filterscope.core.base.jobs import NullReport
from filterscope.core.base.opencv import cv2
from filterscope.core.data.source import FolderSource, Source
from filterscope.core.data.sources import open_source
from filterscope.core.training.data_spec import DataSpec
from filterscope.core.training.pipeline import preview_batch
from filterscope.ui.state import AppState
from filterscope.ui.tabs.augment_tab import AugmentTab
from PySide6.QtWidgets import QMessageBox

from tests.ui.screen import shown

WAIT_MS = 30_000


def grid_pixels(tab: AugmentTab) -> list[bytes]:
    labels = [tab.previews.grid.itemAt(i).widget() for i in range(tab.previews.grid.count())]
    return [bytes(label.pixmap().toImage().constBits()) for label in labels]


@pytest.fixture
def tab(qtbot):
    tab = shown(qtbot, AugmentTab(AppState()), (1200, 800))
    rng = np.random.default_rng(0)
    image = np.zeros((120, 160, 3), np.uint8)
    image[30:90, 40:120] = (71, 86, 38)
    image += rng.integers(0, 30, image.shape, dtype=np.uint8)
    with qtbot.waitSignal(tab.sig_previewed, timeout=WAIT_MS):
        tab.set_images([image])
    return tab


def test_preview_grid_and_code(qtbot, tab) -> None:
    assert tab.previews.grid.count() == 8
    assert "iaa.Sequential" in tab.code.toPlainText() and "random_order=True" in tab.code.toPlainText()


def test_same_seed_same_images_and_reroll_changes_them(qtbot, tab) -> None:
    first = grid_pixels(tab)
    with qtbot.waitSignal(tab.sig_previewed, timeout=WAIT_MS):
        tab.reroll_button.click()
    rerolled = grid_pixels(tab)
    assert rerolled != first
    with qtbot.waitSignal(tab.sig_previewed, timeout=WAIT_MS):
        tab._state.augment.seed = 0
    assert grid_pixels(tab) == first


def test_adding_a_step_and_changing_a_parameter_changes_the_preview(qtbot, tab) -> None:
    before = grid_pixels(tab)
    editor = tab.editor
    editor.add_combo.setCurrentText("Grayscale")
    with qtbot.waitSignal(tab.sig_previewed, timeout=WAIT_MS):
        editor.add_button.click()
    assert tab.chain().steps[-1].name == "Grayscale"
    assert "iaa.Grayscale(alpha=(0.0, 1.0))" in tab.code.toPlainText()
    assert tab.preset_combo.currentIndex() == -1  # no longer a preset
    with qtbot.waitSignal(tab.sig_previewed, timeout=WAIT_MS):
        editor._controls["alpha"].setValue((1.0, 1.0))
    assert tab.chain().steps[-1].params["alpha"] == [1.0, 1.0]
    after = grid_pixels(tab)
    assert after != before
    labels = [tab.previews.grid.itemAt(i).widget().pixmap().toImage() for i in range(tab.previews.grid.count())]
    pixel = labels[0].pixelColor(labels[0].width() // 2, labels[0].height() // 2)
    assert pixel.red() == pixel.green() == pixel.blue()  # fully gray now


def test_toggling_and_reordering_steps(qtbot, tab) -> None:
    editor = tab.editor
    names = [s.name for s in tab.chain().steps]
    editor.steps_list.setCurrentRow(0)
    editor.down_button.click()
    assert [s.name for s in tab.chain().steps][:2] == [names[1], names[0]]
    item = editor.steps_list.item(0)
    item.setCheckState(item.checkState().__class__.Unchecked)
    assert not tab.chain().steps[0].enabled
    assert "# (off) iaa." in tab.code.toPlainText()


def test_bad_chain_file_names_the_step_and_keeps_the_chain(qtbot, tab, tmp_path, monkeypatch) -> None:
    messages = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: messages.append(args[2]))
    before = tab.chain()
    bad = tmp_path / "bad.json"
    bad.write_text('{"steps": [{"name": "Fliplr"}, {"name": "Blur9000"}]}', encoding="utf-8")
    assert not tab.load_chain_file(bad)
    assert "step 2 (Blur9000)" in messages[0]
    assert tab.chain() == before


def test_the_chain_reaches_training_only_when_used(qtbot, tab) -> None:
    state = tab._state
    assert state.chain == tab.chain() and state.training_chain() is None
    tab.use_box.setChecked(True)
    assert state.train.use_chain and state.training_chain() == tab.chain()
    tab.set_chain(builtin_chain("keras"))
    assert state.training_chain().name == builtin_chain("keras").name
    state.train.use_chain = False  # as the Train tab's box does
    assert not tab.use_box.isChecked() and state.training_chain() is None


def test_a_chain_chosen_elsewhere_is_shown_and_used(qtbot, tab) -> None:
    """The Train tab's recipe sets the training chain: this tab shows it, ticked for training;
    leaving the recipe's template unticks it and the editor keeps the chain."""
    state = tab._state
    photos = builtin_chain("photos")
    state.train.choose_template("photo-convnet")
    state.set_chain(photos)  # as the Train tab does with the recipe's chain
    assert tab.chain() == photos and tab.use_box.isChecked()
    assert tab.preset_combo.currentData() == "photos"
    assert state.training_chain() == photos
    state.train.choose_template("chapter-convnet")
    assert not tab.use_box.isChecked() and tab.chain() == photos  # the editor keeps it


def colour_folder(root: Path, side: int) -> Path:
    rng = np.random.default_rng(2)
    for name in ("dent", "scratch"):
        (root / name).mkdir(parents=True)
        for i in range(2):
            cv2.imwrite(str(root / name / f"{i}.png"), rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
    return root


def model_view_on(qtbot, dataset) -> tuple[AppState, AugmentTab]:
    """A shown tab whose model view has shown a batch of ``dataset``."""
    state = AppState()
    tab = shown(qtbot, AugmentTab(state), (1200, 800))
    with qtbot.waitSignal(tab.model_view.sig_viewed, timeout=120_000):
        state.set_dataset(dataset)
    return state, tab


@pytest.mark.parametrize("source, shape", [("builtin:mnist", (28, 28, 1)), ("photos", (224, 224, 3))])
def test_the_model_view_is_a_batch_of_the_training_pipeline(qtbot, tmp_path, source, shape) -> None:
    """Digits stay 28x28x1 and 224 px photos stay 224 px: the tab shows the pipeline's batch, not
    a fixed 150x150x3 of its own."""
    if source == "photos":
        source = str(colour_folder(tmp_path / "cars", 224))
    dataset = open_source(Source.parse(source, bare=True), report=NullReport(), cancel=threading.Event())
    state, tab = model_view_on(qtbot, dataset)
    assert tab.model_view.row.count() == 4
    assert f"float32 (4, {shape[0]}, {shape[1]}, {shape[2]})" in tab.model_view.caption.text()
    assert f"the model's input is {shape}" in tab.model_view.caption.text()
    shown = tab.model_view.row.itemAt(0).widget().pixmap().toImage()
    assert shown.isGrayscale() == (shape[2] == 1)  # digits in gray, not false colours

    item = tab.picker.current_item()
    data = DataSpec(dataset.source, seed=tab._state.augment.seed, chain=tab.chain().to_json())
    batch = preview_batch(dataset, data, [item] * 4, report=NullReport(), cancel=threading.Event())
    assert batch.images.shape == (4, *shape)

    with qtbot.waitSignal(tab.model_view.sig_viewed, timeout=60_000):
        state.train.longest_side = 64  # the Train tab's Image size
    assert f"(4, 64, 64, {shape[2]})" in tab.model_view.caption.text()


def test_the_model_view_scales_pixels_as_the_chosen_base_does(qtbot, tmp_path) -> None:
    """A pretrained base takes its own pixel scaling (MobileNetV2: [-1, 1]); the view shows the
    batch the base is fed, and the pictures as RGB again, not a fixed 1/255 of its own."""
    dataset = open_source(FolderSource(str(colour_folder(tmp_path / "cars", 64))), report=NullReport(),
                          cancel=threading.Event())
    state, tab = model_view_on(qtbot, dataset)
    assert "rescale 1/255" in tab.model_view.pipeline.text()
    with qtbot.waitSignal(tab.model_view.sig_viewed, timeout=120_000):
        state.train.choose_template("mobilenetv2")
    assert "MobileNetV2's own: scaled to [-1, 1]" in tab.model_view.pipeline.text()
    low, high = (float(v) for v in tab.model_view.caption.text().split("values ")[1].split(";")[0].split(" to "))
    assert -1.0 <= low < 0.0 < high <= 1.0  # random colours cover the range: not [0, 1]


def test_the_chain_is_the_models_and_the_editor_follows_it(qtbot, tab) -> None:
    """Edits are the Augment settings' methods (the chain's rules check them); a chain set from
    elsewhere is shown whole; a parameter being dragged keeps its control."""
    from PySide6.QtCore import Qt

    augment, editor = tab._state.augment, tab.editor
    augment.set_step(0, enabled=False)
    assert editor.steps_list.item(0).checkState() == Qt.CheckState.Unchecked
    assert augment.chain.name == "" and tab.preset_combo.currentIndex() == -1  # no longer the preset
    editor.steps_list.setCurrentRow(0)
    control = editor._controls["p"]
    control.setValue(0.25)
    assert augment.chain.steps[0].params["p"] == 0.25 and editor._controls["p"] is control
    keras = builtin_chain("keras")
    augment.chain = keras
    assert [editor.steps_list.item(i).text() for i in range(editor.steps_list.count())] == \
        [step.name + (f"  (sometimes {step.sometimes:g})" if step.sometimes is not None else "")
         for step in keras.steps]
    assert tab.preset_combo.currentData() == "keras" and "iaa.Affine" in tab.code.toPlainText()


def test_sometimes_says_always_below_zero_and_a_probability_above(qtbot, tab) -> None:
    """The step's ``sometimes`` control takes the chain's declaration: its lowest value reads
    "always" (None), 0.5 wraps the step in iaa.Sometimes(0.5)."""
    editor, augment = tab.editor, tab._state.augment
    editor.steps_list.setCurrentRow(0)
    spin = editor._controls["sometimes"]
    assert spin.text() == "always" and spin.maximum() == 1.0
    spin.setValue(0.5)
    assert augment.chain.steps[0].sometimes == 0.5
    spin.setValue(spin.minimum())
    assert augment.chain.steps[0].sometimes is None
