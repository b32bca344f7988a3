"""The Train tab through qtbot: real Keras training in a worker, live curves, stop, overlays."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from filterscope.core.base.jobs import NullReport
from filterscope.core.data.source import FolderSource
from filterscope.core.data.sources import open_source
from filterscope.core.data.splits import make_split
from filterscope.core.training.base_spec import BASE_NAMES
from filterscope.core.training.frames import BatchFrame, EpochFrame
from filterscope.core.training.model_spec import templates
from filterscope.ui.tabs.train_tab import TrainTab

from tests.split_tree import make_split_tree
from tests.ui.screen import larger_text, train_tab

WAIT_MS = 120_000


@pytest.fixture
def tab(qtbot, mnist, tmp_path):
    """The Train tab on the built-in digits (conftest's ``mnist``), one epoch, not shown."""
    tab = train_tab(qtbot, mnist, tmp_path / "runs")
    tab._state.train.update({"epochs": 1, "batch_size": 256})
    return tab


def test_summary_is_the_chapters_convnet_without_tensorflow(qtbot, tab) -> None:
    params = [tab.details.table.item(r, 2).text() for r in range(tab.details.table.rowCount())]
    assert "3,730 parameters on (28, 28, 1)" in tab.details.total.text()
    assert [p for p in params if p != "0"] == ["60", "660", "3,010"]


def test_a_model_too_big_for_the_input_is_refused_before_training(qtbot, tab) -> None:
    deep = templates()["chapter-convnet"]
    deep = type(deep).from_json({**deep.to_json(), "blocks": deep.to_json()["blocks"] * 4})
    tab._state.train.model = deep
    assert not tab.start_button.isEnabled()
    assert "28" in tab.details.total.text()


def test_start_shows_curves_then_finishes_and_runs_overlay(qtbot, tab) -> None:
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.start()
        qtbot.waitUntil(lambda: tab.curves.batches_drawn() > 0, timeout=WAIT_MS)
    assert tab.curves.epochs_drawn() == 1
    assert tab.runs_list.count() == 1
    assert "best validation accuracy" in tab.runs_list.item(0).text()
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.start()
    for row in range(2):
        tab.runs_list.item(row).setCheckState(tab.runs_list.item(row).checkState().__class__.Checked)
    names = [tab.runs_list.item(row).data(256) for row in range(2)]  # Qt.UserRole
    labels = [line.get_label() for line in tab.curves.acc_axes.lines]
    assert [f"{name} (validation)" for name in names] == [l for l in labels if l.endswith(" (validation)")]


def test_stop_during_training_leaves_the_tab_usable(qtbot, tab, tmp_path) -> None:
    tab._state.train.update({"epochs": 50, "batch_size": 32})
    with qtbot.waitSignal(tab.runner.sig_job_ended, timeout=WAIT_MS):
        with qtbot.waitSignal(tab.runner.sig_cancelled, timeout=WAIT_MS):
            tab.start()
            qtbot.waitUntil(lambda: tab.curves.batches_drawn() > 2, timeout=WAIT_MS)
            tab.stop_button.click()
        assert tab.start_button.isEnabled()
    qtbot.waitUntil(lambda: not tab.read_runner.is_running(), timeout=WAIT_MS)
    saved = sorted((tmp_path / "runs").iterdir()) if (tmp_path / "runs").exists() else []
    assert tab.runs_list.count() == len(saved)  # nothing, or the run with its saved epochs
    tab._state.train.update({"epochs": 1, "batch_size": 256})
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.start()


def test_keras_code_follows_the_settings_and_builds_the_summarised_model(qtbot, tab) -> None:
    code = tab.details.code.toPlainText()
    assert 'layers.Conv2D(6, 3, name="block1_conv")' in code and "keras.optimizers.Adam(" in code
    assert "epochs=1" in code and "batch_size=256" in code and "shape (N, 28, 28, 1)" in code
    train = tab._state.train
    train.set_optimizer_kind("sgd")
    train.choose_template("convnet-l2")
    train.epochs = 7
    assert tab.options.optimizer_combo.currentData() == "sgd"  # the controls follow the model
    assert tab.options.controls["epochs"].value() == 7
    code = tab.details.code.toPlainText()
    assert "keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)" in code
    assert "kernel_regularizer=regularizers.l2(0.01)" in code and "epochs=7" in code
    namespace: dict = {}
    exec(compile(code[:code.index("# x_train")], "<tab code>", "exec"), namespace)  # noqa: S102
    params = [int(tab.details.table.item(r, 2).text().replace(",", "")) for r in range(tab.details.table.rowCount())]
    assert namespace["model"].count_params() == sum(params) == 3_730


def test_validation_comes_from_the_dataset_tabs_split_when_there_is_one(qtbot, tab, mnist,
                                                                       data_dir) -> None:
    options = tab.options
    assert not options.uses_split() and options.controls["val_fraction"].isVisibleTo(tab)
    assert tab.run_spec().data.split is None
    split = make_split(mnist, val_per_class=12, seed=4)
    tab._state.set_manifest(split)
    assert options.uses_split() and not options.controls["val_fraction"].isVisibleTo(tab)
    assert "120 validation images" in options.val_combo.currentText()
    data = tab.run_spec().data
    assert data.manifest is None and data.split["seed"] == 4  # recorded in the run, no file
    assert data.split_manifest().subsets == split.subsets and not (data_dir / "manifests").exists()
    tab._state.train.use_split = False  # back to a held-out fraction
    assert options.val_combo.currentIndex() == 0
    assert tab.run_spec().data.split is None and tab.run_spec().data.val_fraction == 0.2


def test_a_dataset_split_by_its_folders_validates_on_its_val_folder(qtbot, tab, mnist, tmp_path) -> None:
    make_split_tree(tmp_path / "split", {"train": {"a": 3, "b": 3}, "valid": {"a": 1, "b": 1},
                                         "test": {"a": 1}})
    split = open_source(FolderSource(str(tmp_path / "split")), report=NullReport(), cancel=threading.Event())
    tab._state.set_dataset(split)
    assert tab.options.uses_split() and "its valid/ folder, 2 images" in tab.options.val_combo.currentText()
    spec = tab.run_spec().data
    assert spec.manifest is None and spec.source == split.source  # the plan uses the folders
    tab._state.set_dataset(mnist)
    assert not tab.options.uses_split()


def test_runs_already_in_the_runs_folder_are_listed_and_overlay(qtbot, tab, tmp_path) -> None:
    announced = []
    tab._state.sig_run_saved.connect(announced.append)  # the Visualise tab offers the new run
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        tab.start()
    saved = tab.runs_list.item(0).data(256)
    assert announced == [tmp_path / "runs" / saved]
    fresh = TrainTab(tab._state)
    qtbot.addWidget(fresh)
    fresh.runs_folder.edit.setText(str(tmp_path / "runs"))
    with qtbot.waitSignal(fresh.runs_runner.sig_finished, timeout=WAIT_MS):
        fresh.runs_folder.edit.editingFinished.emit()
    assert fresh.runs_list.count() == 1 and fresh.runs_list.item(0).data(256) == saved
    assert "best validation accuracy" in fresh.runs_list.item(0).text()
    fresh.runs_list.item(0).setCheckState(fresh.runs_list.item(0).checkState().__class__.Checked)
    assert [line.get_label() for line in fresh.curves.acc_axes.lines] == [f"{saved} (validation)"]
    fresh.runs_folder.edit.setText(str(tmp_path / "elsewhere"))
    with qtbot.waitSignal(fresh.runs_runner.sig_finished, timeout=WAIT_MS):
        fresh.runs_folder.edit.editingFinished.emit()
    assert fresh.runs_list.count() == 0 and not fresh.curves.acc_axes.lines
    assert tab._state.runs_dir == tmp_path / "elsewhere"  # the folder the other tabs list


def test_image_size_follows_the_choice_and_reaches_the_run(qtbot, tab) -> None:
    assert tab.run_spec().data.image_size is None  # the dataset's own 28 x 28
    tab._state.train.longest_side = 56
    assert tab.options.controls["longest_side"].value() == 56
    assert "on (56, 56, 1) inputs" in tab.details.total.text()
    assert "shape (N, 56, 56, 1)" in tab.details.code.toPlainText()
    assert tab.run_spec().data.image_size == (56, 56)
    tab._state.train.longest_side = None
    size = tab.options.controls["longest_side"]
    assert size.text() == "Dataset's size" and "(28, 28, 1)" in tab.details.total.text()
    size.setValue(64)  # the control sets the model
    assert tab._state.train.longest_side == 64


def test_choosing_photo_convnet_shows_its_recipe_and_trains_with_it(qtbot, tab) -> None:
    from filterscope.core.augment.chain import builtin_chain
    from filterscope.core.training.recipes import recipes

    recipe = recipes()["photo-convnet"]
    options, train, controls = tab.options, tab._state.train, tab.options.controls
    assert train.fit == type(recipe.fit)()  # the chapter's: everything off
    assert not options._form.isRowVisible(controls["fit.reduce_lr_factor"])
    assert not options._form.isRowVisible(options.recipe_label)
    index = options.template_combo.findData("photo-convnet")
    options.template_combo.setCurrentIndex(index)
    options.template_combo.activated.emit(index)  # as the user picks it
    assert train.epochs == recipe.epochs and controls["epochs"].value() == recipe.epochs
    assert options._form.isRowVisible(options.recipe_label)
    assert recipe.summary in options.recipe_label.text()
    assert controls["longest_side"].value() == recipe.longest_side
    assert controls["fit.class_weights"].isChecked()
    assert controls["fit.early_stopping"].value() == recipe.fit.early_stopping
    assert controls["fit.reduce_lr_patience"].value() == recipe.fit.reduce_lr_patience
    assert options._form.isRowVisible(controls["fit.reduce_lr_factor"])
    # the digits are grey: the recipe's measured chain is none (a 6 upside down is a 9), said so
    assert tab._state.chain == builtin_chain("none") and tab.options.controls["use_chain"].isChecked()
    assert "a 6 upside down is a 9" in tab.proposal.chain_label.text()
    assert not tab.proposal.template_label.isVisibleTo(tab)  # photo-transfer is for colour photos
    run = tab.run_spec()
    assert run.fit == recipe.fit and run.model == recipe.model and run.epochs == recipe.epochs
    assert run.data.chain is None
    assert run.optimizer.learning_rate == recipe.optimizer.learning_rate
    code = tab.details.code.toPlainText()
    assert "class_weight=class_weight" in code and "ReduceLROnPlateau" in code
    assert "layers.GroupNormalization(8" in code  # the recipe's per-image normalisation
    train.fit = type(recipe.fit)(early_stopping=0, class_weights=False,
                                 reduce_lr_patience=recipe.fit.reduce_lr_patience)
    assert tab.run_spec().fit.early_stopping == 0 and not tab.run_spec().fit.class_weights
    assert "EarlyStopping" not in tab.details.code.toPlainText()


def test_a_run_stopped_early_says_so_in_the_runs_list(qtbot, tab) -> None:
    from filterscope.core.training.runs import RunResult

    rows = [{"epoch": e, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.5 + e / 100,
             "learning_rate": 0.001} for e in range(1, 9)]
    result = RunResult(None, "finished", rows, 5, None, ["a", "b"], (8, 8, 3),
                       spec={"epochs": 60, "fit": {"early_stopping": 3}}, stopped_early=8)
    tab.runs_list.add_run(result)
    text = tab.runs_list.item(tab.runs_list.count() - 1).text()
    assert "stopped early after epoch 8" in text and "early stopping" in text


def test_picking_a_listed_run_shows_its_whole_curves(qtbot, tab) -> None:
    from filterscope.core.training.runs import RunResult

    rows = [{"epoch": e, "loss": 1.0 / e, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.4,
             "learning_rate": 0.001 if e < 4 else 0.0005} for e in range(1, 7)]
    tab.runs_list.add_run(RunResult(None, "finished", rows, 6, None, ["a", "b"], (8, 8, 3), spec={"epochs": 6}))
    assert tab.curves.epochs_drawn() == 0
    tab.runs_list.setCurrentRow(tab.runs_list.count() - 1)
    assert tab.curves.epochs_drawn() == 6 and tab.curves.lr_drops() == [4]


def test_curves_mark_where_the_learning_rate_fell(qtbot) -> None:
    from filterscope.ui.widgets.training_curves import TrainingCurvesWidget

    curves = TrainingCurvesWidget()
    qtbot.addWidget(curves)
    for epoch, lr in enumerate((1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4), start=1):
        curves.add_point(EpochFrame(epoch, 1.0, 0.5, 1.1, 0.4, lr, 1.0))
    curves._redraw()
    assert curves.lr_drops() == [3, 5]
    marks = [line for line in curves.acc_axes.lines if list(line.get_xdata()) == [2.5, 2.5]]
    assert len(marks) == 1 and marks[0].get_label() == "learning rate lowered"


def test_chart_text_follows_the_application_text_size(qtbot) -> None:
    """View ▸ Larger text must enlarge the curves' titles, labels and ticks for a projector."""
    from filterscope.ui.widgets.training_curves import TrainingCurvesWidget

    curves = TrainingCurvesWidget()
    qtbot.addWidget(curves)
    curves.add_point(EpochFrame(1, 1.0, 0.5, 1.1, 0.4, None, 1.0))
    curves._redraw()

    def sizes() -> tuple[float, float, float]:
        axes = curves.loss_axes
        return (axes.title.get_fontsize(), axes.xaxis.label.get_fontsize(),
                axes.xaxis.get_major_ticks()[0].label1.get_fontsize())

    before = sizes()
    with larger_text():
        qtbot.waitUntil(lambda: sizes()[0] > 1.8 * before[0], timeout=5000)
        assert all(a > 1.8 * b for a, b in zip(sizes(), before)), (sizes(), before)
    qtbot.waitUntil(lambda: sizes() == before, timeout=5000)


def test_the_running_mean_line_breaks_between_epochs(qtbot) -> None:
    """Keras restarts the running mean every epoch: joined, the line would jump at each boundary."""
    from filterscope.ui.widgets.training_curves import TrainingCurvesWidget

    curves = TrainingCurvesWidget()
    qtbot.addWidget(curves)

    def batches(*epochs: int) -> None:
        for epoch in epochs:
            for step in (1, 2, 3):
                curves.add_point(BatchFrame(epoch, step, 3, 3.0 - epoch + step / 10, step / 10))

    def line(axes) -> tuple[list[float], list[float]]:
        drawn = next(d for d in axes.lines if d.get_label().startswith("training (running mean"))
        return [float(v) for v in drawn.get_xdata()], [float(v) for v in drawn.get_ydata()]

    batches(1, 2)
    curves._redraw()
    nan = float("nan")
    x, loss = line(curves.loss_axes)
    np.testing.assert_allclose(x, [1 / 3, 2 / 3, 1, nan, 4 / 3, 5 / 3, 2])
    np.testing.assert_allclose(loss, [2.1, 2.2, 2.3, nan, 1.1, 1.2, 1.3])
    np.testing.assert_allclose(line(curves.acc_axes)[1], [0.1, 0.2, 0.3, nan, 0.1, 0.2, 0.3])
    assert curves.batches_drawn() == 6
    curves.start_run()  # a new run starts with its own first epoch: no gap in front
    batches(1)
    curves._redraw()
    np.testing.assert_allclose(line(curves.loss_axes)[1], [2.1, 2.2, 2.3])


def test_the_curves_legend_sits_under_the_charts_and_covers_no_curve(qtbot) -> None:
    """At presentation sizes a legend inside an axes hid the curves; one legend under both
    charts lists every line once."""
    from filterscope.ui.widgets.mpl_canvas import MplCanvasWidget
    from filterscope.ui.widgets.training_curves import TrainingCurvesWidget

    MplCanvasWidget.set_presenting(True)
    try:
        curves = TrainingCurvesWidget()
        qtbot.addWidget(curves)
        curves.resize(1200, 360)
        rows = [{"epoch": e, "loss": 1 / e, "accuracy": 1 - 1 / (e + 1), "val_loss": 1.2 / e,
                 "val_accuracy": 1 - 1.2 / (e + 1)} for e in (1, 2, 3)]
        curves.show_history(rows)
        curves.set_overlays([("20261201-032723-chapter-convnet-adam", {"val_loss": [0.9, 0.5],
                                                                       "val_accuracy": [0.6, 0.8]})])
        curves._redraw()
        curves.figure.canvas.draw()
        assert [a.get_legend() for a in (curves.loss_axes, curves.acc_axes)] == [None, None]
        (legend,) = curves.figure.legends
        assert [t.get_text() for t in legend.get_texts()] == [
            "training", "validation", "20261201-032723-chapter-convnet-adam (validation)"]
        box = legend.get_window_extent()
        for axes in (curves.loss_axes, curves.acc_axes):
            assert box.y1 <= axes.get_window_extent().y0  # wholly below the plotting area
    finally:
        MplCanvasWidget.set_presenting(False)


def test_a_stopped_run_is_listed_with_its_epochs_marked_stopped(qtbot, tab, tmp_path) -> None:
    tab._state.train.epochs = 500
    announced = []
    tab._state.sig_run_saved.connect(announced.append)
    with qtbot.waitSignal(tab.runner.sig_cancelled, timeout=WAIT_MS):
        tab.start()
        qtbot.waitUntil(lambda: tab.curves.epochs_drawn() >= 1, timeout=WAIT_MS)
        tab.stop_button.click()
    qtbot.waitUntil(lambda: tab.runs_list.count() == 1, timeout=WAIT_MS)
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert announced == [run_dir]  # a stopped run's saved epochs can be looked into too
    history = json.loads((run_dir / "history.json").read_text())
    epochs = len(history["epochs"])
    assert history["status"] == "stopped" and 1 <= epochs < 500
    item = tab.runs_list.item(0)
    assert item.data(256) == run_dir.name
    assert item.text().startswith(f"{run_dir.name}\n    stopped after epoch {epochs} of 500: "
                                  "best validation accuracy ")
    assert item.text().endswith(" · lr 0.001")
    assert tab.result_label.text().startswith(f"Stopped after epoch {epochs} of 500: best")
    assert tab.job_panel.message() == "Stopped"
    item.setCheckState(item.checkState().__class__.Checked)  # its curves overlay like any run's
    assert [line.get_label() for line in tab.curves.acc_axes.lines][-1] == f"{run_dir.name} (validation)"
    fresh = TrainTab(tab._state)
    qtbot.addWidget(fresh)
    fresh.runs_folder.edit.setText(str(tmp_path / "runs"))
    with qtbot.waitSignal(fresh.runs_runner.sig_finished, timeout=WAIT_MS):
        fresh.runs_folder.edit.editingFinished.emit()
    assert fresh.runs_list.item(0).text() == item.text()  # the same when the folder is reopened


def test_pretrained_bases_are_templates_that_say_what_they_need(qtbot, tab) -> None:
    """VGG16 is offered with the chapter's models; MNIST's 28 px digits are too small for it, at
    32 px its 14.7 million parameters show without TensorFlow, and offline without its weights
    Start says which file to put where."""
    combo = tab.options.template_combo
    assert [combo.itemData(i) for i in range(combo.count())][-len(BASE_NAMES) - 1:] == \
        [*BASE_NAMES, "photo-transfer"]
    combo.setCurrentIndex(combo.findData("vgg16"))
    combo.activated.emit(combo.currentIndex())
    assert "VGG16 takes images of at least 32x32 px, not 28x28" in tab.details.total.text()
    assert not tab.start_button.isEnabled()
    tab._state.train.longest_side = 32
    assert tab.details.total.text().startswith("14,719,818 parameters on (32, 32, 3) inputs")
    assert "keras.applications.VGG16(include_top=False" in tab.details.code.toPlainText()
    with qtbot.waitSignal(tab.runner.sig_failed, timeout=WAIT_MS):
        tab.start()
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in tab.job_panel.message()
    assert tab.runs_list.count() == 0


def test_after_a_run_a_few_validation_images_per_class_show_their_predictions(qtbot, tab, tmp_path) -> None:
    """A finished run's best model predicts three validation digits of each class, in green or red."""
    from filterscope.ui.widgets.prediction_strip import RIGHT, WRONG

    assert not tab.examples.isVisible()
    with qtbot.waitSignal(tab.examples_runner.sig_finished, timeout=WAIT_MS):
        with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
            tab.start()
    tab.show()
    assert tab.examples.isVisible() and len(tab.examples.tiles) == 10 * 3
    captions = [t.text() for t in tab.examples.tiles]
    assert captions[0].startswith("0\n") and captions[-1].startswith("9\n")
    for tile in tab.examples.tiles:
        right = "✓" in tile.text()
        assert (RIGHT if right else WRONG) in tile.styleSheet()
    tab.start()  # a new run clears the strip until it has its own
    assert not tab.examples.tiles
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        pass


def test_leaving_a_recipe_template_resets_what_it_set(qtbot, tab) -> None:
    """Picking photo-convnet, then chapter-convnet, trains the chapter's model as the chapter
    does: the recipe's 96 px, class weights, early stopping, schedule and chain are gone (the
    summary reads 3,730 parameters on 28 x 28 x 1, not 58,810 on 96 x 96 x 1)."""
    options = tab.options
    for name in ("photo-convnet", "chapter-convnet"):
        options.template_combo.setCurrentIndex(options.template_combo.findData(name))
        options.template_combo.activated.emit(options.template_combo.currentIndex())
    train = tab._state.train
    assert "3,730 parameters on (28, 28, 1)" in tab.details.total.text()
    assert (train.epochs, train.longest_side, train.use_chain) == (10, None, False)
    assert train.fit == type(train.fit)() and not tab.options.controls["use_chain"].isChecked()
    assert options.controls["longest_side"].text() == "Dataset's size"
    run = tab.run_spec()
    assert run.data.chain is None and run.fit == type(train.fit)() and run.data.image_size is None


def test_a_value_a_control_cannot_show_is_named_not_clamped(qtbot, tab) -> None:
    """A seed above a QSpinBox's 2**31 - 1 is still shown (a project's or run's seed may go
    to 2**32 - 1); a learning rate finer than the control's decimals keeps its value, and the
    tab names the field, the value and what the control can show."""
    train = tab._state.train
    train.seed = 2**32 - 1
    assert tab.options.controls["seed"].value() == 2**32 - 1 and tab.run_spec().seed == 2**32 - 1
    train.optimizer = type(train.optimizer)("adam", 1e-7)
    assert tab.run_spec().optimizer.learning_rate == 1e-7  # kept as it is
    message = tab.options.errors.text()
    assert tab.options.errors.isVisibleTo(tab)
    assert message.startswith("optimizer.learning_rate: 1e-07 cannot be shown here") and "above 0" in message


def test_fine_tuning_cached_features_says_why_beside_the_control(qtbot, tab) -> None:
    """Fine-tuning while the base's features are cached cannot train: the tab says why (the
    run refuses it at Start), it does not undo the user's choice."""
    train = tab._state.train
    train.choose_template("vgg16")
    train.cache_features = True
    spin = tab.options.base_options.fine_tune_spin
    spin.setValue(2)  # allowed: the refusal is the run's, shown beside the control
    assert train.model.base.fine_tune_blocks == 2
    assert "fine-tuning trains VGG16's top blocks" in tab.options.base_options.conflict_label.text()


def test_the_mask_switch_is_one_field_shown_in_both_tabs(qtbot, tab) -> None:
    from filterscope.ui.tabs.mask_tab import MaskTab

    mask_tab = MaskTab(tab._state)
    qtbot.addWidget(mask_tab)
    assert not mask_tab.use_box.isChecked() and not tab.options.controls["use_mask"].isChecked()
    mask_tab.use_box.setChecked(True)
    assert tab._state.train.use_mask and tab.options.controls["use_mask"].isChecked()
    assert tab.run_spec().data.mask == mask_tab.params.to_json()
    assert "(28, 28, 3)" in tab.details.total.text()  # a mask makes colour images
    tab.options.controls["use_mask"].setChecked(False)
    assert not mask_tab.use_box.isChecked() and tab.run_spec().data.mask is None


def test_every_declared_fit_option_has_a_bound_control(qtbot, tab) -> None:
    """A fit option declared in core appears in the tab with its label, limits and tooltip,
    and its control sets the run (no tab code per option)."""
    from filterscope.core.base.settings import declared
    from filterscope.core.training.fit_options import FitOptions

    train = tab._state.train
    for name, spec in declared(FitOptions).items():
        control = tab.options.controls[f"fit.{name}"]
        assert control.toolTip() == spec.help
        if spec.kind is bool:
            control.setChecked(not getattr(train.fit, name))
        else:
            assert control.maximum() == pytest.approx(spec.high - (0.01 if spec.high_open else 0))
            control.setValue(control.value() + control.singleStep())
        assert getattr(tab.run_spec().fit, name) != getattr(FitOptions(), name), name
