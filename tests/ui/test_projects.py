"""File ▸ projects on the real window: save, new, open restore every tab's settings; the title's
'*'; autosave and recovery; recent projects; a dataset that moved; bad files."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from filterscope.app import create_window
from filterscope.core.augment.chain import builtin_chain
from filterscope.core.data.dataset_settings import DatasetSettings
from filterscope.core.data.source import BuiltinSource, FolderSource, Source
from filterscope.core.data.splits import make_split
from filterscope.core.filters.kernels import preset
from filterscope.core.filters.settings import FiltersSettings, as_kernel
from filterscope.core.live.capture_train import CaptureSettings
from filterscope.core.live.settings import LiveSettings
from filterscope.core.masking.colordist import builtin_preset
from filterscope.core.project.store import load_project
from filterscope.core.augment.settings import AugmentSettings
from filterscope.core.base.formats import percent
from filterscope.core.results.settings import EvaluateSettings
from filterscope.core.training.settings import TrainSettings
from filterscope.core.visualize.settings import VisualizeSettings
from filterscope.ui.main_window import MainWindow
from filterscope.ui.project_actions import AUTOSAVE_KEY, MAX_RECENT
from filterscope.ui.project_dialogs import ProjectDialogs
from filterscope.ui.tabs.augment_tab import AugmentTab
from filterscope.ui.tabs.dataset_tab import DatasetTab
from filterscope.ui.tabs.filters_tab import FiltersTab
from filterscope.ui.tabs.live_tab import LiveTab
from filterscope.ui.tabs.mask_tab import MaskTab
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.tabs.train_tab import TrainTab
from filterscope.ui.tabs.visualize_tab import VisualizeTab
from PIL import Image

from tests.corpus import tree_digest
from tests.results_runs import copy_run
from tests.split_tree import make_split_tree, photo
from tests.ui.screen import settle, show_window

WAIT_MS = 60_000


class Answers(ProjectDialogs):
    """The user's answers, given in advance; records what was asked."""

    def __init__(self, parent, **answers) -> None:
        super().__init__(parent)
        self.answers, self.asked, self.errors = answers, [], []

    def open_path(self):
        return self.answers["open"]

    def save_path(self, suggested):
        return self.answers["save"]

    def dataset_folder(self, missing):
        self.asked.append(missing)
        return self.answers.get("folder")

    def save_changes(self, name):
        self.asked.append(name)
        return self.answers.get("changes", "cancel")

    def recover(self, path, when):
        self.asked.append(path)
        return self.answers["recover"]

    def error(self, message):
        self.errors.append(message)


def write_photos(root: Path) -> Path:
    for tint, name in enumerate(("cat", "dog")):
        (root / name).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(photo(10 * tint + i, tint)).save(root / name / f"{i}.png")
    return root


def open_window(qtbot, settings, source: str = "builtin:mnist", **answers) -> MainWindow:
    settings.setValue("dataset/last", source)
    window = create_window(settings)
    window.projects.dialogs = Answers(window, **answers)  # before the start's recovery offer
    return show_window(qtbot, window, timeout=WAIT_MS)


def wait_for_dataset(qtbot, window: MainWindow, source: str) -> None:
    qtbot.waitUntil(lambda: window.state.dataset.source == Source.parse(source) and window.projects._pending is None,
                    timeout=WAIT_MS)


def tabs(window: MainWindow) -> tuple[MaskTab, AugmentTab, TrainTab]:
    return window.findChild(MaskTab), window.findChild(AugmentTab), window.findChild(TrainTab)


def set_everything(window: MainWindow, runs: Path) -> None:
    """Change every part a project holds away from the defaults."""
    mask_tab, augment_tab, train_tab = tabs(window)
    window.state.set_manifest(make_split(window.state.dataset, val_per_class=1, seed=3))
    mask_tab.set_params(builtin_preset("chapter").with_target(0, threshold=900.0))
    augment_tab.set_chain(builtin_chain("photos"))
    train = window.state.train
    train.choose_template("convnet-l2")
    train.set_optimizer_kind("sgd")
    train.update({"optimizer": replace(train.optimizer, learning_rate=0.03), "epochs": 7, "batch_size": 8,
                  "longest_side": 64, "fit": replace(train.fit, class_weights=True, early_stopping=4),
                  "seed": 11, "use_mask": True, "use_chain": False, "val_fraction": 0.3})
    window.state.augment.update({"versions": 12, "seed": 2**32 - 1, "random_images": True})
    window.state.visualize.update({"preset": "clean", "steps": 77, "lr": 0.03, "seed": 2**32 - 2,
                                   "filter": 2, "mosaic": True, "mosaic_count": 4, "layer": "block2_conv",
                                   "size": 160})
    window.state.evaluate.update({"run": str(runs / "20260502-run"), "model": "last", "subset": "val",
                                  "data": str(window.state.dataset.source.folder() or ""),
                                  "evaluation": "val-last"})
    leaf = runs.parent / "leaf.png"  # inside the project's folder: stored relative
    Image.fromarray(LEAF).save(leaf)
    window.state.filters.update({**LESSON, "image": str(leaf)})
    window.findChild(DatasetTab).class_filter.setCurrentIndex(2)  # dog, as the user chooses
    window.state.live.update({"kind": "video", "video": str(runs.parent / "clip.avi"), "realtime": False,
                              "gradcam": True, "maps": True})
    window.state.capture.update({"every": 4, "epochs": 6})
    train_tab.set_runs_folder(runs)


LESSON = {"colour": True, "size": 5, "second": True, "stride": 2, "padding": "same", "crop": 40, "digit": 3,
          "stage": "relu", "filter_index": 1, "position": 300, "biases": (0.5, -1.0), "crop_centre": (30, 50),
          "kernels": (as_kernel(preset("Sobel y", 5, 3)), as_kernel(np.full((5, 5, 3), -0.25)))}
LEAF = np.dstack([np.mgrid[0:80, 0:80][0] * 3, np.full((80, 80), 200), np.mgrid[0:80, 0:80][1] * 3]).astype(np.uint8)


def assert_everything(qtbot, window: MainWindow, source: str, runs: Path) -> None:
    mask_tab, augment_tab, train_tab = tabs(window)
    state, train, controls = window.state, window.state.train, train_tab.options.controls
    assert state.dataset.source == Source.parse(source)
    assert state.manifest is not None and state.manifest.seed == 3 and state.manifest.source == state.dataset.source
    assert mask_tab.params.targets[0].threshold == 900.0 and state.training_mask() == mask_tab.params
    assert augment_tab.chain() == builtin_chain("photos") and state.training_chain() is None
    assert train.model.name == "convnet-l2" and train.optimizer.kind == "sgd"
    assert train.optimizer.learning_rate == pytest.approx(0.03)
    assert (train.epochs, train.batch_size, train.longest_side, train.seed) == (7, 8, 64, 11)
    assert train.fit.class_weights and train.fit.early_stopping == 4 and train.val_fraction == 0.3
    assert train_tab.options.uses_split() and train.use_split
    # The controls show the model: every one of them, after the restore.
    assert train_tab.options.optimizer_combo.currentData() == "sgd"
    assert controls["optimizer.learning_rate"].value() == pytest.approx(0.03)
    assert (controls["epochs"].value(), controls["batch_size"].value(), controls["seed"].value()) == (7, 8, 11)
    assert controls["longest_side"].value() == 64 and controls["fit.early_stopping"].value() == 4
    assert controls["fit.class_weights"].isChecked() and controls["val_fraction"].value() == 0.3
    assert train_tab.options.controls["use_mask"].isChecked() and mask_tab.use_box.isChecked()
    assert not train_tab.options.controls["use_chain"].isChecked() and not augment_tab.use_box.isChecked()
    assert (state.augment.versions, state.augment.seed, state.augment.random_images) == (12, 2**32 - 1, True)
    assert augment_tab.count_spin.value() == 12 and augment_tab.seed_spin.value() == 2**32 - 1
    live, live_tab = state.live, window.findChild(LiveTab)
    assert (live.kind, live.video, live.realtime) == ("video", str(runs.parent / "clip.avi"), False)
    assert live_tab.gradcam_check.isChecked() and live_tab.maps_check.isChecked()
    assert (state.capture.every, state.capture.epochs) == (4, 6)
    assert live_tab.capture.controls["every"].value() == 4 and live_tab.capture.controls["epochs"].value() == 6
    visualize, ascent = state.visualize, window.findChild(VisualizeTab).controls
    assert (visualize.preset, visualize.steps, visualize.lr, visualize.seed) == ("clean", 77, 0.03, 2**32 - 2)
    assert (visualize.filter, visualize.mosaic, visualize.mosaic_count, visualize.layer) == \
        (2, True, 4, "block2_conv")
    assert ascent.preset_combo.currentData() == "clean" and ascent.steps_spin.value() == 77
    assert ascent.seed_spin.value() == 2**32 - 2 and ascent.mosaic_box.isChecked()
    assert visualize.size == 160 and window.findChild(VisualizeTab).picker.size_spin.value() == 160
    evaluate, picker = state.evaluate, window.findChild(ResultsTab).picker
    assert (evaluate.run, evaluate.model, evaluate.subset, evaluate.evaluation) == \
        (str(runs / "20260502-run"), "last", "val", "val-last")
    assert evaluate.data == str(state.dataset.source.folder() or "")
    assert picker.model_combo.currentData() == "last" and picker.subset_combo.currentData() == "val"
    assert picker.data_edit.text() == evaluate.data
    assert state.runs_dir == runs and train_tab.runs_folder.edit.text() == str(runs)
    # The Filters lesson: the model, its controls and editors, its file read again, its step.
    lesson, filters_tab = state.filters, window.findChild(FiltersTab)
    assert lesson.values() == {**FiltersSettings().values(), **LESSON, "image": str(runs.parent / "leaf.png")}
    assert filters_tab.colour_box.isChecked() and filters_tab.second_box.isChecked()
    assert filters_tab.size_combo.currentData() == 5 and filters_tab.stride_spin.value() == 2
    assert filters_tab.padding_combo.currentData() == "same" and filters_tab.source.crop_spin.value() == 40
    assert filters_tab.editors[0].preset_combo.currentText() == "Sobel y"
    assert filters_tab.editors[1].tables[2].item(4, 4).text() == "−0.25"
    assert filters_tab.editors[1].bias() == -1.0 and filters_tab.editors[0].bias() == 0.5
    qtbot.waitUntil(lambda: "leaf.png" in filters_tab.source.source_label.text(), timeout=WAIT_MS)
    layer = filters_tab.layer
    assert layer.image.shape == (40, 40, 3) and layer.kernels.shape == (5, 5, 3, 2)
    np.testing.assert_array_equal(layer.image, LEAF[10:50, 30:70])  # the crop about (30, 50), not the centre's
    dataset_tab = window.findChild(DatasetTab)
    assert (state.browse.class_name, state.browse.subset) == ("dog", None)
    assert dataset_tab.class_filter.currentText() == "dog" and dataset_tab.grid.model().rowCount() == 5
    assert (layer.stride, layer.padding) == (2, "same") and layer.bias.tolist() == [0.5, -1.0]
    steps = filters_tab.steps
    assert (steps.stage(), steps.filter_index(), steps.position()) == ("relu", 1, 300)
    assert "Position 301 of 400" in steps.position_label.text()


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = write_photos(tmp_path / "data" / "pets")
    digest = tree_digest(root)
    yield root
    if root.exists():
        assert tree_digest(root) == digest, "a project action changed the dataset folder"


def test_save_new_and_open_restore_every_setting(qtbot, settings, data_dir, tmp_path, photos) -> None:
    source = f"folder:{photos}"
    project_file = tmp_path / "work" / "pets.fsproj"
    project_file.parent.mkdir()
    window = open_window(qtbot, settings, source, save=project_file)
    set_everything(window, tmp_path / "work" / "runs")
    qtbot.waitUntil(window.isWindowModified)
    assert window.projects.save()  # untitled: asks where (Save As)
    assert not window.isWindowModified() and window.windowTitle() == "pets[*] — Filterscope"
    assert load_project(project_file).training.epochs == 7
    assert window.projects.new_project()
    wait_for_dataset(qtbot, window, "builtin:mnist")
    assert window.windowTitle().startswith("Untitled") and not window.isWindowModified()
    assert window.state.train == TrainSettings() and window.state.training_mask() is None
    assert window.state.visualize == VisualizeSettings() and window.state.augment == AugmentSettings()
    assert window.state.evaluate == EvaluateSettings()
    assert window.state.filters == FiltersSettings()
    assert window.state.live == LiveSettings() and window.state.capture == CaptureSettings()
    assert window.state.browse == DatasetSettings()
    assert window.findChild(DatasetTab).class_filter.currentText() == "All classes"
    assert tabs(window)[2].options.controls["epochs"].value() == 10
    assert window.projects.open_project(project_file)
    wait_for_dataset(qtbot, window, source)
    assert_everything(qtbot, window, source, tmp_path / "work" / "runs")
    assert not window.isWindowModified() and window.projects.path == project_file
    settle(qtbot, window, WAIT_MS)


def test_changes_mark_the_title_and_autosave_writes_the_projects_own_file(qtbot, settings, data_dir,
                                                                        tmp_path) -> None:
    window = open_window(qtbot, settings, save=tmp_path / "digits.fsproj")
    assert not window.isWindowModified()
    assert window.projects.save_as()
    train = window.state.train
    train.epochs = 9
    qtbot.waitUntil(window.isWindowModified)
    train.epochs = 10  # back as saved: no longer modified
    qtbot.waitUntil(lambda: not window.isWindowModified())
    tabs(window)[2].options.controls["epochs"].setValue(12)  # a control changes the model too
    qtbot.waitUntil(window.isWindowModified)
    window.projects.autosave()
    assert load_project(tmp_path / "digits.fsproj").training.epochs == 12
    assert not window.isWindowModified()
    assert settings.value(AUTOSAVE_KEY) is None  # a project with a file is saved into it
    settle(qtbot, window, WAIT_MS)


def test_a_large_project_is_autosaved_by_a_worker(qtbot, settings, data_dir, tmp_path, monkeypatch) -> None:
    """A project whose split lists more files than BACKGROUND_FILES is written off the GUI
    thread by the timer's autosave (the window's close still saves in the foreground)."""
    import filterscope.ui.project_actions as project_actions

    window = open_window(qtbot, settings, save=tmp_path / "digits.fsproj")
    assert window.projects.save_as()
    monkeypatch.setattr(project_actions, "BACKGROUND_FILES", 100)  # the digits' split: 5,000 files
    window.state.set_manifest(make_split(window.state.dataset, val_per_class=5, seed=1))
    window.state.train.epochs = 4
    qtbot.waitUntil(window.isWindowModified)
    with qtbot.waitSignal(window.projects.save_runner.sig_finished, timeout=WAIT_MS):
        window.projects._on_autosave_timer()
        assert window.projects.save_runner.is_running()  # the GUI thread went on
    saved = load_project(tmp_path / "digits.fsproj")
    assert saved.training.epochs == 4 and saved.split.seed == 1
    assert not window.isWindowModified()
    settle(qtbot, window, WAIT_MS)


def test_an_untitled_project_is_kept_at_close_and_recovered_at_the_next_start(qtbot, settings,
                                                                               data_dir) -> None:
    window = open_window(qtbot, settings)
    window.state.train.epochs = 3
    qtbot.waitUntil(window.isWindowModified)
    settle(qtbot, window, WAIT_MS)
    window.close()
    kept = Path(settings.value(AUTOSAVE_KEY))
    assert kept.is_file() and kept.parent.parent == data_dir
    window = open_window(qtbot, settings, recover=True)
    qtbot.waitUntil(lambda: window.projects.dialogs.asked == [kept])
    qtbot.waitUntil(lambda: window.state.train.epochs == 3)
    assert window.projects.path is None and window.isWindowModified()
    settle(qtbot, window, WAIT_MS)
    window.close()  # still unsaved: kept again, and declined this time it is deleted
    window = open_window(qtbot, settings, recover=False)
    qtbot.waitUntil(lambda: window.projects.dialogs.asked == [kept])
    assert not kept.exists() and settings.value(AUTOSAVE_KEY) is None
    assert window.state.train.epochs == 10
    settle(qtbot, window, WAIT_MS)


def test_recent_projects_newest_first_at_most_eight_missing_ones_greyed(qtbot, settings, data_dir,
                                                                       tmp_path) -> None:
    window = open_window(qtbot, settings)
    files = [tmp_path / f"p{i}.fsproj" for i in range(MAX_RECENT + 2)]
    for path in files:
        window.projects.dialogs.answers["save"] = path
        assert window.projects.save_as()
    assert window.projects.recent() == [str(p) for p in reversed(files)][:MAX_RECENT]
    files[-2].unlink()
    window.projects.fill_recent()
    actions = [a for a in window.projects.recent_menu.actions() if not a.isSeparator()]
    assert [a.text() for a in actions[:2]] == [f"&1 {files[-1].name}", f"&2 {files[-2].name} (missing)"]
    assert [a.isEnabled() for a in actions[:3]] == [True, False, True]
    actions[2].trigger()  # opens p7
    assert window.projects.path == files[-3]
    assert window.projects.recent()[0] == str(files[-3])
    settle(qtbot, window, WAIT_MS)


def test_a_project_whose_dataset_moved_asks_for_the_new_folder(qtbot, settings, data_dir, tmp_path,
                                                               photos) -> None:
    project_file = tmp_path / "work" / "pets.fsproj"
    project_file.parent.mkdir()
    window = open_window(qtbot, settings, f"folder:{photos}", save=project_file)
    window.state.set_manifest(make_split(window.state.dataset, val_per_class=1, seed=3))
    assert window.projects.save_as() and window.projects.new_project()
    wait_for_dataset(qtbot, window, "builtin:mnist")
    moved = tmp_path / "elsewhere" / "pets"
    moved.parent.mkdir()
    shutil.move(photos, moved)
    answers = window.projects.dialogs
    assert not window.projects.open_project(project_file)  # not found, and no folder given
    assert answers.asked == [photos] and window.state.dataset.source == BuiltinSource("mnist")
    answers.answers["folder"] = moved
    assert window.projects.open_project(project_file)
    wait_for_dataset(qtbot, window, f"folder:{moved}")
    assert window.state.manifest.source == FolderSource(str(moved)) and window.state.manifest.seed == 3
    assert window.isWindowModified()  # the new place is a change, for the user to save
    assert window.projects.save()
    assert load_project(project_file).dataset == FolderSource(str(moved))
    settle(qtbot, window, WAIT_MS)


def test_a_bad_file_is_reported_naming_it_and_unsaved_changes_are_asked_about(qtbot, settings,
                                                                                data_dir, tmp_path) -> None:
    window = open_window(qtbot, settings)
    bad = tmp_path / "broken.fsproj"
    bad.write_text('{"kind": "filterscope-project", "version": 2, "dat', encoding="utf-8")
    assert not window.projects.open_project(bad)
    assert window.projects.dialogs.errors and window.projects.dialogs.errors[0].startswith(str(bad))
    window.state.train.epochs = 2
    qtbot.waitUntil(window.isWindowModified)
    assert not window.projects.new_project()  # the user cancels
    assert window.projects.dialogs.asked == ["Untitled"] and window.state.train.epochs == 2
    window.projects.dialogs.answers["changes"] = "discard"
    assert window.projects.new_project()
    qtbot.waitUntil(lambda: window.state.train.epochs == 10)
    settle(qtbot, window, WAIT_MS)


def test_the_evaluation_open_in_the_results_tab_opens_again_with_its_project(qtbot, settings, data_dir,
                                                                             tmp_path, results_run) -> None:
    """Through the real window: the run and saved evaluation open in the Results tab are kept
    with the project; after New and Open they are chosen and opened again from the evaluation's
    file (not computed again), and the project is not modified by it."""
    work = tmp_path / "work"
    run = copy_run(results_run, work / "runs" / "run-a")
    project_file = work / "eval.fsproj"
    window = open_window(qtbot, settings, save=project_file)
    window.findChild(TrainTab).set_runs_folder(work / "runs")
    results = window.findChild(ResultsTab)
    with qtbot.waitSignal(results.list_runner.sig_finished, timeout=WAIT_MS):
        window.tabs.setCurrentWidget(results)
    assert results.run_dir() == run
    window.state.evaluate.model, window.state.evaluate.subset = "last", "val"  # as the user chooses
    with qtbot.waitSignal(results.runner.sig_finished, timeout=WAIT_MS):
        results.evaluate_button.click()
    shown = results.evaluation()
    assert (shown.model, shown.eval_set["subset"]) == ("last", "val")
    assert window.projects.save()
    stored = load_project(project_file).evaluate
    assert (stored.run, stored.model, stored.subset, stored.evaluation) == (str(run), "last", "val", shown.name)
    files = sorted((run / "evaluations").iterdir())
    assert window.projects.new_project()
    wait_for_dataset(qtbot, window, "builtin:mnist")
    qtbot.waitUntil(lambda: results.evaluation() is None, timeout=WAIT_MS)
    assert window.state.evaluate == EvaluateSettings() and results.run_dir() is None
    assert window.projects.open_project(project_file)
    qtbot.waitUntil(lambda: results.evaluation() is not None, timeout=WAIT_MS)
    assert results.evaluation().name == shown.name and results.run_dir() == run
    assert results.picker.model_combo.currentData() == "last" and results.picker.subset_combo.currentData() == "val"
    assert f"Accuracy {percent(shown.scores.accuracy)}" in results.summary.headline.text()
    settle(qtbot, window, WAIT_MS)
    assert sorted((run / "evaluations").iterdir()) == files  # read, not evaluated again
    assert not window.isWindowModified()


def test_the_dataset_tabs_class_and_subset_open_again_with_their_project(qtbot, settings, data_dir,
                                                                        tmp_path) -> None:
    """Through the real window: the class and subset chosen in the Dataset tab are kept with the
    project and shown again after New (all of the digits) and Open; a class the dataset no
    longer has is named, in its filter and the status bar, and no image shows."""
    parent = tmp_path / "plants"
    make_split_tree(parent, {"train": {"Maize": 6, "Rice": 4}, "Valid": {"Maize": 2, "Rice": 2},
                             "test": {"Maize": 3, "Rice": 1}})
    project_file = tmp_path / "plants.fsproj"
    window = open_window(qtbot, settings, f"folder:{parent}", save=project_file)
    tab = window.findChild(DatasetTab)
    tab.subset_filter.setCurrentIndex(2)  # Valid/
    tab.class_filter.setCurrentIndex(2)  # Rice
    assert (window.state.browse.class_name, window.state.browse.subset) == ("Rice", "val")
    assert tab.grid.model().rowCount() == 2
    assert window.projects.save()
    assert load_project(project_file).browse == DatasetSettings(class_name="Rice", subset="val")
    assert window.projects.new_project()
    wait_for_dataset(qtbot, window, "builtin:mnist")
    assert window.state.browse == DatasetSettings() and tab.class_filter.currentText() == "All classes"
    assert tab.grid.model().rowCount() == 5000 and not tab.subset_filter.isVisibleTo(tab)
    assert window.projects.open_project(project_file)
    wait_for_dataset(qtbot, window, f"folder:{parent}")
    assert (tab.class_filter.currentText(), tab.subset_filter.currentText()) == ("Rice", "Valid/")
    assert tab.grid.model().rowCount() == 2 and not window.isWindowModified()
    assert [tab.classes.table.item(r, 1).text() for r in range(2)] == ["2", "2"]  # Valid/'s counts
    assert window.projects.new_project()
    wait_for_dataset(qtbot, window, "builtin:mnist")
    shutil.move(parent / "test" / "Rice", tmp_path / "Rice")  # the dataset changes on disk
    shutil.move(parent / "Valid" / "Rice", tmp_path / "Rice valid")
    shutil.move(parent / "train" / "Rice", parent / "train" / "Oats")
    said = []
    tab.sig_status.connect(said.append)
    assert window.projects.open_project(project_file)
    wait_for_dataset(qtbot, window, f"folder:{parent}")
    assert window.state.dataset.classes == ["Maize", "Oats"]
    assert window.state.browse.class_name == "Rice"  # kept, never dropped
    assert tab.class_filter.currentIndex() == -1 and tab.class_filter.placeholderText() == "Rice: not in this dataset"
    assert "plants has no class 'Rice': no image is shown" in said
    assert tab.grid.model().rowCount() == 0
    tab.class_filter.setCurrentIndex(1)  # the user chooses again: Maize
    assert tab.grid.model().rowCount() == 2 and window.state.browse.class_name == "Maize"
    settle(qtbot, window)
