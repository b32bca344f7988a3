"""File ▸ projects on the real window: save, new, open restore every tab's settings; the title's
'*'; autosave and recovery; recent projects; a dataset that moved; bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from filterscope.app import create_window
from filterscope.core.augment.chain import builtin_chain
from filterscope.core.data.source import BuiltinSource, FolderSource, Source
from filterscope.core.data.splits import make_split
from filterscope.core.masking.colordist import builtin_preset
from filterscope.core.project.store import load_project
from filterscope.core.training.model_spec import templates
from filterscope.ui.main_window import MainWindow
from filterscope.ui.project_actions import AUTOSAVE_KEY, MAX_RECENT
from filterscope.ui.project_dialogs import ProjectDialogs
from filterscope.ui.tabs.augment_tab import AugmentTab
from filterscope.ui.tabs.mask_tab import MaskTab
from filterscope.ui.tabs.train_tab import TrainTab
from filterscope.workers import JobRunner
from PIL import Image

from tests.corpus import tree_digest
from tests.split_tree import photo

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
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.state.dataset is not None, timeout=WAIT_MS)
    return window


def settle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not any(r.is_running() for r in window.findChildren(JobRunner)),
                    timeout=WAIT_MS)


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
    mask_tab.use_box.setChecked(True)
    augment_tab.set_chain(builtin_chain("photos"))
    augment_tab.use_box.setChecked(True)
    options = train_tab.options
    options.set_model(templates()["convnet-l2"])
    options.optimizer_combo.setCurrentIndex(options.optimizer_combo.findData("sgd"))
    options.lr_spin.setValue(0.03)
    options.epochs_spin.setValue(7)
    options.batch_spin.setValue(8)
    options.size_spin.setValue(64)
    options.class_weights_box.setChecked(True)
    options.early_spin.setValue(4)
    options.seed_spin.setValue(11)
    train_tab.chain_box.setChecked(False)
    train_tab.set_runs_folder(runs)


def assert_everything(window: MainWindow, source: str, runs: Path) -> None:
    mask_tab, augment_tab, train_tab = tabs(window)
    state, options = window.state, train_tab.options
    assert state.dataset.source == Source.parse(source)
    assert state.manifest is not None and state.manifest.seed == 3 and state.manifest.source == state.dataset.source
    assert mask_tab.params.targets[0].threshold == 900.0 and state.mask == mask_tab.params
    assert augment_tab.chain() == builtin_chain("photos") and state.chain == builtin_chain("photos")
    assert options.model().name == "convnet-l2" and options.optimizer().kind == "sgd"
    assert options.optimizer().learning_rate == pytest.approx(0.03)
    assert (options.epochs_spin.value(), options.batch_spin.value(), options.longest_side()) == (7, 8, 64)
    assert options.fit_options().class_weights and options.fit_options().early_stopping == 4
    assert options.seed_spin.value() == 11 and options.use_split()
    assert train_tab.mask_box.isChecked() and not train_tab.chain_box.isChecked()
    assert state.runs_dir == runs and train_tab.runs_edit.text() == str(runs)


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
    assert load_project(project_file).training.run.epochs == 7
    assert window.projects.new_project()
    wait_for_dataset(qtbot, window, "builtin:mnist")
    assert window.windowTitle().startswith("Untitled") and not window.isWindowModified()
    assert tabs(window)[2].options.epochs_spin.value() == 5 and window.state.mask is None
    assert window.projects.open_project(project_file)
    wait_for_dataset(qtbot, window, source)
    assert_everything(window, source, tmp_path / "work" / "runs")
    assert not window.isWindowModified() and window.projects.path == project_file
    settle(qtbot, window)


def test_changes_mark_the_title_and_autosave_writes_the_projects_own_file(qtbot, settings, data_dir,
                                                                        tmp_path) -> None:
    window = open_window(qtbot, settings, save=tmp_path / "digits.fsproj")
    assert not window.isWindowModified()
    assert window.projects.save_as()
    epochs = tabs(window)[2].options.epochs_spin
    epochs.setValue(9)
    qtbot.waitUntil(window.isWindowModified)
    epochs.setValue(5)  # back as saved: no longer modified
    qtbot.waitUntil(lambda: not window.isWindowModified())
    epochs.setValue(12)
    qtbot.waitUntil(window.isWindowModified)
    window.projects.autosave()
    assert load_project(tmp_path / "digits.fsproj").training.run.epochs == 12
    assert not window.isWindowModified()
    assert settings.value(AUTOSAVE_KEY) is None  # a project with a file is saved into it
    settle(qtbot, window)


def test_an_untitled_project_is_kept_at_close_and_recovered_at_the_next_start(qtbot, settings,
                                                                               data_dir) -> None:
    window = open_window(qtbot, settings)
    tabs(window)[2].options.epochs_spin.setValue(3)
    qtbot.waitUntil(window.isWindowModified)
    settle(qtbot, window)
    window.close()
    kept = Path(settings.value(AUTOSAVE_KEY))
    assert kept.is_file() and kept.parent.parent == data_dir
    window = open_window(qtbot, settings, recover=True)
    qtbot.waitUntil(lambda: window.projects.dialogs.asked == [kept])
    qtbot.waitUntil(lambda: tabs(window)[2].options.epochs_spin.value() == 3)
    assert window.projects.path is None and window.isWindowModified()
    settle(qtbot, window)
    window.close()  # still unsaved: kept again, and declined this time it is deleted
    window = open_window(qtbot, settings, recover=False)
    qtbot.waitUntil(lambda: window.projects.dialogs.asked == [kept])
    assert not kept.exists() and settings.value(AUTOSAVE_KEY) is None
    assert tabs(window)[2].options.epochs_spin.value() == 5
    settle(qtbot, window)


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
    settle(qtbot, window)


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
    settle(qtbot, window)


def test_a_bad_file_is_reported_naming_it_and_unsaved_changes_are_asked_about(qtbot, settings,
                                                                                data_dir, tmp_path) -> None:
    window = open_window(qtbot, settings)
    bad = tmp_path / "broken.fsproj"
    bad.write_text('{"kind": "filterscope-project", "version": 2, "dat', encoding="utf-8")
    assert not window.projects.open_project(bad)
    assert window.projects.dialogs.errors and window.projects.dialogs.errors[0].startswith(str(bad))
    tabs(window)[2].options.epochs_spin.setValue(2)
    qtbot.waitUntil(window.isWindowModified)
    assert not window.projects.new_project()  # the user cancels
    assert window.projects.dialogs.asked == ["Untitled"] and tabs(window)[2].options.epochs_spin.value() == 2
    window.projects.dialogs.answers["changes"] = "discard"
    assert window.projects.new_project()
    qtbot.waitUntil(lambda: tabs(window)[2].options.epochs_spin.value() == 5)
    settle(qtbot, window)
