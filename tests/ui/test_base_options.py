"""The Train tab's settings of a pretrained base: weights, fine-tuning, cached features.

Real widgets and a real (tiny) training run; KERAS_HOME is the test's own empty folder, so
ImageNet's weights are never on this computer here.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import filterscope.ui.widgets.base_options as base_options
import pytest
from filterscope.core.augment.chain import builtin_chain
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.source import FolderSource
from filterscope.core.data.sources import open_source
from filterscope.ui.binding import set_path

from tests.transfer_data import base_weights_file, colour_folder
from tests.ui.screen import train_tab

WAIT_MS = 120_000


@pytest.fixture
def tab(qtbot, data_dir, tmp_path):
    folder = colour_folder(tmp_path / "colours", per_class=4)
    dataset = open_source(FolderSource(str(folder)), report=NullReport(), cancel=threading.Event())
    tab = train_tab(qtbot, dataset, tmp_path / "runs", (1200, 900))
    tab._state.train.update({"epochs": 1, "longest_side": 32})
    tab.show()
    return tab


def choose(combo, data) -> None:
    """Pick ``data`` in ``combo`` as a user does (``activated`` follows a click, not code)."""
    combo.setCurrentIndex(combo.findData(data))
    combo.activated.emit(combo.currentIndex())


def test_the_controls_show_only_for_a_model_on_a_base(qtbot, tab) -> None:
    controls = tab.options.base_options
    assert not controls.isVisible()
    choose(tab.options.template_combo, "vgg16")
    assert controls.isVisible() and controls.fine_tune_spin.maximum() == 5
    choose(tab.options.template_combo, "mobilenetv2")
    assert controls.isVisible() and controls.fine_tune_spin.maximum() == 19
    choose(tab.options.template_combo, "chapter-convnet")
    assert not controls.isVisible()
    assert tab.run_spec().model.base is None and not tab.run_spec().cache_features


def test_offline_imagenet_says_which_file_to_put_where_and_start_fails_plainly(qtbot, tab) -> None:
    choose(tab.options.template_combo, "vgg16")
    controls = tab.options.base_options
    assert controls.weights_label.isVisible()
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in controls.weights_label.text()
    assert "not on this computer" in controls.weights_combo.itemText(0)
    assert "random weights" in controls.weights_combo.itemData(0, 3)  # Qt.ToolTipRole
    with qtbot.waitSignal(tab.runner.sig_failed, timeout=WAIT_MS):
        tab.start()
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in tab.job_panel.message()
    choose(controls.weights_combo, "random")
    assert not controls.weights_label.isVisible()


def test_random_weights_and_fine_tuning_reach_the_run_spec(qtbot, tab) -> None:
    choose(tab.options.template_combo, "vgg16")
    controls = tab.options.base_options

    def trainable(layer: str) -> str:
        rows = [r for r in range(tab.details.table.rowCount())
                if tab.details.table.item(r, 0).text().startswith(f"{layer} (")]
        return tab.details.table.item(rows[0], 3).text()

    assert trainable("block5_conv3") == trainable("block4_conv3") == "0"
    choose(controls.weights_combo, "random")
    controls.fine_tune_spin.setValue(2)
    base = tab.run_spec().model.base
    assert (base.name, base.weights, base.fine_tune_blocks) == ("vgg16", "random", 2)
    assert tab.run_spec().optimizer.learning_rate == pytest.approx(0.0001)  # a tenth, as the CLI
    assert trainable("block5_conv3") == trainable("block4_conv3") == "2,359,808"
    assert trainable("block3_conv3") == "0"
    controls.fine_tune_spin.setValue(0)
    assert tab.run_spec().optimizer.learning_rate == pytest.approx(0.001)


def test_head_epochs_show_only_while_fine_tuning_and_reach_the_run(qtbot, tab) -> None:
    choose(tab.options.template_combo, "vgg16")
    controls, settings = tab.options.base_options, tab.options.settings
    assert not controls.head_epochs_spin.isEnabled()  # a frozen base: the head is all that trains
    set_path(settings, "model.base.fine_tune_blocks", 2)
    set_path(settings, "model.base.head_epochs", 4)
    assert controls.head_epochs_spin.isEnabled() and controls.head_epochs_spin.value() == 4
    assert tab.run_spec().model.base.head_epochs == 4
    set_path(settings, "model.base.fine_tune_blocks", 0)
    assert not controls.head_epochs_spin.isEnabled()


def test_cached_features_with_augmentation_or_fine_tuning_are_explained(qtbot, tab) -> None:
    choose(tab.options.template_combo, "mobilenetv2")
    controls = tab.options.base_options
    choose(controls.weights_combo, "random")
    controls.cache_box.setChecked(True)
    assert not controls.conflict_label.isVisible()
    assert tab.run_spec().cache_features
    tab._state.set_chain(builtin_chain("keras"))
    tab._state.train.use_chain = True
    assert tab.options.controls["use_chain"].isChecked()
    assert controls.conflict_label.isVisible() and controls.uncached_button.isVisible()
    assert "augmentation" in controls.conflict_label.text()
    tab.start()  # refused before any job, in the tab's words
    assert not tab.runner.is_running() and "augmentation" in tab.result_label.text()
    controls.uncached_button.click()
    assert not controls.cache_box.isChecked() and not controls.conflict_label.isVisible()
    assert not tab.run_spec().cache_features and tab.run_spec().data.chain is not None
    tab.options.controls["use_chain"].setChecked(False)
    controls.cache_box.setChecked(True)
    controls.fine_tune_spin.setValue(1)
    assert "fine-tuning" in controls.conflict_label.text()
    controls.fine_tune_spin.setValue(0)
    assert not controls.conflict_label.isVisible()


def test_a_picked_weights_file_is_used_then_remembered_as_imagenet(qtbot, tab, tmp_path,
                                                                    monkeypatch) -> None:
    file, _ = base_weights_file("mobilenetv2", tmp_path / "mine" / "mobilenet.h5")
    monkeypatch.setattr(base_options.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *args, **kwargs: (str(file), "")))
    choose(tab.options.template_combo, "mobilenetv2")
    controls = tab.options.base_options
    choose(controls.weights_combo, "file")
    assert controls.weights_combo.currentText() == "File: mobilenet.h5"
    assert tab.run_spec().model.base.weights == str(file)
    controls.cache_box.setChecked(True)
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS) as finished:
        tab.start()
    record = json.loads((Path(finished.args[0].run_dir) / "run.json").read_text(encoding="utf-8"))
    assert record["weights"]["label"] == "weights from mobilenet.h5"
    assert record["features"] is not None
    controls.refresh()  # the core remembered the file: ImageNet is on this computer now
    assert controls.weights_combo.itemText(0) == "ImageNet"
