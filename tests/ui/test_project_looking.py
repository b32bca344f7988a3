"""Looking is not changing: tabs that pick a run or model by themselves when shown, and a
lesson played step by step, leave a project unmodified (no "save changes?" for a look)."""

from __future__ import annotations


from filterscope.ui.tabs.filters_tab import FiltersTab
from filterscope.ui.tabs.live_tab import LiveTab
from filterscope.ui.tabs.results_tab import ResultsTab
from filterscope.ui.tabs.train_tab import TrainTab
from filterscope.ui.tabs.visualize_tab import VisualizeTab

from tests.results_runs import copy_run
from tests.ui.test_projects import WAIT_MS, open_window, settle


def test_tabs_that_choose_a_run_themselves_leave_the_project_unmodified(qtbot, settings, data_dir, tmp_path,
                                                                         results_run) -> None:
    work = tmp_path / "work"
    run = copy_run(results_run, work / "runs" / "run-a")
    window = open_window(qtbot, settings, save=work / "look.fsproj")
    window.findChild(TrainTab).set_runs_folder(work / "runs")
    assert window.projects.save_as()
    for tab_type in (ResultsTab, VisualizeTab, LiveTab):
        tab = window.findChild(tab_type)
        with qtbot.waitSignal(tab.runs_runner.sig_finished, timeout=WAIT_MS):
            window.tabs.setCurrentWidget(tab)
        settle(qtbot, window)
        qtbot.wait(100)  # the modified check runs on a short timer
        assert not window.isWindowModified(), tab.title
    assert window.findChild(ResultsTab).run_dir() == run  # chosen, and shown
    settle(qtbot, window)


def test_stepping_through_a_lesson_leaves_the_project_unmodified(qtbot, settings, data_dir, tmp_path) -> None:
    window = open_window(qtbot, settings, save=tmp_path / "lesson.fsproj")
    assert window.projects.save_as()
    filters = window.findChild(FiltersTab)
    window.tabs.setCurrentWidget(filters)
    qtbot.waitUntil(lambda: filters.layer is not None, timeout=WAIT_MS)
    for _ in range(3):
        filters.steps.step_button.click()
    qtbot.wait(100)
    assert not window.isWindowModified()
    filters.settings.stride = 2  # the lesson itself: a change
    qtbot.waitUntil(window.isWindowModified)
    settle(qtbot, window)
