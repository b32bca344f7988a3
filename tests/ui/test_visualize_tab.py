"""The Visualise tab through qtbot: a real run trained on MNIST, real gradient ascent in a worker,
the picture repainting, Stop, Save, mosaics, feature maps, Grad-CAM, weights and refused models."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.data.images import read_image
from filterscope.ui.state import AppState
from filterscope.ui.tabs import visualize_tab
from filterscope.ui.tabs.visualize_tab import VisualizeTab
from filterscope.ui.widgets import model_picker, picture_saver
from filterscope.ui.widgets.ascent_view import WAITING

from tests.ui.screen import larger_text, shown
from tests.visualize_models import RUN_NAME, lambda_model_file

WAIT_MS = 120_000
LONG = 100_000  # steps: a picture that only Stop ends


@pytest.fixture
def state(mnist, mnist_run: Path) -> AppState:
    state = AppState()
    state.set_runs_dir(mnist_run.parent)
    state.set_dataset(mnist)
    return state


@pytest.fixture
def tab(qtbot, state) -> VisualizeTab:
    """The tab shown: it lists the runs folder and loads the newest run."""
    tab = VisualizeTab(state)
    return shown(qtbot, tab, (1300, 850), until=tab.load_runner.sig_finished)


def paint(qtbot, tab: VisualizeTab, *, layer: str = "block2_conv", index: int = 1, steps: int = 40,
          mosaic: int = 0) -> None:
    """Choose a layer and a filter (or a mosaic) and paint it to the end."""
    assert tab.layers.select(layer)
    tab._state.visualize.update({"filter": index, "mosaic": mosaic > 0, "mosaic_count": max(mosaic, 2),
                                 "steps": steps})
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.controls.start_button.click()


def test_a_hidden_tab_does_no_work(qtbot, state) -> None:
    tab = VisualizeTab(state)
    qtbot.addWidget(tab)
    runners = (tab.tf_status.runner, tab.runs_runner, tab.load_runner, tab.probe.image_runner, tab.probe.probe_runner)
    assert not any(runner.is_running() for runner in runners)
    assert tab.session() is None and not tab.controls.start_button.isEnabled()


def test_the_newest_run_is_loaded_with_its_layers_and_classes(qtbot, tab) -> None:
    assert tab.session().loaded.name == RUN_NAME
    assert RUN_NAME in tab.picker.combo.currentText() and RUN_NAME in tab.picker.status.text()
    names = [tab.layers.item(r, 0).text() for r in range(tab.layers.rowCount())]
    assert names[:4] == ["block1_conv", "block1_relu", "block1_maxpool", "block2_conv"]
    assert tab.layers.item(3, 2).text() == "11 × 11 × 12"
    assert tab.layers.current().name == "block1_conv"  # the first convolution
    assert tab.controls.filter_spin.maximum() == 5
    assert tab.controls.class_combo.count() == 10
    assert tab.controls.start_button.isEnabled()
    tab.layers.select("flatten")  # not a convolution: Start says why it cannot paint
    assert not tab.controls.start_button.isEnabled()
    assert "flatten (Flatten) is not a convolution" in tab.controls.hint.text()


def test_the_picture_changes_between_partials_and_the_objective_is_plotted(qtbot, tab) -> None:
    seen: list[np.ndarray] = []
    tab.runner.sig_partial.connect(lambda _p: seen.append(tab.ascent.picture().copy()))  # after the tab's slot
    paint(qtbot, tab, steps=40)
    assert len(seen) >= 4 and seen[0].shape == (28, 28, 3)
    assert sum(not np.array_equal(a, b) for a, b in zip(seen, seen[1:])) >= 3
    assert tab.ascent.frames_shown() == 40 // visualize_tab.EVERY
    assert "block2_conv filter 1: objective" in tab.ascent.caption.text()
    qtbot.waitUntil(lambda: tab.ascent.plot.lines_drawn() == 1, timeout=5000)
    assert tab.controls.start_button.isEnabled() and not tab.controls.stop_button.isEnabled()


def test_stop_takes_effect_and_the_tab_stays_usable(qtbot, tab) -> None:
    tab._state.visualize.steps = LONG
    with qtbot.waitSignal(tab.runner.sig_job_ended, timeout=WAIT_MS):
        tab.controls.start_button.click()
        assert tab.controls.stop_button.isEnabled()
        qtbot.waitUntil(lambda: tab.ascent.frames_shown() >= 2, timeout=WAIT_MS)
        tab.controls.stop_button.click()
        assert not tab.runner.is_running()
        assert tab.controls.start_button.isEnabled() and not tab.controls.stop_button.isEnabled()
    assert "Stopped after" in tab.ascent.caption.text()
    assert tab.ascent.picture() is not None and tab.controls.save_button.isEnabled()
    paint(qtbot, tab, steps=10)  # and it paints again
    assert "objective" in tab.ascent.caption.text()


def test_save_writes_the_picture_as_png(qtbot, tab, tmp_path, monkeypatch) -> None:
    paint(qtbot, tab, layer="block1_conv", index=2, steps=20)
    asked = {}

    def save_dialog(_parent, _title, suggested, _filter):
        asked["suggested"] = suggested
        return str(tmp_path / "filter"), "PNG image (*.png)"

    monkeypatch.setattr(picture_saver.QFileDialog, "getSaveFileName", save_dialog)
    tab.controls.save_button.click()
    assert Path(asked["suggested"]).name == "block1_conv-filter-2.png"
    saved = read_image(tmp_path / "filter.png")
    assert saved.shape == (140, 140, 3)  # 28 px enlarged 5x, so it can be seen
    np.testing.assert_array_equal(saved[::5, ::5], tab.ascent.picture())
    assert "Saved" in tab.ascent.caption.text()
    monkeypatch.setattr(picture_saver.QFileDialog, "getSaveFileName",
                        lambda *_args: (str(tmp_path / "gone" / "x.png"), ""))
    tab.controls.save_button.click()  # a folder that is not there: said, not raised
    assert tab.ascent.caption.text() == f"Not saved: {tmp_path / 'gone' / 'x.png'}: No such file or directory"


def test_a_mosaic_fills_its_tiles_batch_by_batch(qtbot, tab, monkeypatch) -> None:
    monkeypatch.setattr(visualize_tab, "BATCH", 8)  # block2_conv's 12 filters: 8, then 4
    first_batch: list[np.ndarray] = []

    def on_partial(payload) -> None:
        if type(payload).__name__ == "MosaicTiles" and not first_batch:
            first_batch.append(tab.ascent.picture().copy())

    tab.runner.sig_partial.connect(on_partial)
    paint(qtbot, tab, layer="block2_conv", index=0, steps=10, mosaic=16)  # as many as there are
    cell = 28 + 2  # tile and gap: 4 columns, 3 rows

    def tiles(picture: np.ndarray) -> list[np.ndarray]:
        return [picture[r * cell:r * cell + 28, c * cell:c * cell + 28] for r in range(3) for c in range(4)]

    picture = tab.ascent.picture()
    assert picture.shape == (3 * cell - 2, 4 * cell - 2, 3)
    assert all(tile.std() > 0 for tile in tiles(picture))  # every filter painted
    early = tiles(first_batch[0])
    assert all(tile.std() > 0 for tile in early[:8])
    assert all((tile == WAITING).all() for tile in early[8:])  # the second batch had not begun
    assert "block2_conv filters 0 to 11: objective" in tab.ascent.caption.text()


def test_starting_a_new_picture_cancels_the_old(qtbot, tab) -> None:
    tab._state.visualize.steps = LONG
    tab.controls.start_button.click()
    qtbot.waitUntil(lambda: tab.ascent.frames_shown() >= 1, timeout=WAIT_MS)
    with qtbot.waitSignal(tab.runner.sig_cancelled, timeout=1000):
        paint(qtbot, tab, layer="block1_conv", index=4, steps=15)
    assert "block1_conv filter 4" in tab.ascent.caption.text()
    assert tab.ascent.frames_shown() == 3  # only the new picture's frames


def test_image_mode_shows_feature_maps_and_grad_cam(qtbot, tab) -> None:
    tab.layers.select("block1_conv")
    with qtbot.waitSignal(tab.probe.probe_runner.sig_finished, timeout=WAIT_MS):
        tab.pages.setCurrentWidget(tab.probe)
    assert "Feature maps of block1_conv" in tab.probe.maps_title.text()
    assert "all 6" in tab.probe.maps_title.text()
    assert tab.probe.cams_shown() == 3
    assert "probability" in tab.probe.cams[0][1].text()
    assert not tab.probe.cams[0][0].pixmap().isNull() and not tab.probe.fed.pixmap().isNull()
    with qtbot.waitSignal(tab.probe.probe_runner.sig_finished, timeout=WAIT_MS):
        tab.layers.select("block2_maxpool")
    assert "Feature maps of block2_maxpool" in tab.probe.maps_title.text()
    tab.layers.select("flatten")
    assert "flatten (Flatten) has no feature maps" in tab.probe.note.text()
    with qtbot.waitSignal(tab.probe.probe_runner.sig_finished, timeout=WAIT_MS):
        tab.layers.select("block2_conv")
        tab.probe.picker.item_spin.setValue(3)  # another image


def test_the_weights_page_draws_the_first_layer(qtbot, tab) -> None:
    with qtbot.waitSignal(tab.weights.runner.sig_finished, timeout=WAIT_MS):
        tab.pages.setCurrentWidget(tab.weights)
    assert tab.weights.caption.text().startswith("block1_conv: 6 filters of 3 × 3 × 1")
    with qtbot.waitSignal(tab.weights.runner.sig_finished, timeout=WAIT_MS):
        tab.layers.select("block2_conv")  # a deeper convolution: its first input channel
    assert tab.weights.caption.text().startswith("block2_conv: 12 filters of 3 × 3 × 6")
    with qtbot.waitSignal(tab.weights.runner.sig_finished, timeout=WAIT_MS):
        tab.layers.select("flatten")  # not a convolution: the first layer's weights
    assert tab.weights.caption.text().startswith("block1_conv:")


def test_a_class_is_painted_with_its_name(qtbot, tab) -> None:
    tab._state.visualize.update({"kind": "class", "class_index": 7, "steps": 20})
    assert tab.controls.class_combo.currentText().startswith("7: ")  # the controls show the model
    assert tab.controls.start_button.isEnabled()
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.controls.start_button.click()
    assert "class 7 (7): objective" in tab.ascent.caption.text()
    assert tab.ascent.plot.axes.get_title() == "Objective: class score"


def test_a_lambda_model_is_refused_and_the_tab_stays_usable(qtbot, tab, tmp_path, monkeypatch) -> None:
    path = lambda_model_file(tmp_path / "lambda.keras")
    monkeypatch.setattr(model_picker.QFileDialog, "getOpenFileName",
                        lambda *_args: (str(path), "Keras model (*.keras)"))
    with qtbot.waitSignal(tab.load_runner.sig_failed, timeout=WAIT_MS):
        tab.picker.open_button.click()
    status = tab.picker.status.text()
    assert "Lambda" in status and "lambda.keras" in status and f"Still using {RUN_NAME}" in status
    assert tab.session().loaded.name == RUN_NAME
    paint(qtbot, tab, steps=10)


def test_vgg16_offers_random_weights_plainly_when_imagenet_is_absent(qtbot, tab) -> None:
    combo = tab.picker.combo
    imagenet = combo.findText("VGG16, ImageNet weights (not on this computer)")
    assert imagenet >= 0 and not combo.model().item(imagenet).isEnabled()
    tab.picker.size_spin.setValue(32)  # the convolutional base alone: small and quick
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.picker.choose("vgg16", "random")
    status = tab.picker.status.text()
    assert "Random weights" in status and "never downloads" in status
    assert tab.layers.current().name == "block1_conv1"
    assert not tab.controls.kind_combo.model().item(1).isEnabled()  # no classes at 32 px


def test_the_run_just_trained_is_loaded_when_the_tab_is_shown(qtbot, tab, state, mnist_run, tmp_path) -> None:
    fresh = tmp_path / "runs" / "just-trained"
    shutil.copytree(mnist_run, fresh)
    tab.hide()
    state.set_runs_dir(fresh.parent)
    state.run_saved(fresh)
    assert not tab.runs_runner.is_running()  # hidden: nothing until it is shown
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.show()
    assert tab.session().loaded.name == "just-trained"


def test_the_objective_plot_follows_the_text_size(qtbot) -> None:
    """View ▸ Larger text enlarges the objective's chart like the Train tab's curves."""
    from filterscope.ui.widgets.ascent_view import ObjectivePlotWidget

    plot = ObjectivePlotWidget()
    qtbot.addWidget(plot)
    plot.set_history(np.array([[0.0], [1.0], [2.0]], np.float32), "class score")

    def sizes() -> tuple[float, float]:
        return plot.axes.title.get_fontsize(), plot.axes.xaxis.label.get_fontsize()

    qtbot.waitUntil(lambda: plot.lines_drawn() == 1, timeout=5000)
    before = sizes()
    with larger_text():
        qtbot.waitUntil(lambda: all(a > 1.8 * b for a, b in zip(sizes(), before)), timeout=5000)
    qtbot.waitUntil(lambda: sizes() == before, timeout=5000)


def test_the_code_page_shows_the_ascent_start_would_run(qtbot, tab, mnist_run) -> None:
    assert tab.layers.select("block2_conv")
    tab._state.visualize.filter = 3
    tab.pages.setCurrentWidget(tab.code)
    code = tab.code.toPlainText()
    assert str(mnist_run / "best.keras") in code and "tf.GradientTape()" in code
    assert "INDICES = tf.constant([3])" in code and "if layer.name == 'block2_conv':" in code
    tab.controls.filter_spin.setValue(4)  # the page follows the controls
    assert "INDICES = tf.constant([4])" in tab.code.toPlainText()


def test_a_projects_model_and_layer_are_opened_again(qtbot, state, mnist_run: Path, tmp_path) -> None:
    """Settings put back (a project's) name the model and layer: the tab opens that model as
    soon as its runs are listed and chooses that layer, not the newest run's first one."""
    import os

    runs = tmp_path / "runs"
    wanted, newest = runs / "wanted-run", runs / "newest-run"
    for i, folder in enumerate((wanted, newest)):
        shutil.copytree(mnist_run, folder)
        os.utime(folder / "run.json", (1_900_000_000 + i, 1_900_000_000 + i))
    state.set_runs_dir(runs)
    state.visualize.update({"model": str(wanted), "layer": "block2_conv", "filter": 5})
    tab = VisualizeTab(state)
    shown(qtbot, tab, until=tab.load_runner.sig_finished)
    assert tab.session().loaded.name == wanted.name  # not the newest run: the project's
    assert tab.layers.current().name == "block2_conv" and tab.controls.filter_spin.value() == 5
    assert tab.controls.problem() is None



def test_the_pages_titles_read_as_written(qtbot) -> None:
    """A lone "&" in a tab's title marks a shortcut and is drawn as an underscore under the next
    letter ("Maps _Grad-CAM" was shown at first): every "&" meant as text is doubled."""
    import re

    from filterscope.ui.widgets.visual_pages import VisualPagesWidget

    pages = VisualPagesWidget()
    qtbot.addWidget(pages)
    titles = [pages.tabText(i) for i in range(pages.count())]
    assert not [t for t in titles if re.search(r"(?<!&)&(?!&)", t.replace("&&", ""))]
    assert "Maps && Grad-CAM" in titles and all(pages.tabToolTip(i) for i in range(pages.count()))
