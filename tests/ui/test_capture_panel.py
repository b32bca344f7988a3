"""The capture panel: classes, hold-to-capture fed by a worker thread's hook, counts, Train."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from filterscope.core.live.capture_train import CONVNET
from filterscope.core.live.video import VideoFile, frames
from filterscope.core.training.runs import load_run
from filterscope.ui.state import AppState
from filterscope.ui.widgets.capture_panel import CapturePanelWidget
from PySide6.QtCore import Qt

from tests.corpus import tree_digest
from tests.videos import CLASSES, class_video

FRAMES = 12


@pytest.fixture
def panel(qtbot, tmp_path: Path) -> CapturePanelWidget:
    state = AppState()
    state.set_runs_dir(tmp_path / "runs")
    widget = CapturePanelWidget(state)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _feed_while_held(qtbot, panel: CapturePanelWidget, name: str, video: Path) -> None:
    """Hold ``name``'s button while a worker thread (as a live loop's) sends the video's frames
    through the panel's hook; release once they are all sent."""
    hook, sent = panel.frame_hook(), threading.Event()

    def live_loop() -> None:
        for frame in frames(VideoFile(video)):
            hook(frame)
        sent.set()

    qtbot.mousePress(panel.hold_buttons[name], Qt.MouseButton.LeftButton)
    assert panel.held_class() == name
    thread = threading.Thread(target=live_loop)
    thread.start()
    qtbot.waitUntil(sent.is_set, timeout=10_000)
    thread.join()
    qtbot.mouseRelease(panel.hold_buttons[name], Qt.MouseButton.LeftButton)
    assert panel.held_class() is None


def test_a_dataset_is_refused_and_a_new_folder_taken(panel, tmp_path):
    dataset = tmp_path / "plants"
    (dataset / "maize").mkdir(parents=True)
    (dataset / "maize" / "1.png").write_bytes(b"x")
    before = tree_digest(dataset)
    assert not panel.open_folder(dataset)
    assert "never written into an existing dataset" in panel.message.text()
    assert tree_digest(dataset) == before and panel.folder is None
    assert not panel.train_button.isEnabled()
    assert panel.open_folder(tmp_path / "shapes")
    assert panel.folder_label.text() == "Capture folder: shapes" and not panel.message.text()
    assert panel.folder_label.toolTip() == str(tmp_path / "shapes")


def test_without_a_folder_chosen_classes_go_to_a_new_one_in_the_data_folder(panel, data_dir):
    panel.name_edit.setText("bad/name")
    panel.add_button.click()
    assert panel.folder is None and "cannot hold '/'" in panel.message.text()
    panel.name_edit.setText("mug")
    panel.add_button.click()
    assert panel.folder.root.parent == data_dir / "captures" and list(panel.hold_buttons) == ["mug"]
    assert panel.folder_label.text() == f"Capture folder: {panel.folder.root.name}"


def test_classes_are_added_with_their_names_checked_and_removed_while_empty(panel, tmp_path):
    panel.open_folder(tmp_path / "shapes")
    panel.name_edit.setText("a/b")
    panel.add_button.click()
    assert "cannot hold '/'" in panel.message.text() and not panel.hold_buttons
    for name in ("Ünïcødé 植物", "zebra"):
        panel.name_edit.setText(name)
        panel.add_button.click()
    assert list(panel.hold_buttons) == ["zebra", "Ünïcødé 植物"] and not panel.name_edit.text()
    assert panel.train_button.isEnabled()
    panel.remove_buttons["zebra"].click()
    assert list(panel.hold_buttons) == ["Ünïcødé 植物"] and not (tmp_path / "shapes" / "zebra").exists()
    assert not panel.train_button.isEnabled()


def test_frames_from_the_hook_are_saved_only_while_the_button_is_held(panel, qtbot, tmp_path):
    panel.open_folder(tmp_path / "shapes")
    panel.add_class("red_disc")
    video = class_video(tmp_path / "disc.avi", "red_disc", FRAMES)
    hook = panel.frame_hook()
    for frame in frames(VideoFile(video)):
        assert hook(frame) is None  # nothing held: nothing saved
    _feed_while_held(qtbot, panel, "red_disc", video)
    assert panel.folder.counts() == {"red_disc": FRAMES}
    assert panel.count_labels["red_disc"].text() == f"{FRAMES} frames"
    assert not panel.remove_buttons["red_disc"].isEnabled()
    panel.settings.every = 3
    _feed_while_held(qtbot, panel, "red_disc", video)
    assert panel.count_labels["red_disc"].text() == f"{FRAMES + FRAMES // 3} frames"


def test_train_runs_on_the_captured_classes_and_says_where_the_run_is(panel, qtbot, tmp_path):
    panel.open_folder(tmp_path / "shapes")
    for k, name in enumerate(CLASSES):
        panel.add_class(name)
        _feed_while_held(qtbot, panel, name, class_video(tmp_path / f"{name}.avi", name, FRAMES, seed=k))
    panel.settings.update({"model": CONVNET, "epochs": 2})
    assert panel.controls["epochs"].value() == 2
    announced = []
    panel._state.sig_run_saved.connect(announced.append)
    with qtbot.waitSignal(panel.sig_trained, timeout=120_000) as trained:
        panel.train_button.click()
        assert not panel.train_button.isEnabled() and not panel.hold_buttons["red_disc"].isEnabled()
    run_dir = trained.args[0]
    assert announced == [run_dir]  # the Results and Visualise tabs offer it
    assert run_dir.parent == tmp_path / "runs" and (run_dir / "best.keras").is_file()
    assert panel.message.text().startswith(f"Trained {run_dir.name} (2 epochs")
    assert panel.train_button.isEnabled()


def test_train_with_too_few_frames_says_so(panel, qtbot, tmp_path):
    panel.open_folder(tmp_path / "shapes")
    panel.add_class("a")
    panel.add_class("b")
    with qtbot.waitSignal(panel.runner.sig_failed, timeout=20_000):
        panel.train_button.click()
    assert "capture at least 4 frames of every class" in panel.message.text()
    assert not (tmp_path / "runs").exists()


def test_cancelled_training_leaves_no_run_and_the_panel_ready(panel, qtbot, tmp_path):
    panel.open_folder(tmp_path / "shapes")
    for k, name in enumerate(CLASSES[:2]):
        panel.add_class(name)
        _feed_while_held(qtbot, panel, name, class_video(tmp_path / f"{name}.avi", name, FRAMES, seed=k))
    panel.settings.update({"model": CONVNET, "epochs": 500})
    trained = []
    panel.sig_trained.connect(trained.append)
    with qtbot.waitSignal(panel.runner.sig_progress, timeout=60_000):
        panel.train_button.click()
    with qtbot.waitSignal(panel.runner.sig_job_ended, timeout=60_000):
        panel.job_panel.cancel_button.click()
    assert panel.train_button.isEnabled() and panel.hold_buttons["red_disc"].isEnabled()
    assert not trained
    runs = tmp_path / "runs"
    assert not runs.exists() or all(load_run(r).status == "stopped" for r in runs.iterdir())
