"""The Live tab through qtbot: a real run trained on the synthetic classes, a video the test
writes as the source, the loop in a real worker; bars, Grad-CAM, feature maps, Freeze, Step,
Save frame, bad sources, Stop, and the GUI thread never stalling."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from filterscope.core.data.images import read_image
from filterscope.ui.state import AppState
from filterscope.ui.tabs.live_tab import LiveTab
from PySide6.QtCore import QTimer

from tests.corpus import tree_digest
from tests.live_runs import train_live_run
from tests.videos import CLASSES, class_video, mixed_video

WAIT_MS = 120_000


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_live_run(tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Path]:
    """A short clip of every class in turn, and a long one of one class."""
    folder = tmp_path_factory.mktemp("clips")
    path, labels = mixed_video(folder / "clip.avi", per_class=5)
    return path, labels, class_video(folder / "long.avi", CLASSES[1], 600)


@pytest.fixture
def tab(qtbot, data_dir, live_run: Path) -> LiveTab:
    """The tab shown: it lists the runs folder and loads the newest run."""
    state = AppState()
    state.set_runs_dir(live_run.parent)
    tab = LiveTab(state)
    qtbot.addWidget(tab, before_close_func=lambda t: t.runner.cancel())
    tab.resize(1280, 800)
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.show()
    assert tab.view.start_button.isEnabled() and "Calibrated probabilities" in tab.view.status.text()
    return tab


def play(tab: LiveTab, video: Path, *, realtime: bool = False) -> None:
    tab.settings.update({"kind": "video", "video": str(video), "realtime": realtime})
    tab.view.start_button.click()


def test_a_video_is_predicted_frame_by_frame_and_the_bars_follow(qtbot, tab, clips) -> None:
    path, labels, _ = clips
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        play(tab, path)
    shown = tab.view.bars.shown()
    assert [name for name, _ in shown] and sorted(name for name, _ in shown) == sorted(CLASSES)
    assert shown[0][0] == labels[-1] and shown[0][1] >= shown[1][1] >= shown[2][1]
    assert tab._painted.index == len(labels) - 1
    assert "ended: 15 frames" in tab.view.status.text()
    assert not tab.view.stop_button.isEnabled() and tab.view.save_button.isEnabled()
    assert not tab.view.maps_view.isVisible()


def test_gradcam_and_feature_maps_are_drawn_when_asked(qtbot, tab, clips) -> None:
    path, _, _ = clips
    tab.settings.update({"gradcam": True, "maps": True})
    assert tab.settings.layer == tab.layer_combo.currentData() != ""
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        play(tab, path)
    frame = tab._painted
    assert frame.heatmap is not None and frame.maps is not None and frame.layer == tab.settings.layer
    assert tab.view.maps_view.isVisible() and tab.settings.layer in tab.view.maps_label.text()


def test_freeze_step_and_save_a_frame_then_stop(qtbot, tab, clips, tmp_path) -> None:
    _, _, long = clips
    play(tab, long)
    qtbot.waitUntil(lambda: tab._painted is not None, timeout=WAIT_MS)
    tab.view.freeze_button.click()
    assert tab.view.step_button.isEnabled()
    qtbot.wait(500)  # the frame being predicted when frozen is painted
    before = tab._painted.index
    qtbot.wait(300)
    assert tab._painted.index == before  # frozen: no new frame
    tab.view.step_button.click()
    qtbot.waitUntil(lambda: tab._painted.index == before + 1, timeout=WAIT_MS)
    qtbot.wait(300)
    assert tab._painted.index == before + 1  # one step, one frame
    tab.settings.save_folder = str(tmp_path / "frames")
    tab.view.save_button.click()
    saved = tmp_path / "frames" / f"frame-{before + 1:06d}.png"
    assert saved.is_file() and f"Saved {saved}" == tab.view.status.text()
    np.testing.assert_array_equal(read_image(saved), tab._painted.rgb)
    with qtbot.waitSignal(tab.runner.sig_cancelled, timeout=WAIT_MS):
        tab.view.stop_button.click()
    assert "Stopped at frame" in tab.view.status.text() and tab.view.start_button.isEnabled()
    assert not tab.view.freeze_button.isEnabled()


def test_bad_sources_are_said_and_the_tab_stays_usable(qtbot, tab, clips, tmp_path) -> None:
    with qtbot.waitSignal(tab.runner.sig_failed, timeout=WAIT_MS):
        play(tab, tmp_path / "gone.avi")
    assert "no such file" in tab.view.status.text() and "b00020" in tab.view.status.styleSheet()
    tab.settings.update({"kind": "camera", "camera": 63})
    with qtbot.waitSignal(tab.runner.sig_failed, timeout=WAIT_MS):
        tab.view.start_button.click()
    assert "camera 63: no camera answers" in tab.view.status.text()
    tab.settings.update({"kind": "video", "video": ""})
    tab.view.start_button.click()
    assert "no video file chosen" in tab.view.status.text() and not tab.runner.is_running()
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        play(tab, clips[0])
    assert tab.view.bars.shown() and tab.view.status.styleSheet() == ""


def test_frames_are_never_saved_into_the_run_s_dataset(qtbot, tab, clips, live_run) -> None:
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        play(tab, clips[0])
    dataset = live_run.parent.parent / "frames"
    before = tree_digest(dataset)
    tab.settings.save_folder = str(dataset / "train" / CLASSES[0])
    tab.view.save_button.click()
    assert "refusing to write inside the dataset folder" in tab.view.status.text()
    assert tree_digest(dataset) == before


def test_the_gui_thread_never_stalls_while_the_loop_runs(qtbot, tab, clips) -> None:
    """A 10 ms timer's largest gap while frames are predicted, with Grad-CAM and feature maps
    (the most painting), stays under 50 ms."""
    _, _, long = clips
    tab.settings.update({"gradcam": True, "maps": True})
    gaps, last = [], [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    play(tab, long, realtime=True)
    qtbot.waitUntil(lambda: tab._painted is not None, timeout=WAIT_MS)  # past the first trace
    last[0] = time.perf_counter()
    timer.start()
    qtbot.wait(3000)
    timer.stop()
    painted = tab._painted.index
    with qtbot.waitSignal(tab.runner.sig_cancelled, timeout=WAIT_MS):
        tab.view.stop_button.click()
    assert painted > 10 and len(gaps) > 100
    assert max(gaps) < 0.050, f"largest gap {1000 * max(gaps):.0f} ms"


@pytest.mark.parametrize("looked_at", ["original", "copy"])
def test_the_run_the_results_tab_looks_at_is_the_one_loaded(qtbot, data_dir, live_run, looked_at) -> None:
    """Whichever of two runs the Results tab shows is loaded (one of them is not the newest)."""
    from tests.results_runs import copy_run

    copy = live_run.parent / "shapes-copy"
    if not copy.exists():
        copy_run(live_run, copy)
    wanted = live_run if looked_at == "original" else copy
    state = AppState()
    state.set_runs_dir(live_run.parent)
    state.evaluate.run = str(wanted)
    tab = LiveTab(state)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.show()
    assert tab._model.session.loaded.path == wanted and tab._source[0] == str(wanted)
    assert tab.settings.model == ""  # the tab's own choice, not a setting the user changed


def test_frames_the_loop_reads_are_captured_while_a_class_is_held_and_its_run_is_then_loaded(
        qtbot, tab, clips, tmp_path, live_run) -> None:
    """Capture and train in the tab: the loop's worker saves the frames it reads while a class's
    button is held (none before, none after), and a run trained on the capture is loaded."""
    from PySide6.QtCore import Qt

    _, _, long_clip = clips
    panel = tab.capture
    assert panel.isVisibleTo(tab)
    panel.open_folder(tmp_path / "captured")
    panel.add_class("green_square")
    qtbot.mousePress(panel.hold_buttons["green_square"], Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        play(tab, long_clip)
    qtbot.mouseRelease(panel.hold_buttons["green_square"], Qt.MouseButton.LeftButton)
    saved = panel.folder.counts()["green_square"]
    assert saved == 600 // panel.settings.every  # every frame read (every n-th kept), in the worker
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        play(tab, long_clip)
    assert panel.folder.counts()["green_square"] == saved  # released: nothing more
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab._state.run_saved(live_run)  # what the panel's Train announces when its run is saved
    assert tab.settings.model == str(live_run) and tab._model.name in tab.view.status.text()


def test_a_frame_goes_through_the_network_view_of_the_same_model(qtbot, data_dir, settings, live_run, clips) -> None:
    """Network view: the frame shown goes to the Visualise tab's Network page, through the live
    model's every layer; its tiles then open the Filters tab as a dataset image's do."""
    from filterscope.ui.main_window import MainWindow
    from filterscope.ui.tabs.filters_tab import FiltersTab
    from filterscope.ui.tabs.visualize_tab import VisualizeTab

    settings.setValue("dataset/last", "builtin:mnist")  # a returning user: the guide stays closed
    window = MainWindow([LiveTab, VisualizeTab, FiltersTab], settings)
    qtbot.addWidget(window, before_close_func=lambda w: w.findChild(LiveTab).runner.cancel())
    window.state.set_runs_dir(live_run.parent)
    window.show()
    tab, visualize = window.findChild(LiveTab), window.findChild(VisualizeTab)
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        window.show_tab("Live")
    assert not tab.view.network_button.isEnabled()  # nothing painted yet
    with qtbot.waitSignal(tab.runner.sig_finished, timeout=WAIT_MS):
        play(tab, clips[0])
    frame = tab._painted
    page = visualize.pages.network
    with qtbot.waitSignal(page.network_runner.sig_finished, timeout=WAIT_MS):
        tab.view.network_button.click()
    assert window.tabs.currentWidget() is visualize and visualize.pages.currentWidget() is page
    assert window.state.visualize.model == str(tab._source[0]) != ""
    shown = page.view.view()
    assert shown is not None and f"live frame {frame.index + 1}" in page.note.text()
    assert page.picker.current_item() is None and page.picker.item_spin.text() == "–"  # not "Image 0"
    assert np.array_equal(page._image[1].rgb, frame.rgb)
    assert shown.probabilities is not None and len(shown.probabilities) == len(CLASSES)
    assert shown.class_names == tab._model.classes


def test_the_model_the_tab_picks_itself_is_not_a_setting_changed(qtbot, data_dir, live_run) -> None:
    """Showing the tab loads a model by itself; that leaves the settings (and so a project) as
    they were, while the user's own choice is kept."""
    state = AppState()
    state.set_runs_dir(live_run.parent)
    tab = LiveTab(state)
    qtbot.addWidget(tab, before_close_func=lambda t: t.runner.cancel())
    changed = []
    state.live.events.model.connect(changed.append)
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.show()
    assert tab._model is not None and state.live.model == "" and changed == []
    with qtbot.waitSignal(tab.load_runner.sig_finished, timeout=WAIT_MS):
        tab.picker.choose("efficientnet-lite0", "imagenet")
    assert (state.live.model, state.live.weights) == ("efficientnet-lite0", "imagenet") and changed
